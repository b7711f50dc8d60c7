// The cgroup managers against the real host (root needed): a sleeper is put into a fresh
// cgroup, limited, frozen, thawed and destroyed, and every effect is read back from
// cgroupfs and /proc. Runs on the v1 hybrid host and, through the cgroup2 VM, on pure v2.
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CgroupManager, cgroupManager, cgroupManagerFromPaths } from '../../src/cgroups/manager';
import { detectCgroupMode } from '../../src/cgroups/mode';

const mode = detectCgroupMode();
const isV2 = mode === 'unified';
const MiB = 1024 * 1024;

function read(dir: string, file: string): string {
  return fs.readFileSync(path.join(dir, file), 'utf8').trim();
}

function dirOf(m: CgroupManager, controller: string): string {
  const p = m.paths();
  return isV2 ? p[''] : p[controller];
}

function spawnSleeper(): ChildProcess {
  return spawn('sleep', ['100'], { stdio: 'ignore' });
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
}

function procState(pid: number): string {
  return /^State:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
}

const unique = () => `tsrun-test-cg-${randomBytes(4).toString('hex')}`;

describe(`cgroup manager (${mode} host)`, () => {
  const created: CgroupManager[] = [];
  const children: ChildProcess[] = [];

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const m of created) {
      try {
        m.destroy();
      } catch {
        // best effort: the test itself reports what went wrong
      }
    }
  });

  describe('absolute cgroupsPath', () => {
    const id = unique();
    const mgr = cgroupManager(`/${id}`, id, { systemd: false });
    created.push(mgr);
    let sleeper: ChildProcess;

    test('paths sit under the hierarchy roots', () => {
      const paths = mgr.paths();
      if (isV2) {
        expect(paths).toEqual({ '': `/sys/fs/cgroup/${id}` });
      } else {
        for (const c of ['memory', 'pids', 'freezer', 'cpuset', 'devices']) {
          expect(paths[c]).toMatch(new RegExp(`^/sys/fs/cgroup/[^/]+/${id}$`));
        }
        if (mode === 'hybrid') expect(paths['']).toBe(`/sys/fs/cgroup/unified/${id}`);
      }
      expect(mgr.exists()).toBe(false);
    });

    test('create makes every directory', () => {
      mgr.create();
      expect(mgr.exists()).toBe(true);
      for (const dir of Object.values(mgr.paths())) expect(fs.statSync(dir).isDirectory()).toBe(true);
      if (!isV2) {
        // A new v1 cpuset is empty until filled in; tasks could not join it otherwise.
        expect(read(mgr.paths().cpuset, 'cpuset.cpus')).not.toBe('');
        expect(read(mgr.paths().cpuset, 'cpuset.mems')).not.toBe('');
      }
    });

    test('apply writes memory and pids limits', () => {
      mgr.apply({ memory: { limit: 64 * MiB }, pids: { limit: 20 } });
      if (isV2) expect(read(dirOf(mgr, 'memory'), 'memory.max')).toBe(String(64 * MiB));
      else expect(read(dirOf(mgr, 'memory'), 'memory.limit_in_bytes')).toBe(String(64 * MiB));
      expect(read(dirOf(mgr, 'pids'), 'pids.max')).toBe('20');
    });

    test('apply writes cpu shares, quota, period and cpuset', () => {
      mgr.apply({ cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' } });
      const cpu = dirOf(mgr, 'cpu');
      if (isV2) {
        expect(read(cpu, 'cpu.weight')).toBe('59');
        expect(read(cpu, 'cpu.max')).toBe('50000 100000');
      } else {
        expect(read(cpu, 'cpu.shares')).toBe('512');
        expect(read(cpu, 'cpu.cfs_quota_us')).toBe('50000');
        expect(read(cpu, 'cpu.cfs_period_us')).toBe('100000');
      }
      expect(read(dirOf(mgr, 'cpuset'), 'cpuset.cpus')).toBe('0');
      expect(read(dirOf(mgr, 'cpuset'), 'cpuset.mems')).toBe('0');
    });

    test('apply names what the host cannot honour, before writing anything', () => {
      if (isV2) {
        expect(() => mgr.apply({ pids: { limit: 3 }, blockIO: { leafWeight: 100 } })).toThrow('leaf weights need cgroup v1');
      } else {
        expect(() => mgr.apply({ pids: { limit: 3 }, network: { classID: 1 } })).toThrow('linux.resources.network.classID needs the net_cls cgroup controller');
      }
      expect(read(dirOf(mgr, 'pids'), 'pids.max')).toBe('20');
    });

    test('addProcess moves a process into every hierarchy', () => {
      sleeper = spawnSleeper();
      children.push(sleeper);
      const pid = sleeper.pid!;
      mgr.addProcess(pid);
      const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
      if (isV2) {
        expect(lines).toContain(`0::/${id}`);
      } else {
        for (const line of lines) expect(line).toMatch(new RegExp(`:/${id}$`));
      }
      expect(mgr.pids()).toEqual([pid]);
      expect(cgroupManagerFromPaths(mgr.paths()).pids()).toEqual([pid]);
    });

    test('freeze stops the cgroup’s processes and thaw resumes them', () => {
      // A busy loop shows it best: frozen, its CPU time stops moving.
      const spinner = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
      children.push(spinner);
      mgr.addProcess(spinner.pid!);
      const cpuTime = () => {
        const fields = fs.readFileSync(`/proc/${spinner.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return Number(fields[11]) + Number(fields[12]); // utime + stime
      };
      const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      const advancesWithin = (ms: number) => {
        const start = cpuTime();
        const deadline = Date.now() + ms;
        while (Date.now() < deadline) {
          pause(20);
          if (cpuTime() > start) return true;
        }
        return false;
      };
      expect(advancesWithin(3000)).toBe(true);

      mgr.freeze();
      if (isV2) expect(read(dirOf(mgr, ''), 'cgroup.events')).toContain('frozen 1');
      else expect(read(dirOf(mgr, 'freezer'), 'freezer.state')).toBe('FROZEN');
      expect(procState(spinner.pid!)).not.toMatch(/^R/);
      expect(advancesWithin(300)).toBe(false);

      mgr.thaw();
      if (isV2) expect(read(dirOf(mgr, ''), 'cgroup.events')).toContain('frozen 0');
      else expect(read(dirOf(mgr, 'freezer'), 'freezer.state')).toBe('THAWED');
      expect(advancesWithin(3000)).toBe(true);
    });

    test('destroy kills the sleeper and removes every directory, children first', async () => {
      // A nested cgroup, as a container managing its own children would leave behind.
      const nested = Object.values(mgr.paths()).map((d) => path.join(d, 'nested'));
      for (const d of nested) fs.mkdirSync(d, { recursive: true });
      const restored = cgroupManagerFromPaths(mgr.paths());
      restored.destroy();
      expect(await exited(sleeper)).toBe('SIGKILL');
      for (const dir of [...nested, ...Object.values(mgr.paths())]) expect(fs.existsSync(dir)).toBe(false);
      expect(mgr.exists()).toBe(false);
      expect(() => mgr.destroy()).not.toThrow();
    });
  });

  describe('default cgroupsPath', () => {
    const id = unique();
    const mgr = cgroupManager(undefined, id, { systemd: false });
    created.push(mgr);

    test('nests the id under the caller’s own cgroup', () => {
      const own = fs.readFileSync('/proc/self/cgroup', 'utf8');
      if (isV2) {
        const mine = /^0::(.*)$/m.exec(own)![1];
        expect(mgr.paths()['']).toBe(path.posix.join('/sys/fs/cgroup', path.posix.dirname(mine), id));
      } else {
        const mine = /^\d+:memory:(.*)$/m.exec(own)![1];
        expect(mgr.paths().memory).toBe(path.posix.join('/sys/fs/cgroup/memory', mine, id));
      }
    });

    test('create, add, destroy', async () => {
      mgr.create();
      const sleeper = spawnSleeper();
      children.push(sleeper);
      mgr.addProcess(sleeper.pid!);
      mgr.apply({ pids: { limit: 5 } });
      expect(read(dirOf(mgr, 'pids'), 'pids.max')).toBe('5');
      mgr.destroy();
      expect(await exited(sleeper)).toBe('SIGKILL');
      expect(mgr.exists()).toBe(false);
    });
  });

  test('systemd driver fails loudly when systemd is absent', () => {
    if (fs.existsSync('/run/systemd/system')) return;
    expect(() => cgroupManager('system.slice:tsrun:x', 'x', { systemd: true })).toThrow(
      'systemd cgroup driver requested but systemd is not running (no /run/systemd/system)',
    );
  });

  test('a cgroupsPath naming the root is refused', () => {
    expect(() => cgroupManager('/', 'x', { systemd: false })).toThrow(/root cgroup/);
    expect(() => cgroupManager('/../..', 'x', { systemd: false })).toThrow(/root cgroup/);
  });
});
