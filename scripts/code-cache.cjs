// Writes V8's code caches of the scripts bin/tsrun loads (see src/cli/boot.ts), taken after a
// warm-up so that they hold the compiled code of the functions the commands run, not only the
// top level:
//   node scripts/code-cache.cjs state       dist/tsrun-quick.state.cache: state, list
//   node scripts/code-cache.cjs lifecycle   dist/tsrun-quick.lifecycle.cache: start, kill, delete
//   node scripts/code-cache.cjs create      dist/tsrun-create.cache, dist/validate-config.cache:
//                                           create, run
//   node scripts/code-cache.cjs exec        dist/tsrun-exec.cache: exec
//   node scripts/code-cache.cjs full        dist/tsrun.cache: the other commands
// (V8 deserializes all of a cache, so each holds only the code its commands run.)
//
// The warm-up runs real tsrun commands in this process, against a temporary --root: commands on
// a missing container and on a stopped one made of a hand-written state.json, and `create` and
// `run` with the native addon made unloadable, so they validate the config and stop
// when they first need the addon (taking the container's lock), before touching cgroups or
// starting anything.
//
// Run by scripts/build.mjs with stdout and stderr ignored (the commands print their errors);
// problems of its own go to fd 3, and exit status 1 means no cache was written.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const dist = path.join(__dirname, '..', 'dist');

function report(message) {
  try {
    fs.writeSync(3, message + '\n');
  } catch {
    process.stderr.write(message + '\n');
  }
}

/** A stopped container: pid 0 is never alive, there are no cgroups and no hooks. */
function stoppedContainer(root, bundle, id) {
  fs.mkdirSync(path.join(root, id), { recursive: true, mode: 0o711 });
  fs.writeFileSync(path.join(root, id, 'lock'), '');
  const state = {
    ociVersion: '1.2.1',
    id,
    pid: 0,
    pidStartTime: 0,
    bundle,
    rootfs: path.join(bundle, 'rootfs'),
    created: new Date().toISOString(),
    owner: '',
    annotations: {},
  };
  fs.writeFileSync(path.join(root, id, 'state.json'), JSON.stringify(state));
}

async function warmUp(main, tmp, variant, fullMain) {
  const root = path.join(tmp, 'root');
  const bundle = path.join(tmp, 'bundle');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  const g = ['--root', root];
  const missing = 'warmup-missing';
  const stopped = 'warmup-stopped';
  stoppedContainer(root, bundle, stopped);

  if (variant === 'create') {
    await fullMain(['spec', '--bundle', bundle]);
    // Validation and everything before the addon (the lock), which cannot load here.
    process.env.TSRUN_NATIVE_DIR = path.join(tmp, 'no-native-addon');
    await main([...g, 'create', '--bundle', bundle, 'warmup-create']);
    await main([...g, 'run', '--bundle', bundle, 'warmup-run']);
    delete process.env.TSRUN_NATIVE_DIR;
  } else if (variant === 'exec') {
    for (const id of [missing, stopped]) await main([...g, 'exec', id, 'true']);
    await main([...g, 'exec', '--process', path.join(bundle, 'missing.json'), missing]);
  } else if (variant === 'state') {
    for (const id of [missing, stopped]) await main([...g, 'state', id]);
    await main([...g, 'list']);
  } else if (variant === 'lifecycle') {
    for (const id of [missing, stopped]) {
      await main([...g, 'start', id]);
      await main([...g, 'kill', id, 'KILL']);
    }
    await main([...g, 'delete', '--force', missing]);
    await main([...g, 'delete', missing]);
    await main([...g, 'delete', stopped]);
  } else {
    await main(['spec', '--bundle', bundle]);
    await main(['--version']);
    await main(['features']);
    await main(['ps', '--help']);
    await main([...g, 'ps', missing]);
  }
}

/** The script each variant warms up, and the cache files it writes. */
const VARIANTS = {
  state: { script: 'tsrun-quick', caches: ['tsrun-quick'] },
  lifecycle: { script: 'tsrun-quick', caches: ['tsrun-quick'] },
  create: { script: 'tsrun-create', caches: ['tsrun-create', 'validate-config'] },
  exec: { script: 'tsrun-exec', caches: ['tsrun-exec'] },
  full: { script: 'tsrun', caches: ['tsrun'] },
};

async function run(variant) {
  const v = VARIANTS[variant];
  if (!v) throw new Error(`usage: code-cache.cjs ${Object.keys(VARIANTS).join('|')}`);
  const boot = require(path.join(dist, 'boot.js'));
  boot.disableCodeCache();
  const mod = { exports: {} };
  boot.loadScript(v.script, mod);
  const fullMain = (argv) => (v.script === 'tsrun' ? mod : { exports: boot.loadScript('tsrun') }).exports.main(argv);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-code-cache-'));
  try {
    await warmUp(mod.exports.main, tmp, variant, fullMain);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  for (const name of v.caches) {
    const c = boot.compiled.get(name);
    if (!c || !c.buildId) throw new Error(`${name}.js was not loaded, or has no build id`);
    const data = Buffer.concat([Buffer.from(boot.cacheHeader(c.buildId), 'latin1'), c.script.createCachedData()]);
    // The quick script has a cache per variant; the others one each.
    const file = boot.cacheFile(name, name === 'tsrun-quick' ? variant : undefined);
    fs.writeFileSync(`${file}.tmp`, data);
    fs.renameSync(`${file}.tmp`, file);
  }
}

run(process.argv[2]).then(
  () => process.exit(0),
  (err) => {
    report(`code-cache: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
