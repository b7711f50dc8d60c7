// Jest transformer: strip types with esbuild (no type-checking here; `npm run typecheck` does that).
const { transformSync } = require('esbuild');
module.exports = {
  process(source, filename) {
    const out = transformSync(source, { loader: 'ts', format: 'cjs', target: 'node20', sourcemap: 'inline', sourcefile: filename });
    return { code: out.code };
  },
};
