/**
 * docker with `--runtime NAME`: dockerd on this test's own containerd (scripts/e2e/dockerd.sh,
 * scripts/e2e/containerd.sh), tsrun registered in daemon.json "runtimes" as the README says, the
 * reference runc with --add-runtime; no bridge, no iptables, containers with --network none.
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
  tail,
  run,
  runtimes,
  script,
  tempDir,
  type Result,
} from './e2e';
import { defineScenarios, type Driver, type Inspect, type Status } from './scenarios';

const dir = tempDir('docker');
const containerdDir = path.join(dir, 'containerd');
const sock = path.join(dir, 'docker.sock');
// dockerd.sh gives containers the cgroup parent /<basename of its directory>
const cgroupParent = path.basename(dir);
// Debian's client: its API version is the daemon's (another docker may come first on PATH)
const dockerBin = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const env = { DOCKER_CONFIG: path.join(dir, 'cli') };
let counter = 0;
const unique = (): string => `tsrun-e2e-${process.pid}-${counter++}`;

const dockerArgv = (args: string[]): string[] => [dockerBin, '-H', `unix://${sock}`, ...args];
function docker(args: string[], opts: { timeout?: number; input?: string } = {}): Result {
  const [cmd, ...rest] = dockerArgv(args);
  return run(cmd, rest, { ...opts, env });
}
const cidFile = (name: string): string => path.join(dir, `${name}.cid`);
const readCid = (name: string): string | undefined => {
  try {
    return fs.readFileSync(cidFile(name), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
};
/** -t for a terminal, -i only with input: script's end of input reaches an attached stdin as a NUL byte. */
const ttyFlags = (opts: { tty?: boolean; input?: string }): string[] => [...(opts.tty ? ['-t'] : []), ...(opts.input !== undefined ? ['-i'] : [])];

const statuses: Record<string, Status> = { running: 'running', paused: 'paused', exited: 'stopped', dead: 'stopped', created: 'created' };

const driver: Driver = {
  client: 'docker',
  cgroupParent,
  // the shim's Root is <exec-root>/runtime-runc whatever the runtime, plus the namespace
  stateDir: (_rt, id) => path.join(dir, 'exec', 'runtime-runc', 'moby', id),
  runDetached(rt, name, argv) {
    const result = docker(['run', '-d', '--name', name, '--runtime', rt.clientName, '--network', 'none', '--cidfile', cidFile(name), IMAGE, ...argv]);
    return { result, id: readCid(name) };
  },
  runForeground(rt, name, argv, opts) {
    const args = ['run', '--rm', ...ttyFlags(opts), '--name', name, '--runtime', rt.clientName, '--network', 'none', '--cidfile', cidFile(name), IMAGE, ...argv];
    const result = opts.tty ? inPty(dockerArgv(args), { input: opts.input, env }) : docker(args, { input: opts.input });
    return { result, id: readCid(name) };
  },
  inspect(c): Inspect {
    const r = docker(['inspect', '--format', '{{.State.Status}} {{.State.Pid}} {{.State.ExitCode}}', c.name]);
    if (r.status !== 0) return { status: 'unknown', pid: 0 };
    const [status, pid, exitCode] = r.stdout.trim().split(' ');
    return { status: statuses[status] ?? 'unknown', pid: Number(pid), exitCode: Number(exitCode) };
  },
  exec(c, argv, opts = {}) {
    const args = ['exec', ...ttyFlags(opts), c.name, ...argv];
    return opts.tty ? inPty(dockerArgv(args), { input: opts.input, env }) : docker(args, { input: opts.input });
  },
  ps(c) {
    // docker top asks the runtime (`ps --format json`) for the pids, then filters the host's ps
    const result = docker(['top', c.name]);
    const [header, ...rows] = result.stdout.trim().split('\n');
    const column = (header ?? '').trim().split(/\s+/).indexOf('PID');
    const hostPids = column < 0 ? [] : rows.map((l) => Number(l.trim().split(/\s+/)[column])).filter((n) => n > 0);
    return { result, hostPids };
  },
  stats(c) {
    const result = docker(['stats', '--no-stream', '--format', '{{json .}}', c.name]);
    let memoryBytes = 0;
    let pids: number | undefined;
    if (result.status === 0) {
      const s = JSON.parse(result.stdout);
      memoryBytes = parseSize(String(s.MemUsage).split('/')[0]);
      pids = Number(s.PIDs);
    }
    return { result, memoryBytes, pids };
  },
  pause: (c) => docker(['pause', c.name]),
  resume: (c) => docker(['unpause', c.name]),
  // docker wants the swap limit too once a memory limit is set
  updateMemory: (c, bytes) => docker(['update', '--memory', String(bytes), '--memory-swap', String(2 * bytes), c.name]),
  stop: (c, graceSeconds) => docker(['stop', '-t', String(graceSeconds), c.name]),
  kill: (c, signal) => docker(['kill', '-s', signal, c.name]),
  rm: (c, force) => docker(['rm', ...(force ? ['-f'] : []), c.name]),
  diagnostics: () =>
    `dockerd.log:\n${tail(path.join(dir, 'dockerd.log'))}\n\ncontainerd.log:\n${tail(path.join(containerdDir, 'containerd.log'))}`,
};

