/**
 * End-to-end tests with real clients (containerd's ctr, podman, docker): shared pieces.
 * Each client's test file starts its daemons on a temporary directory of its own (the scripts in
 * scripts/e2e/), loads a busybox image built locally, and runs the scenarios of scenarios.ts once
 * per runtime: tsrun (this checkout's bin/tsrun) and runc, the reference, on the same machine.
 *
 * Environment:
 *   TSRUN_E2E_RUNTIMES=tsrun,runc   which runtimes to run the scenarios with (default: both)
 *   TSRUN_E2E_TSRUN=PATH            the tsrun to test (default: bin/tsrun of this checkout)
 *   TSRUN_E2E_RUNC=PATH             the reference runc (default: /usr/sbin/runc)
 *   TSRUN_E2E_INSTALL=0             do not apt-get install missing clients (skip instead)
 *   TSRUN_E2E_KEEP=1                keep the temporary directories (daemon logs) after the run
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { walkTree } from '../harness';

export const REPO = path.join(__dirname, '..', '..');
export const SCRIPTS = path.join(REPO, 'scripts', 'e2e');
export const IMAGE = 'localhost/tsrun-e2e/busybox:latest';
/** Per-test timeout: a client call rarely takes more than a second; a stuck one must not hang CI. */
export const TEST_TIMEOUT_MS = 120_000;
const CALL_TIMEOUT_MS = 60_000;

export interface Runtime {
  /** "tsrun" or "runc": how tests and reports call it. */
  name: string;
  /** The binary clients run. */
  path: string;
  /** The name it is registered under in podman's and docker's configuration. */
  clientName: string;
  /** Its state root when a client gives no --root (podman), as root. */
  defaultRoot: string;
}

/** The runtimes to test with, in order; a missing reference runc is left out with a warning. */
export function runtimes(): Runtime[] {
  const wanted = (process.env.TSRUN_E2E_RUNTIMES ?? 'tsrun,runc').split(',').map((s) => s.trim()).filter(Boolean);
  const all: Runtime[] = [
    { name: 'tsrun', path: process.env.TSRUN_E2E_TSRUN ?? path.join(REPO, 'bin', 'tsrun'), clientName: 'tsrun', defaultRoot: '/run/tsrun' },
    // "runc" is taken by docker's built-in runtime (whatever runc is on its PATH)
    { name: 'runc', path: process.env.TSRUN_E2E_RUNC ?? '/usr/sbin/runc', clientName: 'e2e-runc', defaultRoot: '/run/runc' },
  ];
  return all.filter((rt) => {
    if (!wanted.includes(rt.name)) return false;
    if (fs.existsSync(rt.path)) return true;
    console.warn(`e2e: ${rt.name} not found at ${rt.path}; its scenarios are left out`);
    return false;
  });
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The command line, for failure messages. */
  cmd: string;
}

/** What a call printed, for assertion messages. */
export function describeResult(r: Result): string {
  return `$ ${r.cmd}\nstatus ${r.status}${r.signal ? ` signal ${r.signal}` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

export function run(
  cmd: string,
  args: string[],
  opts: { timeout?: number; env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Result {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: opts.timeout ?? CALL_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    input: opts.input,
    cwd: opts.cwd,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: cleanEnv(opts.env),
  });
  const line = [cmd, ...args].map(shellQuote).join(' ');
  const stderr = String(r.stderr ?? '') + (r.error ? `\n(${r.error.message})` : '');
  return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr, cmd: line };
}

/** Like run, but a non-zero status throws with everything the command printed. */
export function ok(r: Result): Result {
  if (r.status !== 0) throw new Error(`command failed\n${describeResult(r)}`);
  return r;
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs a command on a real pty (util-linux `script`), as a user at a terminal would, typing
 * `input` into it. Output has the terminal's \r\n turned into \n.
 */
export function inPty(argv: string[], opts: { input?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = run('script', ['-q', '-e', '-c', argv.map(shellQuote).join(' '), '/dev/null'], {
    input: opts.input ?? '',
    timeout: opts.timeout,
    env: { TERM: 'xterm', ...opts.env },
  });
  // \r\n from the terminal. At the end of its input, script types a NUL into the pty; when the
  // client forwards stdin (ctr always does) it reaches the container's terminal, which prints it
  // raw or, with echoctl, as "^@", depending on timing: an artefact of this driver, dropped.
  return { ...r, stdout: r.stdout.replace(/\r|\0|\^@/g, '') };
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls until fn returns a truthy value; throws with `what` (and the last value) after timeoutMs. */
export function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 10_000): T {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    sleepMs(50);
  }
}

/**
 * A temporary directory for one client's daemons; names start with tsrun-e2e- (the scripts
 * check). It records this process as its owner; directories of earlier runs whose owner is gone
 * (a run killed before its cleanup) are cleaned up first: their daemons stopped, containers
 * killed, cgroups and mounts removed.
 */
export function tempDir(client: string): string {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith(`tsrun-e2e-${client}-`)) continue;
    const stale = path.join(os.tmpdir(), name);
    let owner: HostProcess | undefined;
    try {
      const [pid, start] = fs.readFileSync(path.join(stale, 'owner'), 'utf8').trim().split(' ');
      owner = { pid: Number(pid), start };
    } catch {
      continue; // not made by tempDir, or still being set up
    }
    if (!alive(owner)) {
      console.warn(`e2e: cleaning up ${stale}, left by an earlier run (pid ${owner.pid})`);
      cleanup(stale);
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-e2e-${client}-`));
  fs.writeFileSync(path.join(dir, 'owner'), `${process.pid} ${startTime(process.pid)}\n`);
  return dir;
}

