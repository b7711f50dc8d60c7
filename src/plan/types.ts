/**
 * The flat launch plan: everything the native init needs, resolved from config.json ahead of
 * time (flags as numbers, paths absolute, names turned into kernel values). Built by pure
 * functions in this folder and encoded by ./wire.ts.
 */
export interface NamespaceJoin {
  flag: number; // CLONE_NEW*
  path: string;
}

export interface MountStep {
  destination: string; // absolute inside the container
  source?: string; // host path for binds
  type?: string;
  flags: number; // mount(2) flags for the first mount
  data?: string;
  bind: boolean;
  /** Flags for the bind remount (ro, nosuid, ...) that a bind mount cannot take at once. */
  remountFlags: number;
  propagation: number[]; // MS_SHARED/MS_SLAVE/... (| MS_REC), applied in order
  attrSet: bigint; // mount_setattr MOUNT_ATTR_* for recursive options (rro, rnosuid...)
  attrClr: bigint;
  mkdirOnly?: boolean;
  symlink?: string; // make destination a symlink to this
  tmpcopyup?: boolean;
  /** An id-mapped bind: the parent makes the tree (src/container/idmap.ts), the init attaches it. */
  idmap?: MountIdmap;
}

/** How an id-mapped bind maps ids: on disk (containerID side) -> seen (hostID side), as runc. */
export interface MountIdmap {
  /** uid_map / gid_map text ("containerID hostID size" lines) of a user namespace made for it */
  uidMap: string;
  gidMap: string;
  /** instead: the existing user namespace the container joins */
  usernsPath?: string;
  /** ridmap: the submounts of an rbind are id-mapped too */
  recursive: boolean;
  /** mounts[i], for errors */
  where: string;
}

export interface DeviceNode {
  path: string;
  type: number; // S_IFCHR, S_IFBLK or S_IFIFO
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
  bind: boolean; // bind the host's node instead of mknod (inside a user namespace)
}

export interface PlanHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface Rlimit {
  type: number;
  soft: bigint;
  hard: bigint;
}

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  inheritable: bigint;
  permitted: bigint;
  ambient: bigint;
}

export interface LaunchPlan {
  cloneFlags: number;
  joins: NamespaceJoin[];
  timeOffsets?: string; // contents for /proc/self/timens_offsets
  hostname?: string;
  domainname?: string;

  rootfs?: string;
  rootfsPropagation: number;
  noPivot: boolean;
  readonlyRoot: boolean;
  mounts: MountStep[];
  devices: DeviceNode[];
  devDefaults: boolean; // /dev/ptmx, /dev/fd and the stdio links
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctl: [string, string][];
  execMode: boolean;

  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
  capabilities?: CapabilityMasks;
  rlimits: Rlimit[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
  personality?: number;
  scheduler?: Buffer; // struct sched_attr
  ioPriority?: number;
  cpuAffinityInitial?: Buffer;
  cpuAffinityFinal?: Buffer;
  terminal: boolean;
  consoleSize?: { rows: number; cols: number };
  execFifo?: string;
  createContainerHooks: PlanHook[];
  startContainerHooks: PlanHook[];
  sessionKeyring?: string;
  preserveFds: number;
  seccomp?: Buffer; // struct sock_filter[], installed right before execve
  seccompFlags?: number;
  /** A notify listener socket follows the exec fifo (and console socket) in the PLAN fds. */
  seccompListener?: boolean;
}
