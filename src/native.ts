/**
 * Typed access to the N-API addon (native/addon). Loaded on first use so commands that
 * never touch it (spec, features, --help) do not pay for dlopen.
 */
import * as path from 'path';
import type { SeccompCompileInput } from './plan/seccomp';

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export interface WaitStatus {
  pid: number; // 0 with nohang when the child still runs
  exitCode?: number;
  signal?: number;
}

export interface InitMessage {
  type: number;
  payload: Buffer;
  fds: number[];
}

export interface NativeBinding {
  flock(fd: number, op: number): void;
  /** _exit(2): no teardown. */
  exitNow(status: number): never;
  /** Waits up to timeoutMs for fd to be readable (or at end of file); true when it is. */
  pollReadable(fd: number, timeoutMs: number): boolean;
  mkfifo(path: string, mode: number): void;
  /** Start the init helper from a sealed copy of `helperPath`; its socket end lands at fd 3+preserveFds. */
  spawnInit(helperPath: string, preserveFds: number): { pid: number; sock: number };
  sendMsg(sock: number, type: number, payload: Buffer, fds?: number[]): void;
  /** null when the init side closed the socket. */
  recvMsg(sock: number): InitMessage | null;
  waitpid(pid: number, nohang?: boolean): WaitStatus;
  waitpidAsync(pid: number): Promise<WaitStatus>;
  /** Blocks until the child exits, passing it the given signals (numbers) meanwhile. */
  waitForwarding(pid: number, signals: number[]): WaitStatus;
  setChildSubreaper(): void;
  connectUnix(path: string): number;
  setWinsize(fd: number, rows: number, cols: number): void;
  close(fd: number): void;
  /**
   * Load a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn bytes) and attach it to the
   * cgroup v2 directory in place of the device programs attached there; returns how many it replaced.
   */
  attachDeviceFilter(cgroupDir: string, insns: Buffer, license: string): number;
  /** Ids of the device programs attached directly to the cgroup v2 directory. */
  deviceFilterIds(cgroupDir: string): number[];
  /** A new user namespace with these uid_map/gid_map texts, as an fd (for id-mapped mounts). */
  makeUserns(uidMap: string, gidMap: string): number;
  /** A detached copy of the mount at source (cloneSubmounts: with its submounts), id-mapped
   * through the user namespace usernsFd (mapSubmounts: the submounts too); an fd for move_mount. */
  idmappedTree(source: string, usernsFd: number, cloneSubmounts: boolean, mapSubmounts: boolean): number;
}

/** native/addon/seccomp.cc: a module of its own, so only seccomp work loads libseccomp. */
export interface SeccompBinding {
  /** linux.seccomp as BPF; errors may carry ruleIndex or archIndex. */
  compileSeccomp(input: SeccompCompileInput): { bpf: Buffer; unknownSyscalls: string[] };
  seccompVersion(): { version: string; apiLevel: number };
  /** libseccomp's version and API level, which of `archs` it knows, the filter flags the kernel takes. */
  seccompInfo(archs: string[]): { version: string; apiLevel: number; archs: string[]; flags: Record<string, number>; newListener: boolean };
}

let binding: NativeBinding | undefined;
let seccompBinding: SeccompBinding | undefined;

/** Directory holding the built native artefacts (addon and init helper). */
export function nativeBuildDir(): string {
  return process.env.TSRUN_NATIVE_DIR ?? path.join(__dirname, '..', 'build', 'Release');
}

export function initHelperPath(): string {
  return path.join(nativeBuildDir(), 'tsrun-init');
}

/** dlopen the addon directly: require() would first resolve the path (~0.5 ms of stats). */
function loadAddon(file: string): unknown {
  const mod = { exports: {} };
  process.dlopen(mod, path.join(nativeBuildDir(), file));
  return mod.exports;
}

export function native(): NativeBinding {
  if (!binding) {
    binding = loadAddon('tsrun_native.node') as NativeBinding;
  }
  return binding;
}

export function seccompNative(): SeccompBinding {
  if (!seccompBinding) {
    seccompBinding = loadAddon('tsrun_seccomp.node') as SeccompBinding;
  }
  return seccompBinding;
}

/**
 * End the process with status once the command is done: the 'exit' listeners run, then the
 * addon's _exit skips Node's teardown (V8's platform, C++ destructors; ~5% of `state`). All
 * output is written synchronously, so nothing is lost. process.exit when the addon cannot load.
 */
export function exitProcess(status: number): never {
  // Node started with flags of its own (--cpu-prof, --inspect...) writes their output at exit.
  if (process.execArgv.length > 0) process.exit(status);
  process.exitCode = status;
  process.emit('exit', status);
  let n: NativeBinding | undefined;
  try {
    n = native();
  } catch {
    /* not built, or made unloadable by the code-cache warm-up */
  }
  if (n) n.exitNow(status);
  process.removeAllListeners('exit'); // they ran above
  process.exit(status);
}
