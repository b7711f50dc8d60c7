/**
 * For tests: bundle the CLI like scripts/build.mjs does, into a private directory, so tests
 * neither depend on nor disturb a dist/ that others rebuild. Modules that have not landed yet
 * are left external (they fail only when their command runs).
 */
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.join(__dirname, '..', '..');

export async function bundleCli(outDir: string, commit = 'test-commit'): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const esbuild = require('esbuild') as typeof import('esbuild');
  const outfile = path.join(outDir, 'tsrun.js');
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  await esbuild.build({
    entryPoints: [path.join(REPO, 'src/cli/main.ts')],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'silent',
    define: { __TSRUN_VERSION__: JSON.stringify(pkg.version), __TSRUN_COMMIT__: JSON.stringify(commit) },
    plugins: [
      {
        name: 'missing-as-external',
        setup(build) {
          build.onResolve({ filter: /^\.\.?\// }, (args) => {
            const base = path.resolve(args.resolveDir, args.path);
            const found = ['.ts', '.js', '/index.ts', ''].some((ext) => fs.existsSync(base + ext) && fs.statSync(base + ext).isFile());
            return found ? undefined : { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return outfile;
}

/**
 * For tests that need another process running repository code: bundle `source` (TypeScript that
 * may import repository modules by absolute path) into outDir and return the script's path.
 */
export async function bundleScript(source: string, outDir: string, name: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const esbuild = require('esbuild') as typeof import('esbuild');
  const entry = path.join(outDir, `${name}.ts`);
  const outfile = path.join(outDir, `${name}.js`);
  fs.writeFileSync(entry, source);
  await esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'silent' });
  return outfile;
}

/** Absolute path of a repository file, for imports in bundleScript sources. */
export function repoPath(rel: string): string {
  return path.join(REPO, rel);
}
