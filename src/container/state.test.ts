import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { bundleScript, repoPath } from '../cli/test-bundle';
import {
  BrokenStateError,
  ContainerNotExistError,
  EXEC_FIFO,
  PersistedState,
  StateStore,
  deriveStatus,
  formatRfc3339Nano,
  utcDateTime,
  nowRfc3339Nano,
  parseProcStat,
  procStartTime,
  stateJson,
} from './state';

let root: string;
let store: StateStore;

function sampleState(id: string, over: Partial<PersistedState> = {}): PersistedState {
  return {
    ociVersion: '1.2.1',
    id,
    pid: process.pid,
    pidStartTime: procStartTime(process.pid)!,
    bundle: '/bundles/x',
    rootfs: '/bundles/x/rootfs',
    created: '2026-12-07T21:50:51.123456789Z',
    owner: 'root',
    annotations: {},
    ...over,
  };
}

beforeEach(() => {
  root = fs.mkdtempSync('/tmp/tsrun-cli-test-state-');
  store = new StateStore(path.join(root, 'run'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('StateStore', () => {
  test('create makes the root 0700 and the container dir 0711, with its lock file', () => {
    const dir = store.create('tsrun-helper-a');
    expect(dir).toBe(path.join(store.root, 'tsrun-helper-a'));
    expect(fs.statSync(store.root).mode & 0o777).toBe(0o700);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o711);
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(true);
    expect(store.exists('tsrun-helper-a')).toBe(true);
    // No temporary directories are left behind.
    expect(fs.readdirSync(store.root)).toEqual(['tsrun-helper-a']);
  });

  test('create of a taken id fails', () => {
    store.create('tsrun-helper-a');
    expect(() => store.create('tsrun-helper-a')).toThrow('container with id exists: tsrun-helper-a');
    expect(fs.readdirSync(store.root)).toEqual(['tsrun-helper-a']);
  });

  test('create refuses bad ids', () => {
    expect(() => store.create('../escape')).toThrow(/invalid container id format/);
    expect(() => store.read('a/b')).toThrow(/invalid container id format/);
  });

  test('write then read round-trips', () => {
    store.create('tsrun-helper-a');
    const s = sampleState('tsrun-helper-a', { annotations: { k: 'v' }, paused: false, cgroupPaths: { '': '/sys/fs/cgroup/x' } });
    store.write('tsrun-helper-a', s);
    expect(store.read('tsrun-helper-a')).toEqual(s);
    expect(fs.statSync(path.join(store.containerDir('tsrun-helper-a'), 'state.json')).mode & 0o777).toBe(0o600);
    // Rewrite replaces.
    store.write('tsrun-helper-a', { ...s, paused: true });
    expect(store.read('tsrun-helper-a').paused).toBe(true);
    expect(fs.readdirSync(store.containerDir('tsrun-helper-a')).sort()).toEqual(['lock', 'state.json']);
  });

  test('read of a missing container says it does not exist', () => {
    expect(() => store.read('nosuch')).toThrow(ContainerNotExistError);
    expect(() => store.read('nosuch')).toThrow('container "nosuch" does not exist');
  });

  test('a directory without state.json exists but reads as broken', () => {
    store.create('tsrun-helper-a');
    expect(store.exists('tsrun-helper-a')).toBe(true);
    expect(() => store.read('tsrun-helper-a')).toThrow(BrokenStateError);
    expect(() => store.read('tsrun-helper-a')).toThrow(/state.json is missing/);
    fs.writeFileSync(path.join(store.containerDir('tsrun-helper-a'), 'state.json'), '{"trunc');
    expect(() => store.read('tsrun-helper-a')).toThrow(/not valid JSON/);
  });

  test('list returns container ids only, sorted', () => {
    expect(store.list()).toEqual([]); // root missing
    store.create('b');
    store.create('a');
    fs.mkdirSync(path.join(store.root, '.new-c-xyz'));
    fs.writeFileSync(path.join(store.root, 'stray-file'), '');
    expect(store.list()).toEqual(['a', 'b']);
  });

  test('remove deletes the directory', () => {
    store.create('tsrun-helper-a');
    store.write('tsrun-helper-a', sampleState('tsrun-helper-a'));
    store.remove('tsrun-helper-a');
    expect(store.exists('tsrun-helper-a')).toBe(false);
    expect(() => store.remove('tsrun-helper-a')).not.toThrow();
  });

  test('a writer killed in the middle of a write leaves the old state.json intact', async () => {
    const id = 'tsrun-helper-atomic';
    store.create(id);
    const old = sampleState(id, { annotations: { generation: 'old' } });
    store.write(id, old);
    const oldBytes = fs.readFileSync(path.join(store.containerDir(id), 'state.json'));

    // The child writes a ~64 MiB state. Its writes are cut to 1 MiB pieces with a pause after
    // each, so it is certainly in the middle when it announces the first piece and gets SIGKILL.
    const script = await bundleScript(
      `
      import { StateStore } from ${JSON.stringify(repoPath('src/container/state'))};
      const [root, id] = process.argv.slice(2);
      const fs = require('fs');
      const realWrite = fs.writeSync;
      let calls = 0;
      fs.writeSync = (fd: number, buf: Buffer, off: number) => {
        const n = (realWrite as any)(fd, buf, off, Math.min(1 << 20, buf.length - off));
        if (++calls === 1) process.stdout.write('writing\\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        return n;
      };
      const store = new StateStore(root);
      const s = store.read(id);
      store.write(id, { ...s, annotations: { generation: 'new' }, config: 'x'.repeat(64 << 20) });
      process.stdout.write('finished\\n');
      `,
      root,
      'killed-writer',
    );
    const child = spawn(process.execPath, [script, store.root, id], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('writing')) {
          child.kill('SIGKILL');
          resolve();
        }
        if (d.toString().includes('finished')) reject(new Error('the writer finished before being killed'));
      });
      child.on('exit', () => resolve());
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r)));
    expect(child.signalCode).toBe('SIGKILL');

    const dir = store.containerDir(id);
    const leftovers = fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toHaveLength(1); // the half-written temp file
    expect(fs.statSync(path.join(dir, leftovers[0])).size).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(dir, 'state.json'))).toEqual(oldBytes);
    expect(store.read(id)).toEqual(old);
  }, 30_000);
});

