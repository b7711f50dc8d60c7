// Build: (1) compile the config JSON Schema to standalone validator code with ajv, so no
// schema is ever compiled at start-up; (2) bundle and minify the CLI into dist/tsrun.js, with
// the validator as its own script (dist/validate-config.js), the bundles of some commands alone
// (dist/tsrun-quick.js, dist/tsrun-create.js, dist/tsrun-exec.js) and the launcher's entry
// dist/boot.js; (3) write V8 code caches for them (scripts/code-cache.cjs).
import { createHash } from 'node:crypto';
import { execSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function compileSchemas() {
  const Ajv = require('ajv').default;
  const standalone = require('ajv/dist/standalone').default;
  const schemaFile = join(root, 'src/spec/config.schema.json');
  const outDir = join(root, 'src/spec/generated');
  mkdirSync(outDir, { recursive: true });
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  const ajv = new Ajv({ code: { source: true, optimize: true }, allErrors: false, strict: false });
  const validate = ajv.compile(schema);
  writeFileSync(join(outDir, 'validate-config.js'), standalone(ajv, validate));
}

function gitCommit() {
  try {
    return execSync('git rev-parse HEAD', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

// Scripts a bundle requires from beside itself instead of containing them: the config validator
// (dist/validate-config.js), and the full bundle (dist/tsrun.js), which the smaller ones hand
// the commands they do not run.
const siblingScripts = {
  name: 'sibling-scripts',
  setup(build) {
    build.onResolve({ filter: /generated\/validate-config\.js$/ }, () => ({ path: './validate-config.js', external: true }));
    build.onResolve({ filter: /^\.\/tsrun\.js$/ }, () => ({ path: './tsrun.js', external: true }));
  },
};

/**
 * `import * as fs from 'fs'` compiles to a copy of all of fs's properties in every importing
 * module (esbuild's __toESM): ~4 ms per start for fs and path across the bundle. Instead each
 * such builtin becomes one shared module with its data properties as named exports, which
 * esbuild references directly. Accessor properties (fs.promises, fs.ReadStream...) load modules
 * when read, so they are left out; using one fails the build (import-is-undefined is an error).
 */
const directBuiltins = {
  name: 'direct-builtins',
  setup(build) {
    build.onResolve({ filter: /^(node:)?(fs|path|os|vm)$/ }, (args) =>
      args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const mod = require(args.path);
      const names = Object.getOwnPropertyNames(mod).filter(
        (k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default' && 'value' in Object.getOwnPropertyDescriptor(mod, k),
      );
      const lines = [`const m = require(${JSON.stringify(args.path)});`, 'export default m;', ...names.map((k) => `export const ${k} = m.${k};`)];
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};

/**
 * A script boot.ts loads is wrapped, on its first line, so that it works two ways: required as a
 * CommonJS module (library users, tests) it runs at once, with the arguments of Node's module
 * wrapper; compiled as a plain script by boot.ts (where `module` is no global) its value is the
 * module function, which boot calls. Boot then compiles the file's text as read, not a
 * concatenation V8 would first copy flat (a young-generation string as large as the bundle).
 */
const MODULE_HEAD =
  '(function (run) { return typeof module === "object" ? run(exports, require, module, __filename, __dirname) : run; })' +
  '(function (exports, require, module, __filename, __dirname) {';
const MODULE_TAIL = '\n});\n';

/**
 * Write an esbuild output with a build id (a hash of its text) as its first comment: a code
 * cache is used only with the script it was made from (see src/cli/boot.ts).
 */
function writeWithBuildId(result, { loadedByBoot }) {
  for (const out of result.outputFiles) {
    const id = createHash('sha256').update(out.contents).digest('hex').slice(0, 16);
    const text = loadedByBoot ? MODULE_HEAD + out.text + MODULE_TAIL : out.text;
    writeFileSync(out.path, `/*build:${id}*/${text}`);
  }
}

async function bundle() {
  const esbuild = require('esbuild');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const common = {
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    legalComments: 'none',
    write: false,
    logOverride: { 'import-is-undefined': 'error' },
  };
  const define = { __TSRUN_VERSION__: JSON.stringify(pkg.version), __TSRUN_COMMIT__: JSON.stringify(gitCommit()) };
  // The CLI's entries: every command (and the library), the small commands, create and run, exec.
  const cliEntries = [
    ['src/cli/main.ts', 'dist/tsrun.js'],
    ['src/cli/entry-quick.ts', 'dist/tsrun-quick.js'],
    ['src/cli/entry-create.ts', 'dist/tsrun-create.js'],
    ['src/cli/entry-exec.ts', 'dist/tsrun-exec.js'],
  ];
  const results = await Promise.all([
    ...cliEntries.map(([entry, out]) =>
      esbuild.build({ ...common, entryPoints: [join(root, entry)], outfile: join(root, out), plugins: [siblingScripts, directBuiltins], define }),
    ),
    esbuild.build({ ...common, entryPoints: [join(root, 'src/spec/generated/validate-config.js')], outfile: join(root, 'dist/validate-config.js') }),
    esbuild.build({ ...common, entryPoints: [join(root, 'src/cli/boot.ts')], outfile: join(root, 'dist/boot.js'), plugins: [directBuiltins] }),
  ]);
  mkdirSync(join(root, 'dist'), { recursive: true });
  // The last one is boot.js itself, which Node runs as its main module.
  results.forEach((result, i) => writeWithBuildId(result, { loadedByBoot: i < results.length - 1 }));
}

/** A failed cache is no failed build: the launcher compiles from source without one. */
function writeCodeCaches() {
  for (const name of ['tsrun', 'tsrun-quick.state', 'tsrun-quick.lifecycle', 'tsrun-create', 'tsrun-exec', 'validate-config']) rmSync(join(root, `dist/${name}.cache`), { force: true });
  const env = { ...process.env };
  // The same V8 flags as bin/tsrun gives Node, or V8 rejects the cache.
  delete env.NODE_OPTIONS;
  for (const variant of ['state', 'lifecycle', 'create', 'exec', 'full']) {
    // Its warm-up commands print their (expected) errors: only fd 3 carries its own messages.
    const r = spawnSync(process.execPath, [join(root, 'scripts/code-cache.cjs'), variant], { env, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    const why = r.output?.[3]?.toString().trim();
    if (r.status !== 0) {
      const detail = why || `scripts/code-cache.cjs exited with ${r.status ?? r.signal} (run \`node scripts/code-cache.cjs ${variant}\` to see why)`;
      console.error(`build: no ${variant} code cache, tsrun starts slower: ${detail}`);
    }
  }
}

if (existsSync(join(root, 'src/spec/config.schema.json'))) compileSchemas();
await bundle();
writeCodeCaches();
