/**
 * Failed creates leave nothing behind: no state (tsrun list), no process (container cgroup
 * members or a tsrun-init holding the state dir), no cgroup directory, no host mount. And a tsrun
 * killed with SIGKILL in the middle of create leaves what `delete --force` removes completely.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CLI, Sandbox } from '../harness';
import { leftovers, NOTHING_LEFT, processAlive } from '../rootfs/util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('failures');
});
afterAll(() => box.cleanup());

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitFor(what: string, cond: () => boolean, timeoutMs = 10000): void {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    sleepMs(20);
  }
}

test('the leftover check sees a live container (control)', () => {
  const id = box.id();
  const b = box.bundle((s) => {
    s.process!.args = ['sleep', '30'];
  });
  expect(box.create(b, id).result.status).toBe(0);
  const cgroupPaths = JSON.parse(fs.readFileSync(path.join(box.root, id, 'state.json'), 'utf8')).cgroupPaths;
  const live = leftovers(box, id, cgroupPaths) as Record<string, unknown[] | boolean>;
  expect(live.listed).toHaveLength(1);
  expect(live.stateDir).toBe(true);
  expect((live.pids as number[]).length).toBeGreaterThan(0);
  expect((live.inits as number[]).length).toBe(1);
  expect((live.cgroups as string[]).length).toBeGreaterThan(0);
  expect(box.tsrun(['delete', '--force', id]).status).toBe(0);
  expect(leftovers(box, id, cgroupPaths)).toEqual(NOTHING_LEFT);
});

describe('create fails cleanly', () => {
  function createWithConfig(config: string | ((c: Record<string, any>) => void), prepare: (bundle: string) => void = () => {}) {
    const b = box.bundle();
    const file = path.join(b, 'config.json');
    if (typeof config === 'string') fs.writeFileSync(file, config);
    else {
      const c = JSON.parse(fs.readFileSync(file, 'utf8'));
      config(c);
      fs.writeFileSync(file, JSON.stringify(c));
    }
    prepare(b);
    const id = box.id();
    return { id, r: box.create(b, id).result };
  }

  test.each([
    ['invalid JSON', '{"ociVersion": "1.0.2", "process": ', /config\.json/],
    ['a JSON array', '[]', /config\.json/],
    ['an empty file', '', /config\.json/],
  ])('%s in config.json', (_, text, message) => {
    const { id, r } = createWithConfig(text);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a schema error names the field', () => {
    const { id, r } = createWithConfig((c) => {
      c.process.args = 'not-an-array';
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('process.args');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a missing config.json', () => {
    const { id, r } = createWithConfig('{}', (b) => fs.unlinkSync(path.join(b, 'config.json')));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/config\.json/);
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a missing rootfs', () => {
    const { id, r } = createWithConfig(() => {}, (b) => fs.rmSync(path.join(b, 'rootfs'), { recursive: true }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('rootfs');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a missing binary', () => {
    const { id, r } = createWithConfig((c) => {
      c.process.args = ['/no/such/binary'];
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/no/such/binary');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a binary that is not executable', () => {
    const { id, r } = createWithConfig(
      (c) => {
        c.process.args = ['/etc/passwd'];
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/etc/passwd');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a failing createRuntime hook, with the cgroup paths the state had', () => {
    const { id, r } = createWithConfig((c) => {
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 9'] }] };
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('createRuntime hook #0');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a mount that fails inside the init', () => {
    const { id, r } = createWithConfig((c) => {
      c.mounts.push({ destination: '/x', type: 'bind', source: '/no/such/dir', options: ['bind'] });
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/no/such/dir');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('an id that already exists fails without touching the existing container', () => {
    const id = box.id();
    const b = box.bundle((s) => {
      s.process!.args = ['sleep', '30'];
    });
    expect(box.create(b, id).result.status).toBe(0);
    const pid = box.state(id).pid;
    const again = box.create(b, id).result;
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain(`container with id exists: ${id}`);
    expect(box.state(id)).toMatchObject({ status: 'created', pid });
    expect(box.tsrun(['delete', '--force', id]).status).toBe(0);
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });
});

describe('tsrun killed with SIGKILL in the middle of create', () => {
  /**
   * Starts create with a hook that signals it is running and then sleeps; once it runs, SIGKILLs
   * tsrun. Returns what the state file said at that moment.
   */
  async function killDuringHook(kind: 'createRuntime' | 'createContainer') {
    const id = box.id();
    const marker = path.join(box.dir, `${id}.hook-running`);
    const b = box.bundle((s) => {
      s.process!.args = ['sleep', '30'];
      s.hooks = { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}; sleep 5`] }] };
    });
    const child = spawn(process.execPath, [CLI, '--root', box.root, 'create', '--bundle', b, id], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_, sig) => resolve(sig)));
    waitFor('the hook to start', () => fs.existsSync(marker));
    const state = JSON.parse(fs.readFileSync(path.join(box.root, id, 'state.json'), 'utf8'));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    return { id, state };
  }

  test.each(['createRuntime', 'createContainer'] as const)('during a %s hook: delete --force removes state, processes, cgroups and mounts', async (kind) => {
    const { id, state } = await killDuringHook(kind);
    expect(state.pid).toBeGreaterThan(0);
    expect(Object.keys(state.cgroupPaths).length).toBeGreaterThan(0);
    // the container init does not outlive the tsrun that was creating it
    waitFor('the init to die with its parent', () => !processAlive(state.pid));
    // the half-made container is visible, and not running
    const st = box.tsrun(['state', id]);
    expect(st.status).toBe(0);
    expect(JSON.parse(st.stdout).status).toBe('stopped');
    const del = box.tsrun(['delete', '--force', id]);
    expect(del.stderr).toBe('');
    expect(del.status).toBe(0);
    expect(processAlive(state.pid)).toBe(false);
    expect(leftovers(box, id, state.cgroupPaths)).toEqual(NOTHING_LEFT);
  });

  test('plain delete (no --force) of the half-made container also cleans up', async () => {
    const { id, state } = await killDuringHook('createRuntime');
    waitFor('the init to die with its parent', () => !processAlive(state.pid));
    const del = box.tsrun(['delete', id]);
    expect(del.status).toBe(0);
    expect(leftovers(box, id, state.cgroupPaths)).toEqual(NOTHING_LEFT);
  });
});
