// Writes V8's code caches of the scripts bin/tsrun loads (see src/cli/boot.ts), taken after a
// warm-up so that they hold the compiled code of the functions the commands run, not only the
// top level:
//   node scripts/code-cache.cjs state       dist/tsrun-quick.state.cache, after state and list only
//   node scripts/code-cache.cjs lifecycle   dist/tsrun-quick.lifecycle.cache, after start, kill, delete
//   node scripts/code-cache.cjs full        dist/tsrun.cache and dist/validate-config.cache, after all
// (V8 deserializes all of a cache, so the quick commands get caches without the others' code.)
//
// The warm-up runs real tsrun commands in this process, against a temporary --root: commands on
// a missing container, `spec`, a stopped container made of a hand-written state.json (`state`,
// `list`, `kill`, `delete`), and `create`/`run` of the default spec with the native addon made
// unloadable, so they validate the config and stop when they first need the addon (taking the
// container's lock), before touching cgroups or starting anything.
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

async function warmUp(main, tmp, variant) {
  const full = variant === 'full';
  const withLifecycle = variant !== 'state';
  const withState = variant !== 'lifecycle';
  const root = path.join(tmp, 'root');
  const bundle = path.join(tmp, 'bundle');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  const g = ['--root', root];
  const missing = 'warmup-missing';

  if (full) {
    // Validation and everything before the addon; the binding is cached once loaded, so this
    // comes first, while the addon cannot load.
    process.env.TSRUN_NATIVE_DIR = path.join(tmp, 'no-native-addon');
    await main(['spec', '--bundle', bundle]);
    await main([...g, 'create', '--bundle', bundle, 'warmup-create']);
    await main([...g, 'run', '--bundle', bundle, 'warmup-run']);
    delete process.env.TSRUN_NATIVE_DIR;
    await main(['--version']);
  }
  const onMissing = [...(withState ? [['state']] : []), ...(withLifecycle ? [['start'], ['kill'], ['delete'], ['delete', '--force']] : [])];
  for (const cmd of onMissing) await main([...g, ...cmd, missing]);

  // A stopped container: pid 0 is never alive, there are no cgroups and no hooks.
  const id = 'warmup-stopped';
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
  if (withState) {
    await main([...g, 'state', id]);
    await main([...g, 'list']);
  }
  if (withLifecycle) {
    await main([...g, 'start', id]);
    await main([...g, 'kill', id, 'KILL']);
    await main([...g, 'delete', id]);
  }
}

async function run(variant) {
  if (!['state', 'lifecycle', 'full'].includes(variant)) throw new Error('usage: code-cache.cjs state|lifecycle|full');
  const boot = require(path.join(dist, 'boot.js'));
  boot.disableCodeCache();
  const mod = { exports: {} };
  const script = variant === 'full' ? 'tsrun' : 'tsrun-quick';
  boot.loadScript(script, mod);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-code-cache-'));
  try {
    await warmUp(mod.exports.main, tmp, variant);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  for (const name of variant === 'full' ? ['tsrun', 'validate-config'] : [script]) {
    const c = boot.compiled.get(name);
    if (!c || !c.buildId) throw new Error(`${name}.js was not loaded, or has no build id`);
    const data = Buffer.concat([Buffer.from(boot.cacheHeader(c.buildId), 'latin1'), c.script.createCachedData()]);
    const file = boot.cacheFile(name, variant === 'full' ? undefined : variant);
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