/**
 * Stops what was started under a tempDir (podman, dockerd, containerd, in that order), kills
 * what is left in the cgroup named after it, unmounts and removes it (scripts/e2e/cleanup.sh).
 * TSRUN_E2E_KEEP=1 keeps the files (daemon logs).
 */
export function cleanup(dir: string): void {
  const r = run('bash', [path.join(SCRIPTS, 'cleanup.sh'), dir], { timeout: 180_000 });
  if (r.status !== 0) console.warn(`e2e: cleanup of ${dir} failed: ${r.stderr}`);
  else if (r.stderr.trim()) console.warn(r.stderr.trim());
}

/**
 * Installs what is missing (scripts/e2e/install-deps.sh) unless TSRUN_E2E_INSTALL=0.
 * Returns why the client cannot be tested, or undefined.
 */
export function ensurePackages(packages: string[], binaries: string[]): string | undefined {
  const missingBinaries = (): string[] => binaries.filter((b) => run('sh', ['-c', `command -v ${b}`]).status !== 0);
  if (missingBinaries().length === 0) return undefined;
  if (process.env.TSRUN_E2E_INSTALL !== '0') {
    // all of them at once: one apt-get run for the three client files
    const r = run('bash', [path.join(SCRIPTS, 'install-deps.sh')], { timeout: 600_000 });
    if (r.status !== 0) return `installing ${packages.join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`;
  }
  const still = missingBinaries();
  return still.length ? `${still.join(', ')} not installed (apt-get install ${packages.join(' ')})` : undefined;
}

let imageFiles: { image: string; rootfs: string } | undefined;
/** The busybox image archive (OCI layout + docker manifest) and its rootfs layer, built once per file. */
export function busyboxImage(dir: string): { image: string; rootfs: string } {
  if (!imageFiles) {
    const out = path.join(dir, 'image');
    ok(run(process.execPath, [path.join(SCRIPTS, 'build-busybox-image.mjs'), out, IMAGE]));
    imageFiles = { image: path.join(out, 'busybox-image.tar'), rootfs: path.join(out, 'busybox-rootfs.tar') };
  }
  return imageFiles;
}

/** Runs one of scripts/e2e/*.sh. */
export function script(name: string, args: string[], timeout = 120_000): Result {
  return run('bash', [path.join(SCRIPTS, name), ...args], { timeout });
}

/** The last lines of a daemon's log, to explain a failure. */
export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

// ---- what the host sees of a container ------------------------------------------------------

/** The start time (in clock ticks since boot) of a process, to tell it from a later one with its pid. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export interface HostProcess {
  pid: number;
  start: string;
}

export function hostProcess(pid: number): HostProcess {
  const start = startTime(pid);
  if (!start) throw new Error(`process ${pid} does not exist`);
  return { pid, start };
}

export function alive(p: HostProcess): boolean {
  if (startTime(p.pid) !== p.start) return false;
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** controller list -> cgroup path, from /proc/<pid>/cgroup. */
export function cgroupsOf(pid: number): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) map.set(m[1], m[2]);
  }
  return map;
}