describe('time', () => {
  test('nowRfc3339Nano is UTC RFC 3339 with up to 9 fraction digits, and increases', () => {
    const a = nowRfc3339Nano();
    const b = nowRfc3339Nano();
    expect(a).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    expect(Math.abs(Date.parse(a) - Date.now())).toBeLessThan(5000);
    expect(b >= a || b.length !== a.length).toBe(true);
  });

  test('utcDateTime agrees with Date over 1970-2400, leap days and year ends included', () => {
    const check = (sec: number) => expect(utcDateTime(sec)).toBe(new Date(sec * 1000).toISOString().slice(0, 19));
    for (let sec = 0; sec < 13_600_000_000; sec += 86_399 * 37 + 1234) check(sec);
    for (const day of ['1972-02-29', '2000-02-29', '2000-03-01', '2100-02-28', '2100-03-01', '1999-12-31', '2024-12-31', '2400-02-29'])
      for (const t of ['T00:00:00Z', 'T23:59:59Z']) check(Date.parse(day + t) / 1000);
  });

  test('formatRfc3339Nano trims trailing zeros like Go', () => {
    expect(formatRfc3339Nano(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456789Z');
    expect(formatRfc3339Nano(1_700_000_000_120_000_000n)).toBe('2023-11-14T22:13:20.12Z');
    expect(formatRfc3339Nano(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20Z');
  });
});

describe('/proc/<pid>/stat', () => {
  const tail = ' S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 20 21\n';
  test('comm with spaces and parentheses', () => {
    expect(parseProcStat(`123 (a) b) (c)${tail}`)).toEqual({ state: 'S', startTime: 4242 });
    expect(parseProcStat(`123 (x y z)${tail}`)).toEqual({ state: 'S', startTime: 4242 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  test('start time of this process is a number, of no process undefined', () => {
    expect(procStartTime(process.pid)).toBeGreaterThan(0);
    expect(procStartTime(0)).toBeUndefined();
    expect(procStartTime(2 ** 22 + 1)).toBeUndefined();
  });
});

describe('deriveStatus', () => {
  let zombieParent: ChildProcess | undefined;
  afterEach(() => {
    zombieParent?.kill('SIGKILL');
    zombieParent = undefined;
  });

  function stored(over: Partial<PersistedState> = {}): PersistedState {
    const s = sampleState('tsrun-helper-st', over);
    if (!store.exists(s.id)) store.create(s.id);
    store.write(s.id, s);
    return s;
  }

  test('alive with exec.fifo is created, then running, then paused', () => {
    const s = stored();
    fs.writeFileSync(path.join(store.containerDir(s.id), EXEC_FIFO), '');
    expect(deriveStatus(store, s)).toBe('created');
    fs.unlinkSync(path.join(store.containerDir(s.id), EXEC_FIFO));
    expect(deriveStatus(store, s)).toBe('running');
    expect(deriveStatus(store, { ...s, paused: true })).toBe('paused');
  });

  test('a dead pid is stopped, even with exec.fifo and paused set', () => {
    const dead = spawn('true');
    const deadPid = dead.pid!;
    return new Promise<void>((resolve) => {
      dead.on('exit', () => {
        const s = stored({ pid: deadPid, pidStartTime: 1, paused: true });
        fs.writeFileSync(path.join(store.containerDir(s.id), EXEC_FIFO), '');
        expect(deriveStatus(store, s)).toBe('stopped');
        expect(stateJson(store, s).pid).toBe(0);
        resolve();
      });
    });
  });

  test('a recycled pid (start time differs) is stopped', () => {
    const s = stored({ pidStartTime: procStartTime(process.pid)! + 1 });
    expect(deriveStatus(store, s)).toBe('stopped');
    // Unknown start time (0) trusts the pid.
    expect(deriveStatus(store, { ...s, pidStartTime: 0 })).toBe('running');
  });

  test('pid 0 is stopped', () => {
    expect(deriveStatus(store, stored({ pid: 0, pidStartTime: 0 }))).toBe('stopped');
  });

  test('a zombie is stopped', async () => {
    // sh forks `sleep 0`, prints its pid and becomes `sleep 30`, which never reaps it.
    zombieParent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const zombiePid = Number(await new Promise<string>((r) => zombieParent!.stdout!.once('data', (d: Buffer) => r(d.toString()))));
    const deadline = Date.now() + 5000;
    while (!fs.readFileSync(`/proc/${zombiePid}/stat`, 'latin1').includes(') Z ')) {
      if (Date.now() > deadline) throw new Error('no zombie');
      await new Promise((r) => setTimeout(r, 10));
    }
    const s = stored({ pid: zombiePid, pidStartTime: procStartTime(zombiePid)! });
    expect(deriveStatus(store, s)).toBe('stopped');
  });
});

describe('stateJson', () => {
  test("runc's shape and key order", () => {
    const s = sampleState('tsrun-helper-j');
    store.create(s.id);
    const out = stateJson(store, s);
    expect(Object.keys(out)).toEqual(['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner']);
    expect(out).toEqual({
      ociVersion: '1.2.1',
      id: 'tsrun-helper-j',
      pid: process.pid,
      status: 'running',
      bundle: '/bundles/x',
      rootfs: '/bundles/x/rootfs',
      created: '2026-12-07T21:50:51.123456789Z',
      owner: 'root',
    });
    const annotated = stateJson(store, { ...s, annotations: { a: 'b' } });
    expect(Object.keys(annotated)).toEqual(['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'annotations', 'owner']);
    expect(annotated.annotations).toEqual({ a: 'b' });
  });
});
