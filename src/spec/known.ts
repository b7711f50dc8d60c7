// Closed vocabularies of Linux that config.json refers to by name. Numbers are the kernel's, so
// the plan layer can turn names into what the native side passes to the system calls.

/** Linux capabilities by name, in kernel number order (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

export const CAPABILITY_NAMES: readonly string[] = Object.freeze(Object.keys(CAPABILITIES));

/** Resource limits by name, with the resource number setrlimit/prlimit take. */
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

export const NAMESPACE_TYPES = Object.freeze([
  'pid',
  'network',
  'mount',
  'ipc',
  'uts',
  'user',
  'cgroup',
  'time',
] as const);

export const HOOK_NAMES = Object.freeze([
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const);

/** System V IPC sysctls (besides fs.mqueue.*) that belong to the IPC namespace. */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/**
 * Which namespace makes a sysctl private to the container, or undefined when setting it would
 * change the host for everyone. Keys may use '/' as the separator, as in /proc/sys paths.
 */
export function sysctlNamespace(key: string): 'ipc' | 'network' | 'uts' | 'user' | undefined {
  const name = normalizeSysctl(key);
  if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) return 'ipc';
  if (name.startsWith('net.')) return 'network';
  if (name === 'kernel.hostname' || name === 'kernel.domainname') return 'uts';
  // Per-user-namespace ucounts (user.max_*): only safe when the container owns its user namespace.
  if (name.startsWith('user.')) return 'user';
  return undefined;
}

/** The dotted form of a sysctl key ("net/ipv4/ip_forward" -> "net.ipv4.ip_forward"). */
export function normalizeSysctl(key: string): string {
  return key.replace(/\//g, '.');
}
