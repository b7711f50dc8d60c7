/**
 * OCI hooks on a real container: each hook records the state it got on stdin, its mount
 * namespace, argv and environment, so the test can check where and when it ran (runtime-spec
 * config.md "POSIX-platform Hooks": prestart, createRuntime, poststart, poststop in the runtime
 * namespace; createContainer in the container's mount namespace before pivot_root, its path
 * resolved in the runtime namespace; startContainer in the container, path resolved there).
 * Failures: timeouts, failing hooks, hooks that do not read stdin.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Hook, Spec } from '../../src/spec/types';
import { Sandbox } from '../harness';
import { leftovers, NOTHING_LEFT } from '../rootfs/util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('hooks');
  process.env.TSRUN_SPEC_LEAK = '1'; // in tsrun's environment; hooks with an env must not see it
});
afterAll(() => box.cleanup());

/** Records what a hook sees into <out>/<name>.*; works with the host's sh and busybox sh. */
const RECORDER = `#!/bin/sh
name=$1; out=$2
cat > "$out/$name.json"
readlink /proc/self/ns/mnt > "$out/$name.mnt"
# the shell's pid as this procfs numbers it (the hook may be in another pid namespace than /proc)
tr '\\0' ' ' < /proc/$(cut -d' ' -f4 /proc/self/stat)/cmdline > "$out/$name.argv"
env > "$out/$name.env"
if [ -e "$3" ]; then echo yes; else echo no; fi > "$out/$name.sees-bundle"
echo "$name" >> "$out/order"
`;

interface Recorded {
  state: { ociVersion: string; id: string; status: string; pid: number; bundle: string; annotations?: Record<string, string> };
  mnt: string;
  argv: string;
  env: string;
  seesBundle: boolean;
}

function read(out: string, name: string): Recorded | undefined {
  const f = (ext: string) => fs.readFileSync(path.join(out, `${name}.${ext}`), 'utf8');
  if (!fs.existsSync(path.join(out, `${name}.json`))) return undefined;
  return { state: JSON.parse(f('json')), mnt: f('mnt').trim(), argv: f('argv').trim(), env: f('env'), seesBundle: f('sees-bundle').trim() === 'yes' };
}

/**
 * A bundle whose hooks all record. Host hooks run the recorder from the sandbox dir with the
 * host's /bin/sh; startContainer runs the copy inside the rootfs, writing to /out (a bind of the
 * same directory).
 */
function recordingBundle(edit: (s: Spec, hook: (name: string, extra?: Partial<Hook>) => Hook) => void = () => {}) {
  const out = fs.mkdtempSync(path.join(box.dir, 'out-'));
  fs.chmodSync(out, 0o777);
  const recorder = path.join(box.dir, 'recorder.sh');
  fs.writeFileSync(recorder, RECORDER, { mode: 0o755 });
  // a host path: visible to hooks in the runtime's view, not after pivot_root
  const hostOnly = box.dir;
  const bundleDir = box.bundle((s) => {
    const hook = (name: string, extra: Partial<Hook> = {}): Hook =>
      name === 'startContainer'
        ? // busybox picks its applet by argv[0], so "sh" here shows argv[0] is passed as given
          { path: '/bin/sh', args: ['sh', '/recorder.sh', name, '/out', '/nonexistent-in-container'], env: ['HOOKVAR=start'], ...extra }
        : { path: '/bin/sh', args: ['hook-argv0', recorder, name, out, hostOnly], env: ['HOOKVAR=' + name, 'PATH=/usr/bin:/bin'], ...extra };
    s.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['bind'] });
    s.annotations = { 'org.example.key': 'value' };
    s.process!.args = ['sh', '-c', 'echo "process" >> /out/order; sleep 0.2'];
    s.hooks = {
      prestart: [hook('prestart')],
      createRuntime: [hook('createRuntime')],
      createContainer: [hook('createContainer')],
      startContainer: [hook('startContainer')],
      poststart: [hook('poststart')],
      poststop: [hook('poststop')],
    };
    edit(s, hook);
  });
  fs.copyFileSync(recorder, path.join(bundleDir, 'rootfs', 'recorder.sh'));
  fs.chmodSync(path.join(bundleDir, 'rootfs', 'recorder.sh'), 0o755);
  return { bundleDir, out };
}

const hostMnt = fs.readlinkSync('/proc/self/ns/mnt');

