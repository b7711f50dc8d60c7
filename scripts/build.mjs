// Build: (1) compile the config JSON Schema to standalone validator code with ajv, so no
// schema is ever compiled at start-up; (2) bundle and minify the CLI into one file.
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
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

async function bundle() {
  const esbuild = require('esbuild');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  await esbuild.build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: join(root, 'dist/tsrun.js'),
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    legalComments: 'none',
    define: {
      __TSRUN_VERSION__: JSON.stringify(pkg.version),
      __TSRUN_COMMIT__: JSON.stringify(gitCommit()),
    },
  });
}

if (existsSync(join(root, 'src/spec/config.schema.json'))) compileSchemas();
await bundle();
