/**
 * containerd through `ctr run --runc-binary <runtime>` (the runc shim v2 with the BinaryName
 * option), on a containerd of this test's own (scripts/e2e/containerd.sh).
 */
import * as path from 'path';
import {
  busyboxImage,
  ensurePackages,
  IMAGE,
  inPty,
  cleanup,
  tail,
  run,
  runtimes,
  script,
  tempDir,
  type Result,
  type Runtime,
} from './e2e';
import { defineScenarios, type Container, type Driver, type Inspect, type Status } from './scenarios';

const dir = tempDir('containerd');
const sock = path.join(dir, 'containerd.sock');
const cgroupParent = path.basename(dir);
const fifoDir = path.join(dir, 'fifo');
let counter = 0;
const unique = (): string => `tsrun-e2e-${process.pid}-${counter++}`;

function ctr(args: string[], opts: { timeout?: number } = {}): Result {
  return run('ctr', ['--address', sock, ...args], opts);
}
/** The shim's --root for a runtime: kept apart per runtime, under our directory. */
const runcRoot = (rt: Runtime): string => path.join(dir, 'runc-root', rt.name);

function runArgs(rt: Runtime, name: string): string[] {
  return ['--fifo-dir', fifoDir, '--runc-root', runcRoot(rt), '--runc-binary', rt.path, '--cgroup', `/${cgroupParent}/${name}`];
}

const statuses: Record<string, Status> = { RUNNING: 'running', PAUSED: 'paused', STOPPED: 'stopped', CREATED: 'created' };

const driver: Driver = {
  client: 'ctr',
  cgroupParent,
  // the shim adds the containerd namespace to --root
  stateDir: (rt, id) => path.join(runcRoot(rt), 'default', id),
  runDetached(rt, name, argv) {
    return { result: ctr(['run', '-d', ...runArgs(rt, name), IMAGE, name, ...argv]), id: name };
  },
  runForeground(rt, name, argv, opts) {
    const args = ['--address', sock, 'run', '--rm', ...(opts.tty ? ['-t'] : []), ...runArgs(rt, name), IMAGE, name, ...argv];
    return { result: opts.tty ? inPty(['ctr', ...args], { input: opts.input }) : run('ctr', args, { input: opts.input }), id: name };
  },
  inspect(c): Inspect {
    const r = ctr(['task', 'ls']);
    const line = r.stdout.split('\n').find((l) => l.split(/\s+/)[0] === c.name);
    if (!line) return { status: 'stopped', pid: 0 };
    const [, pid, status] = line.trim().split(/\s+/);
    return { status: statuses[status] ?? 'unknown', pid: Number(pid) };
  },
  exec(c, argv, opts = {}) {
    const args = ['--address', sock, 'task', 'exec', '--fifo-dir', fifoDir, '--exec-id', `e${counter++}`, ...(opts.tty ? ['-t'] : []), c.name, ...argv];
    return opts.tty ? inPty(['ctr', ...args], { input: opts.input }) : run('ctr', args, { input: opts.input });
  },
  ps(c) {
    const result = ctr(['task', 'ps', c.name]);
    const hostPids = result.stdout.split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0])).filter((n) => n > 0);
    return { result, hostPids };
  },
  stats(c) {
    const result = ctr(['task', 'metrics', '--format', 'json', c.name]);
    let memoryBytes = 0;
    let pids: number | undefined;
    if (result.status === 0) {
      const m = JSON.parse(result.stdout);
      // cgroup v1 metrics: memory.usage.usage; v2: memory.usage
      memoryBytes = Number(m.memory?.usage?.usage ?? m.memory?.usage ?? 0);
      pids = m.pids?.current;
    }
    return { result, memoryBytes, pids };
  },
  pause: (c) => ctr(['task', 'pause', c.name]),
  resume: (c) => ctr(['task', 'resume', c.name]),
  // ctr has no update command
  stop(c, graceSeconds) {
    const r = ctr(['task', 'kill', '-s', 'SIGTERM', c.name]);
    const end = Date.now() + graceSeconds * 1000;
    while (Date.now() < end && driver.inspect(c).status !== 'stopped') run('sleep', ['0.05']);
    if (driver.inspect(c).status !== 'stopped') ctr(['task', 'kill', '-s', 'SIGKILL', c.name]);
    return r;
  },
  kill: (c, signal) => ctr(['task', 'kill', '-s', `SIG${signal}`, c.name]),
  diagnostics: () => `containerd.log:\n${tail(path.join(dir, 'containerd.log'))}`,
  rm(c, force) {
    if (force) ctr(['task', 'kill', '-a', '-s', 'SIGKILL', c.name]);
    // `task rm` exits with the task's exit status; what matters is that it is gone afterwards
    const t = ctr(['task', 'rm', ...(force ? ['-f'] : []), c.name]);
    const r = ctr(['containers', 'rm', c.name]);
    return { ...r, stderr: `task rm (status ${t.status}): ${t.stderr}\ncontainers rm: ${r.stderr}` };
  },
};

let skipReason = ensurePackages(['containerd', 'util-linux'], ['containerd', 'ctr', 'containerd-shim-runc-v2', 'script']);
if (!skipReason) {
  const r = script('containerd.sh', ['start', dir]);
  if (r.status !== 0) skipReason = `containerd did not start: ${r.stderr.trim()}`;
}
if (!skipReason) {
  const r = ctr(['images', 'import', busyboxImage(dir).image], { timeout: 120_000 });
  if (r.status !== 0) skipReason = `ctr images import failed: ${r.stderr.trim()}`;
}

// the cgroup parent is the directory's name, which cleanup sweeps
afterAll(() => cleanup(dir));

if (skipReason) {
  console.warn(`e2e: containerd scenarios skipped: ${skipReason}`);
  test.skip(`containerd: ${skipReason}`, () => {});
} else {
  defineScenarios(driver, runtimes(), unique);
}