describe('all six hooks on create, start, delete', () => {
  let out: string;
  let bundleDir: string;
  let id: string;
  let initPid: number;
  let containerMnt: string;
  let recorded: Record<string, Recorded | undefined>;

  beforeAll(() => {
    ({ out, bundleDir } = recordingBundle());
    id = box.id();
    const c = box.create(bundleDir, id);
    if (c.result.status !== 0) throw new Error(`create: ${c.result.stderr}`);
    initPid = box.state(id).pid;
    containerMnt = fs.readlinkSync(`/proc/${initPid}/ns/mnt`);
    expect(box.tsrun(['start', id]).status).toBe(0);
    box.waitStatus(id, 'stopped');
    const del = box.tsrun(['delete', id]);
    expect(del.stderr).toBe('');
    expect(del.status).toBe(0);
    recorded = Object.fromEntries(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].map((n) => [n, read(out, n)]));
  });

  test('every hook ran once, in the lifecycle order', () => {
    const order = fs.readFileSync(path.join(out, 'order'), 'utf8').trim().split('\n');
    expect(order).toHaveLength(7);
    expect(order.slice(0, 4)).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer']);
    expect(order.slice(-1)).toEqual(['poststop']);
    // the process and poststart come after startContainer, in either order (see the poststart test)
    expect(order.slice(4, 6).sort()).toEqual(['poststart', 'process']);
  });

  test.each([
    ['prestart', 'created'],
    ['createRuntime', 'created'],
    ['createContainer', 'created'],
    ['startContainer', 'created'],
    ['poststart', 'running'],
    ['poststop', 'stopped'],
  ])('%s gets the state on stdin with status %s', (name, status) => {
    const st = recorded[name]!.state;
    expect(st).toMatchObject({ id, status, bundle: bundleDir, annotations: { 'org.example.key': 'value' } });
    expect(st.ociVersion).toMatch(/^1\./);
    if (status !== 'stopped') expect(st.pid).toBe(initPid);
  });

  test('prestart, createRuntime, poststart, poststop run in the runtime (host) mount namespace', () => {
    expect(containerMnt).not.toBe(hostMnt);
    for (const n of ['prestart', 'createRuntime', 'poststart', 'poststop']) {
      expect([n, recorded[n]!.mnt]).toEqual([n, hostMnt]);
      expect([n, recorded[n]!.seesBundle]).toEqual([n, true]);
    }
  });

  test('createContainer runs in the container mount namespace, before pivot_root (host paths visible)', () => {
    expect(recorded.createContainer!.mnt).toBe(containerMnt);
    expect(recorded.createContainer!.seesBundle).toBe(true);
  });

  test('startContainer runs in the container mount namespace, after pivot_root, its path resolved in the rootfs', () => {
    expect(recorded.startContainer!.mnt).toBe(containerMnt);
    expect(recorded.startContainer!.seesBundle).toBe(false);
    // /recorder.sh exists only in the rootfs: the path was resolved inside
    expect(recorded.startContainer!.argv).toContain('/recorder.sh');
  });

  test('args (argv[0] included) and env are passed as configured, nothing else inherited', () => {
    for (const n of ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop']) {
      const r = recorded[n]!;
      expect(r.argv).toMatch(new RegExp(`^hook-argv0 \\S+/recorder.sh ${n} `));
      expect(r.env).toContain(`HOOKVAR=${n}\n`);
      expect(r.env).not.toContain('TSRUN_SPEC_LEAK');
    }
    expect(recorded.startContainer!.argv).toBe('sh /recorder.sh startContainer /out /nonexistent-in-container');
    expect(recorded.startContainer!.env).toContain('HOOKVAR=start\n');
  });

  test('nothing is left after delete', () => {
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });
});

// The init runs startContainer hooks after exec.fifo is read; the runtime-spec puts poststart
// after the process is executed, so `start` waits for the init's exec before running it.
test('poststart runs after the container process has started (after the startContainer hooks)', () => {
  // a slow startContainer hook: poststart must still come after it
  const { bundleDir, out } = recordingBundle((s, hook) => {
    const start = hook('startContainer');
    s.hooks!.startContainer = [{ path: '/bin/sh', args: ['sh', '-c', `sleep 0.5; exec ${start.args!.slice(1).join(' ')}`] }];
  });
  const id = box.id();
  expect(box.create(bundleDir, id).result.status).toBe(0);
  expect(box.tsrun(['start', id]).status).toBe(0);
  box.waitStatus(id, 'stopped');
  box.tsrun(['delete', id]);
  const order = fs.readFileSync(path.join(out, 'order'), 'utf8').trim().split('\n');
  expect(order.indexOf('startContainer')).toBeLessThan(order.indexOf('poststart'));
});

