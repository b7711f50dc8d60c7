/**
 * What bin/tsrun runs (bundled to dist/boot.js): a bundle compiled from V8's code cache, written
 * at build time after a warm-up by scripts/code-cache.cjs, so a command neither parses the
 * bundle nor compiles the functions it runs. Reading, deserializing and initialising a bundle
 * cost in proportion to its size, so commands run from bundles of just their code: state, list,
 * start, kill and delete from dist/tsrun-quick.js (caches tsrun-quick.state.cache: state, list;
 * tsrun-quick.lifecycle.cache: start, kill, delete), create and run from dist/tsrun-create.js,
 * exec from dist/tsrun-exec.js, the others from dist/tsrun.js. The config validator
 * (dist/validate-config.js) is a separate script with its own cache, loaded only by the
 * commands that read a config.
 *
 * A cache that does not fit (missing, made by another Node or for another build) is ignored and
 * the script is compiled the ordinary way. Library users keep requiring dist/tsrun.js directly.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';

/** A cache file is this header (magic and the build id of its script), then V8's data. */
const MAGIC = 'tsrun-code-cache-1 ';
const VALIDATOR_REQUEST = './validate-config.js';

export type CacheUse = 'accepted' | 'rejected' | 'absent';

export interface CompiledScript {
  script: vm.Script;
  /** The build id of the script's source (its first comment, added by scripts/build.mjs). */
  buildId: string | undefined;
  cache: CacheUse;
}

/** Every script this process compiled, by name; scripts/code-cache.cjs reads them back. */
export const compiled = new Map<string, CompiledScript>();

const options = { useCodeCache: true };
/** The cache writer compiles from source, so it caches what it compiles itself. */
export function disableCodeCache(): void {
  options.useCodeCache = false;
}

const trace = process.env.TSRUN_TRACE === '1';

/** The script (and cache variant) of the commands that do not run from dist/tsrun.js. */
export const ENTRY: Record<string, { script: string; variant?: string }> = {
  state: { script: 'tsrun-quick', variant: 'state' },
  list: { script: 'tsrun-quick', variant: 'state' },
  start: { script: 'tsrun-quick', variant: 'lifecycle' },
  kill: { script: 'tsrun-quick', variant: 'lifecycle' },
  delete: { script: 'tsrun-quick', variant: 'lifecycle' },
  create: { script: 'tsrun-create' },
  run: { script: 'tsrun-create' },
  exec: { script: 'tsrun-exec' },
};
const FULL_REQUEST = './tsrun.js';
// Global flags that take a value (src/cli/commands.ts), to find the command word in argv.
const GLOBAL_FLAGS_WITH_VALUE = ['--log', '--log-format', '--root', '--rootless', '-log', '-log-format', '-root', '-rootless'];

/** The command word of a tsrun command line, or undefined. Only picks a cache: a wrong guess just costs time. */
export function commandOf(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) return a;
    if (GLOBAL_FLAGS_WITH_VALUE.includes(a)) i++;
  }
  return undefined;
}

/** `variant` names a cache of the same script made by another warm-up (tsrun-quick.state.cache). */
export function cacheFile(name: string, variant?: string): string {
  return path.join(__dirname, variant ? `${name}.${variant}.cache` : `${name}.cache`);
}

function buildIdOf(source: string): string | undefined {
  return /^\/\*build:(\w+)\*\//.exec(source)?.[1];
}

export function cacheHeader(buildId: string): string {
  return `${MAGIC}${buildId}\n`;
}

/** The whole file; open, fstat and one read (readFileSync of a Buffer costs more here). */
function readWhole(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const data = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, data, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return data.subarray(0, off);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function readCache(name: string, variant: string | undefined, buildId: string): Buffer | undefined {
  const data = readWhole(cacheFile(name, variant));
  if (!data) return undefined;
  // V8 checks its version and flags but, of the source, only the length: the build id ties
  // the cache to this exact script.
  const header = cacheHeader(buildId);
  if (data.length <= header.length || data.toString('latin1', 0, header.length) !== header) return undefined;
  return data.subarray(header.length);
}

/** Load dist/<name>.js as a CommonJS module, compiled from its code cache when one fits. */
export function loadScript(name: string, mod: { exports: unknown } = { exports: {} }, variant?: string): unknown {
  const started = trace ? process.uptime() * 1000 : 0;
  const startedCpu = trace ? process.cpuUsage() : undefined;
  const file = path.join(__dirname, `${name}.js`);
  const source = fs.readFileSync(file, 'utf8');
  const buildId = buildIdOf(source);
  const cachedData = options.useCodeCache && buildId ? readCache(name, variant, buildId) : undefined;
  // The build wrapped the bundle's code in a module function (scripts/build.mjs), which is the
  // script's value here.
  const script = new vm.Script(source, { filename: file, cachedData });
  const cache: CacheUse = !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  compiled.set(name, { script, buildId, cache });
  (script.runInThisContext() as Function)(mod.exports, bundleRequire, mod, file, __dirname);
  if (trace) {
    const now = process.uptime() * 1000;
    const cpu = process.cpuUsage(startedCpu);
    const cpuMs = ((cpu.user + cpu.system) / 1000).toFixed(2).padStart(6);
    const what = `${name}.js${variant ? ` (${variant} cache)` : ''}, code cache ${cache}`;
    // For tsrun.js this includes the command itself, up to its first await.
    fs.writeSync(2, `trace: ${(now - started).toFixed(2).padStart(7)} ms (cpu ${cpuMs})  load and run ${what}  (at ${now.toFixed(1)} ms)\n`);
  }
  return mod.exports;
}

// The bundle's require: the validator comes through loadScript (and its cache), anything else
// from Node. Carries require's properties, so the bundle's `require.main === module` holds.
let validator: unknown;
let full: unknown;
const bundleRequire: NodeJS.Require = Object.assign(
  (request: string): unknown => {
    if (request === VALIDATOR_REQUEST) return (validator ??= loadScript('validate-config'));
    if (request === FULL_REQUEST) return (full ??= loadScript('tsrun'));
    return require(request);
  },
  require,
);

if (require.main === module) {
  if (trace) {
    fs.writeSync(2, `trace: ${(process.uptime() * 1000).toFixed(2).padStart(7)} ms  Node boot, until boot.js runs\n`);
    process.once('exit', () => fs.writeSync(2, `trace: exit at ${(process.uptime() * 1000).toFixed(1)} ms\n`));
  }
  const argv = process.argv.slice(2);
  const command = commandOf(argv);
  // Not this module: the bundle's own `require.main === module` start stays off, and we start it.
  const bundle = { exports: {} as { main(argv: string[]): Promise<number>; exitProcess?(status: number): never } };
  const entry = command && Object.hasOwn(ENTRY, command) ? ENTRY[command] : { script: 'tsrun' };
  loadScript(entry.script, bundle, entry.variant);
  // Exit as soon as the command is done (all output is written synchronously): Node's orderly
  // teardown after the event loop drains (freeing the environment, pending GC tasks) cost 5% of
  // `state` and 8% of `create`.
  const exit = bundle.exports.exitProcess ?? process.exit;
  bundle.exports.main(argv).then(
    (status) => exit(status),
    () => exit(1),
  );
}