const rts = runtimes();
let skipReason = ensurePackages(['docker.io', 'containerd', 'util-linux'], ['dockerd', 'containerd', 'script']);
if (!skipReason && !fs.existsSync(dockerBin) && run('sh', ['-c', 'command -v docker']).status !== 0) skipReason = 'no docker client';
if (!skipReason) {
  const r = script('containerd.sh', ['start', containerdDir]);
  if (r.status !== 0) skipReason = `containerd (for dockerd) did not start: ${r.stderr.trim()}`;
}
if (!skipReason) {
  // tsrun as an administrator would register it (daemon.json), the reference on the command line
  // and tsrun the default, so that `docker info` shows what it parses from `tsrun --version`
  const registrations = rts.flatMap((rt) =>
    rt.name === 'tsrun' ? [`${rt.clientName}=${rt.path}`, '--default-runtime', rt.clientName] : ['--add-runtime', `${rt.clientName}=${rt.path}`],
  );
  const r = script('dockerd.sh', ['start', dir, path.join(containerdDir, 'containerd.sock'), ...registrations]);
  if (r.status !== 0) skipReason = `dockerd did not start: ${r.stderr.trim()}`;
}
if (!skipReason) {
  const r = docker(['load', '-i', busyboxImage(dir).image], { timeout: 120_000 });
  if (r.status !== 0) skipReason = `docker load failed: ${r.stderr.trim()}`;
}

// the cgroup parent is the directory's name, which cleanup sweeps
afterAll(() => cleanup(dir));

if (skipReason) {
  console.warn(`e2e: docker scenarios skipped: ${skipReason}`);
  test.skip(`docker: ${skipReason}`, () => {});
} else {
  defineScenarios(driver, rts, unique);

  test('docker info lists the registered runtimes with their paths', () => {
    const r = docker(['info', '--format', '{{json .Runtimes}}']);
    expect(r.status).toBe(0);
    const listed = JSON.parse(r.stdout);
    for (const rt of rts) expect(listed[rt.clientName]?.path).toBe(rt.path);
  });

  const tsrun = rts.find((rt) => rt.name === 'tsrun');
  (tsrun ? test : test.skip)("docker info reads the default runtime's commit from tsrun --version", () => {
    const version = run(tsrun!.path, ['--version']);
    expect(version.status).toBe(0);
    const commit = /^commit: (\S+)$/m.exec(version.stdout)?.[1];
    expect(commit).toBeTruthy();
    const info = docker(['info', '--format', '{{.DefaultRuntime}} {{.RuncCommit.ID}}']);
    expect(info.stdout.trim()).toBe(`${tsrun!.clientName} ${commit}`);
  });
}