describe('hooks that fail', () => {
  const failing = (extra: Partial<Hook> = {}): Hook => ({ path: '/bin/sh', args: ['sh', '-c', 'echo hook-says-no >&2; exit 3'], ...extra });

  test.each(['prestart', 'createRuntime', 'createContainer'] as const)('a failing %s hook fails create and leaves nothing', (kind) => {
    const { bundleDir, out } = recordingBundle((s) => {
      s.hooks![kind] = [failing()];
    });
    const id = box.id();
    const c = box.create(bundleDir, id);
    expect(c.result.status).not.toBe(0);
    expect(c.result.stderr).toContain(`${kind} hook #0`);
    expect(c.result.stderr).toMatch(/exit status 3/);
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
    // later hooks never ran; poststop did not run for a container that never existed
    const order = fs.existsSync(path.join(out, 'order')) ? fs.readFileSync(path.join(out, 'order'), 'utf8') : '';
    expect(order).not.toContain('startContainer');
    expect(order).not.toContain('process');
  });

  test('a hook whose binary does not exist fails create with its path', () => {
    const { bundleDir } = recordingBundle((s) => {
      s.hooks!.createRuntime = [{ path: '/no/such/hook' }];
    });
    const id = box.id();
    const c = box.create(bundleDir, id);
    expect(c.result.status).not.toBe(0);
    expect(c.result.stderr).toContain('/no/such/hook');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a failing poststart hook is a warning: start succeeds and the container runs', () => {
    const { bundleDir, out } = recordingBundle((s) => {
      s.hooks!.poststart = [failing(), s.hooks!.poststart![0]];
      s.process!.args = ['sh', '-c', 'echo process >> /out/order; sleep 30'];
    });
    const id = box.id();
    expect(box.create(bundleDir, id).result.status).toBe(0);
    const r = box.tsrun(['start', id]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/poststart hook #0.*exit status 3/);
    expect(box.state(id).status).toBe('running');
    // the hooks after the failing one still ran
    expect(read(out, 'poststart')).toBeDefined();
    expect(box.tsrun(['delete', '--force', id]).status).toBe(0);
  });

  test('a failing poststop hook is a warning: delete succeeds and removes everything', () => {
    const { bundleDir, out } = recordingBundle((s) => {
      s.hooks!.poststop = [failing(), s.hooks!.poststop![0]];
    });
    const id = box.id();
    expect(box.create(bundleDir, id).result.status).toBe(0);
    expect(box.tsrun(['start', id]).status).toBe(0);
    box.waitStatus(id, 'stopped');
    const r = box.tsrun(['delete', id]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/poststop hook #0.*exit status 3/);
    expect(read(out, 'poststop')).toBeDefined();
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a failing startContainer hook: the process never runs, the container stops', () => {
    const { bundleDir, out } = recordingBundle((s) => {
      s.hooks!.startContainer = [{ path: '/bin/false' }];
    });
    const id = box.id();
    expect(box.create(bundleDir, id).result.status).toBe(0);
    box.tsrun(['start', id]);
    box.waitStatus(id, 'stopped');
    expect(fs.readFileSync(path.join(out, 'order'), 'utf8')).not.toContain('process');
    expect(box.tsrun(['delete', id]).status).toBe(0);
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });
});

test('hooks that leave a daemon holding their stderr do not hold up create, start or delete', () => {
  const pids = path.join(box.dir, 'daemon-pids');
  const daemon = (): Hook => ({ path: '/bin/sh', args: ['sh', '-c', `sleep 20 >/dev/null & echo $! >> ${pids}; exit 0`] });
  const { bundleDir } = recordingBundle((s) => {
    s.hooks = { prestart: [daemon()], createRuntime: [daemon()], poststart: [daemon()], poststop: [daemon()] };
  });
  const id = box.id();
  try {
    const t0 = Date.now();
    expect(box.create(bundleDir, id).result.stderr).toBe('');
    expect(box.tsrun(['start', id]).status).toBe(0);
    box.waitStatus(id, 'stopped');
    expect(box.tsrun(['delete', id]).status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10000);
  } finally {
    for (const pid of fs.readFileSync(pids, 'utf8').trim().split('\n').map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});

test("a failing hook's stderr is in the error", () => {
  const { bundleDir } = recordingBundle((s) => {
    s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo first line >&2; echo the reason >&2; exit 4'] }] };
  });
  const c = box.create(bundleDir, box.id());
  expect(c.result.stderr).toMatch(/createRuntime hook #0 \(\/bin\/sh\) failed: exit status 4, stderr: first line\s+the reason/);
});

describe('timeouts', () => {
  const sleeper = (seconds: number, timeout: number): Hook => ({ path: '/bin/sleep', args: ['sleep', String(seconds)], timeout });

  test.each(['prestart', 'createRuntime', 'createContainer'] as const)('a %s hook past its timeout fails create and leaves nothing', (kind) => {
    const { bundleDir } = recordingBundle((s) => {
      s.hooks![kind] = [sleeper(30, 1)];
    });
    const id = box.id();
    const t0 = Date.now();
    const c = box.create(bundleDir, id);
    expect(Date.now() - t0).toBeLessThan(10000);
    expect(c.result.status).not.toBe(0);
    expect(c.result.stderr).toContain(`${kind} hook #0 (/bin/sleep) timed out after 1s`);
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a hook within its timeout is fine', () => {
    const { bundleDir } = recordingBundle((s) => {
      s.hooks!.createRuntime = [sleeper(0.2, 5)];
      s.hooks!.createContainer = [sleeper(0.2, 5)];
    });
    const id = box.id();
    expect(box.create(bundleDir, id).result.stderr).toBe('');
    box.tsrun(['delete', '--force', id]);
  });
});

describe('hooks that do not read their stdin (1 MiB of annotations)', () => {
  const big = { big: 'x'.repeat(1 << 20) };
  /** waitStatus for a state larger than spawnSync's default 1 MiB buffer */
  function waitStoppedBig(id: string) {
    for (const end = Date.now() + 10000; Date.now() < end; ) {
      const r = box.tsrun(['state', id], { maxBuffer: 64 << 20 });
      if (r.status === 0 && JSON.parse(r.stdout).status === 'stopped') return;
    }
    throw new Error(`${id} never stopped`);
  }

  test('every kind of hook may exit without reading: no SIGPIPE, the container runs and is deleted', () => {
    const { bundleDir, out } = recordingBundle((s) => {
      s.annotations = big;
      const quit: Hook = { path: '/bin/true' };
      s.hooks = { prestart: [quit], createRuntime: [quit], createContainer: [quit], startContainer: [quit], poststart: [quit], poststop: [quit] };
    });
    const id = box.id();
    const c = box.create(bundleDir, id);
    expect(c.result.stderr).toBe('');
    expect(c.result.status).toBe(0);
    const start = box.tsrun(['start', id]);
    expect(start.stderr).toBe('');
    expect(start.status).toBe(0);
    waitStoppedBig(id);
    expect(fs.readFileSync(path.join(out, 'order'), 'utf8')).toContain('process');
    const del = box.tsrun(['delete', id]);
    expect(del.stderr).toBe('');
    expect(del.status).toBe(0);
  });

  test('hooks that read the whole state get all of it', () => {
    const { bundleDir, out } = recordingBundle((s) => {
      s.annotations = big;
      s.hooks = { createRuntime: s.hooks!.createRuntime, createContainer: s.hooks!.createContainer };
    });
    const id = box.id();
    expect(box.create(bundleDir, id).result.status).toBe(0);
    expect(read(out, 'createRuntime')!.state.annotations!.big).toHaveLength(1 << 20);
    expect(read(out, 'createContainer')!.state.annotations!.big).toHaveLength(1 << 20);
    box.tsrun(['delete', '--force', id]);
  });

  test.each(['createRuntime', 'createContainer'] as const)('a %s hook that neither reads nor exits still meets its timeout', (kind) => {
    const { bundleDir } = recordingBundle((s) => {
      s.annotations = big;
      s.hooks = { [kind]: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
    });
    const id = box.id();
    const t0 = Date.now();
    const c = box.create(bundleDir, id);
    expect(Date.now() - t0).toBeLessThan(10000);
    expect(c.result.stderr).toContain('timed out after 1s');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });
});