/** The directory of a process's cgroup for one v1 controller (or the unified one with ""). */
export function cgroupDir(pid: number, controller: string): string | undefined {
  for (const [controllers, p] of cgroupsOf(pid)) {
    if (controllers.split(',').includes(controller) || (controller === '' && controllers === '')) {
      if (controller === '') {
        return fs.existsSync('/sys/fs/cgroup/unified') ? path.join('/sys/fs/cgroup/unified', p) : path.join('/sys/fs/cgroup', p);
      }
      const mount = fs.readdirSync('/sys/fs/cgroup').find((d) => d.split(',').includes(controller));
      return mount ? path.join('/sys/fs/cgroup', mount, p) : undefined;
    }
  }
  return undefined;
}

/** A pure cgroup v2 host (/sys/fs/cgroup is the unified hierarchy). */
export const cgroupV2Only = fs.existsSync('/sys/fs/cgroup/cgroup.procs');

/** The memory limit of a process's cgroup, in bytes (v1 memory.limit_in_bytes or v2 memory.max). */
export function memoryLimit(pid: number): string {
  if (cgroupV2Only) return fs.readFileSync(path.join(cgroupDir(pid, '')!, 'memory.max'), 'utf8').trim();
  return fs.readFileSync(path.join(cgroupDir(pid, 'memory')!, 'memory.limit_in_bytes'), 'utf8').trim();
}

/** "frozen" or "thawed", from the freezer of a process's cgroup. */
export function freezerState(pid: number): string {
  if (cgroupV2Only) {
    return fs.readFileSync(path.join(cgroupDir(pid, '')!, 'cgroup.freeze'), 'utf8').trim() === '1' ? 'frozen' : 'thawed';
  }
  return fs.readFileSync(path.join(cgroupDir(pid, 'freezer')!, 'freezer.state'), 'utf8').trim().toLowerCase();
}

export const NAMESPACES = ['ipc', 'uts', 'net', 'pid', 'mnt', 'cgroup'];

/** "net:[4026531840]"-style links of a process's namespaces. */
export function namespacesOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ns of NAMESPACES) out[ns] = fs.readlinkSync(`/proc/${pid}/ns/${ns}`);
  return out;
}

/** Every cgroup directory (any hierarchy) below `parent` whose name contains `id`. */
export function cgroupDirsMentioning(parent: string, id: string): string[] {
  const tops = cgroupV2Only
    ? [path.join('/sys/fs/cgroup', parent)]
    : fs.readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h, parent));
  return tops.flatMap((top) => [...walkTree(top, 4)].filter((e) => e.dirent.isDirectory() && e.dirent.name.includes(id)).map((e) => e.path));
}

/** Host processes whose cgroup or command line names `id`. */
export function processesMentioning(id: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const cgroup = fs.readFileSync(`/proc/${entry}/cgroup`, 'utf8');
      if (cgroup.includes(id) || cmdline.includes(id)) found.push(`${entry} (${cmdline || '?'})`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Mount points of the host mount namespace that name `id`. */
export function mountsMentioning(id: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && m.includes(id));
}

/**
 * What is left of a removed container: its state directory in the runtime's root, cgroups,
 * processes (its init, anything in its cgroup or naming it: shims, conmon), mounts.
 * Waits a little, since clients finish some of this just after they return.
 */
export function leftovers(c: { id: string; stateDir: string; cgroupParent: string; init?: HostProcess }, timeoutMs = 5000): string[] {
  const look = (): string[] => {
    const found: string[] = [];
    if (fs.existsSync(c.stateDir)) found.push(`state directory ${c.stateDir}: ${fs.readdirSync(c.stateDir).join(' ')}`);
    if (c.init && alive(c.init)) found.push(`init process ${c.init.pid}`);
    for (const d of cgroupDirsMentioning(c.cgroupParent, c.id)) found.push(`cgroup ${d}`);
    for (const p of processesMentioning(c.id)) found.push(`process ${p}`);
    for (const m of mountsMentioning(c.id)) found.push(`mount ${m}`);
    return found;
  };
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = look();
    if (found.length === 0 || Date.now() > end) return found;
    sleepMs(100);
  }
}

/** "856.1kB", "1.2MiB", "0B": a size as podman (SI) and docker (binary) print it, in bytes. */
export function parseSize(text: string): number {
  const m = /^([\d.]+)\s*([kKMGT]?)(i?)B$/.exec(text.trim());
  if (!m) return NaN;
  const power = ' kMGT'.indexOf(m[2].toLowerCase() === 'k' ? 'k' : m[2] || ' ');
  return Number(m[1]) * (m[3] ? 1024 : 1000) ** power;
}
