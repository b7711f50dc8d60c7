/**
 * podman (through conmon) with `--runtime NAME`, NAME registered in containers.conf
 * `[engine.runtimes]` and listed in `runtime_supports_json`, storage and state under this test's
 * own directory (scripts/e2e/podman.sh), cgroupfs, lowered default ulimits.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  busyboxImage,
  ensurePackages,
  IMAGE,
  inPty,
  parseSize,
  cleanup,
  run,
  runtimes,
  script,
  tempDir,
  type Result,
} from './e2e';
import { defineScenarios, type Driver, type Inspect, type Status } from './scenarios';

const dir = tempDir('podman');
const cgroupParent = path.basename(dir);
const podmanScript = path.join(__dirname, '..', '..', 'scripts', 'e2e', 'podman.sh');
let counter = 0;
const unique = (): string => `tsrun-e2e-${process.pid}-${counter++}`;

const podmanArgv = (args: string[]): string[] => ['bash', podmanScript, 'run', dir, ...args];
function podman(args: string[], opts: { timeout?: number; input?: string } = {}): Result {
  const [cmd, ...rest] = podmanArgv(args);
  return run(cmd, rest, opts);
}
const cidFile = (name: string): string => path.join(dir, `${name}.cid`);
const readCid = (name: string): string | undefined => {
  try {
    return fs.readFileSync(cidFile(name), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
};

const statuses: Record<string, Status> = { running: 'running', paused: 'paused', exited: 'stopped', stopped: 'stopped', created: 'created' };

const driver: Driver = {
  client: 'podman',
  cgroupParent,
  // podman passes no --root (see podman.sh); ids are 64 hex digits, so no clash in a shared root
  stateDir: (rt, id) => path.join(rt.defaultRoot, id),
  runDetached(rt, name, argv) {
    const result = podman(['run', '-d', '--name', name, '--runtime', rt.clientName, '--cgroup-parent', `/${cgroupParent}`, '--cidfile', cidFile(name), IMAGE, ...argv]);
    return { result, id: readCid(name) };
  },
  runForeground(rt, name, argv, opts) {
    const args = ['run', '--rm', ...(opts.tty ? ['-t'] : []), ...(opts.input !== undefined ? ['-i'] : []), '--name', name, '--runtime', rt.clientName, '--cgroup-parent', `/${cgroupParent}`, '--cidfile', cidFile(name), IMAGE, ...argv];
    const result = opts.tty ? inPty(podmanArgv(args), { input: opts.input }) : podman(args, { input: opts.input });
    return { result, id: readCid(name) };
  },
  inspect(c): Inspect {
    const r = podman(['inspect', '--format', '{{.State.Status}} {{.State.Pid}} {{.State.ExitCode}}', c.name]);
    if (r.status !== 0) return { status: 'unknown', pid: 0 };
    const [status, pid, exitCode] = r.stdout.trim().split(' ');
    return { status: statuses[status] ?? 'unknown', pid: Number(pid), exitCode: Number(exitCode) };
  },
  exec(c, argv, opts = {}) {
    // -i only with input: script's end of input reaches an attached stdin as a NUL byte
    const args = ['exec', ...(opts.tty ? ['-t'] : []), ...(opts.input !== undefined ? ['-i'] : []), c.name, ...argv];
    return opts.tty ? inPty(podmanArgv(args), { input: opts.input }) : podman(args, { input: opts.input });
  },
  ps(c) {
    // podman top reads /proc itself; hpid is the host pid
    const result = podman(['top', c.name, 'hpid']);
    const hostPids = result.stdout.split('\n').slice(1).map((l) => Number(l.trim())).filter((n) => n > 0);
    return { result, hostPids };
  },
  stats(c) {
    const result = podman(['stats', '--no-stream', '--format', 'json', c.name]);
    let memoryBytes = 0;
    let pids: number | undefined;
    if (result.status === 0) {
      const [s] = JSON.parse(result.stdout);
      memoryBytes = parseSize(String(s.mem_usage).split('/')[0]);
      pids = Number(s.pids);
    }
    return { result, memoryBytes, pids };
  },
  pause: (c) => podman(['pause', c.name]),
  resume: (c) => podman(['unpause', c.name]),
  updateMemory: (c, bytes) => podman(['update', '--memory', String(bytes), c.name]),
  stop: (c, graceSeconds) => podman(['stop', '-t', String(graceSeconds), c.name]),
  kill: (c, signal) => podman(['kill', '-s', signal, c.name]),
  rm: (c, force) => podman(['rm', ...(force ? ['-f', '-t', '0'] : []), c.name]),
};

let skipReason = ensurePackages(['podman', 'conmon', 'util-linux'], ['podman', 'conmon', 'script']);
const rts = runtimes();
if (!skipReason) {
  const r = script('podman.sh', ['setup', dir, ...rts.map((rt) => `${rt.clientName}=${rt.path}`)]);
  if (r.status !== 0) skipReason = `podman setup failed: ${r.stderr.trim()}`;
}
if (!skipReason) {
  const r = podman(['load', '-i', busyboxImage(dir).image], { timeout: 120_000 });
  if (r.status !== 0) skipReason = `podman load failed: ${r.stderr.trim()}`;
}

// the cgroup parent is the directory's name, which cleanup sweeps
afterAll(() => cleanup(dir));

if (skipReason) {
  console.warn(`e2e: podman scenarios skipped: ${skipReason}`);
  test.skip(`podman: ${skipReason}`, () => {});
} else {
  defineScenarios(driver, rts, unique);
}
