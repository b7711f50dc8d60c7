/**
 * Encodes a LaunchPlan into the TLV records native/init/plan.c parses: [u16 tag][u16 0][u32 len]
 * [value], little-endian; nested records carry an encoded list as their value. Tags must match
 * native/init/plan.h.
 */
import type { LaunchPlan, MountStep, DeviceNode, PlanHook } from './types';

export const T = {
  CLONE_FLAGS: 1, JOIN_NS: 2, TIME_OFFSETS: 4, HOSTNAME: 5, DOMAINNAME: 6,
  ROOTFS: 10, ROOTFS_PROPAGATION: 11, NO_PIVOT: 12, READONLY_ROOT: 13, MOUNT: 14, DEVICE: 15,
  MASKED: 16, READONLY_PATH: 17, SYSCTL: 18,
  ARG: 20, ENV: 21, CWD: 22, UID: 23, GID: 24, ADD_GID: 25, UMASK: 26, CAPS: 27, RLIMIT: 32,
  NO_NEW_PRIVS: 33, PERSONALITY: 34, SCHED: 35, IOPRIO: 36, CPU_AFFINITY_INITIAL: 37,
  CPU_AFFINITY_FINAL: 38, TERMINAL: 39, CONSOLE_ROWS: 40, CONSOLE_COLS: 41, EXEC_FIFO: 42,
  HOOK_CREATE_CONTAINER: 43, HOOK_START_CONTAINER: 44, NEW_KEYRING: 50, PRESERVE_FDS: 52,
  SECCOMP: 53, OOM_SCORE_ADJ: 59, APPARMOR: 60, SELINUX_LABEL: 61, SECCOMP_FLAGS: 54, DEV_TMPFS_DEFAULTS: 56, EXEC_MODE: 57, SECCOMP_LISTENER: 58,
  NS_FLAG: 100, NS_PATH: 101,
  M_SOURCE: 110, M_DEST: 111, M_TYPE: 112, M_FLAGS: 113, M_DATA: 114, M_PROPAGATION: 115,
  M_ATTR_SET: 116, M_ATTR_CLR: 117, M_BIND: 118, M_REMOUNT_FLAGS: 119, M_MKDIR_ONLY: 120,
  M_SYMLINK: 121, M_TMPCOPYUP: 122, M_IDMAP: 123,
  D_PATH: 130, D_TYPE: 131, D_MAJOR: 132, D_MINOR: 133, D_MODE: 134, D_UID: 135, D_GID: 136, D_BIND: 137,
  KEY: 140, VALUE: 141,
  CAP_BOUNDING: 150, CAP_EFFECTIVE: 151, CAP_INHERITABLE: 152, CAP_PERMITTED: 153, CAP_AMBIENT: 154,
  R_TYPE: 160, R_SOFT: 161, R_HARD: 162,
  H_PATH: 170, H_ARG: 171, H_ENV: 172, H_TIMEOUT: 173,
} as const;

/** Message types of the parent <-> init protocol (native/init/wire.h). */
export const MSG = {
  PLAN: 1, MAPS_DONE: 2, HOOKS_DONE: 3, MOUNT_TREE: 4,
  NEED_MAPS: 10, INIT_PID: 11, RUN_HOOKS: 12, READY: 13, ERROR: 14, PTY_MASTER: 15,
} as const;

/**
 * Writes records into one buffer that grows as needed. A nested record's header is written
 * first and its length patched once its contents are in: no buffer per record, no concatenation
 * (a few hundred small Buffers cost milliseconds and a young-generation GC at create time).
 */
class TlvWriter {
  private buf = Buffer.allocUnsafe(8192);
  private len = 0;

  private reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  private header(tag: number, length: number): number {
    const at = this.reserve(8);
    this.buf.writeUInt32LE(tag, at); // tag, then the u16 0 of padding
    this.buf.writeUInt32LE(length, at + 4);
    return at;
  }
  // Each writer reserves first and only then reads this.buf: reserving may replace it.
  bytes(tag: number, value: Buffer): this {
    this.header(tag, value.length);
    const at = this.reserve(value.length);
    value.copy(this.buf, at);
    return this;
  }
  str(tag: number, s: string | undefined): this {
    if (s !== undefined) {
      if (s.includes('\0')) throw new Error(`NUL byte in plan string (tag ${tag})`);
      const n = Buffer.byteLength(s);
      this.header(tag, n);
      const at = this.reserve(n);
      this.buf.write(s, at, n, 'utf8');
    }
    return this;
  }
  strs(tag: number, list: readonly string[] | undefined): this {
    for (const s of list ?? []) this.str(tag, s);
    return this;
  }
  u32(tag: number, v: number | boolean | undefined): this {
    if (v === undefined || v === false) return this;
    return this.u32Always(tag, v === true ? 1 : v);
  }
  /** A u32 record that is present even when the value is 0 (umask 0, uid 0 are meaningful). */
  u32Always(tag: number, v: number): this {
    this.header(tag, 4);
    const at = this.reserve(4);
    this.buf.writeUInt32LE(v >>> 0, at);
    return this;
  }
  u64(tag: number, v: bigint): this {
    this.header(tag, 8);
    const at = this.reserve(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), at);
    return this;
  }
  nested(tag: number, fill: (w: TlvWriter) => void): this {
    const at = this.header(tag, 0);
    fill(this);
    this.buf.writeUInt32LE(this.len - at - 8, at + 4);
    return this;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

function mount(w: TlvWriter, m: MountStep): void {
  w.str(T.M_DEST, m.destination).str(T.M_SOURCE, m.source).str(T.M_TYPE, m.type).str(T.M_DATA, m.data);
  w.u32(T.M_FLAGS, m.flags).u32(T.M_REMOUNT_FLAGS, m.remountFlags).u32(T.M_BIND, m.bind);
  for (const p of m.propagation) w.u32(T.M_PROPAGATION, p);
  if (m.attrSet) w.u64(T.M_ATTR_SET, m.attrSet);
  if (m.attrClr) w.u64(T.M_ATTR_CLR, m.attrClr);
  w.u32(T.M_MKDIR_ONLY, m.mkdirOnly).str(T.M_SYMLINK, m.symlink).u32(T.M_TMPCOPYUP, m.tmpcopyup).u32(T.M_IDMAP, m.idmap !== undefined);
}

function device(w: TlvWriter, d: DeviceNode): void {
  w.str(T.D_PATH, d.path).u32(T.D_TYPE, d.type).u32(T.D_MAJOR, d.major).u32(T.D_MINOR, d.minor);
  w.u32(T.D_MODE, d.mode).u32(T.D_UID, d.uid).u32(T.D_GID, d.gid).u32(T.D_BIND, d.bind);
}

function hook(w: TlvWriter, h: PlanHook): void {
  w.str(T.H_PATH, h.path).strs(T.H_ARG, h.args).strs(T.H_ENV, h.env).u32(T.H_TIMEOUT, h.timeout);
}

export function encodePlan(p: LaunchPlan): Buffer {
  const w = new TlvWriter();
  w.u32(T.CLONE_FLAGS, p.cloneFlags);
  for (const j of p.joins) w.nested(T.JOIN_NS, (n) => n.u32(T.NS_FLAG, j.flag).str(T.NS_PATH, j.path));
  w.str(T.TIME_OFFSETS, p.timeOffsets).str(T.HOSTNAME, p.hostname).str(T.DOMAINNAME, p.domainname);
  w.str(T.ROOTFS, p.rootfs).u32(T.ROOTFS_PROPAGATION, p.rootfsPropagation);
  w.u32(T.NO_PIVOT, p.noPivot).u32(T.READONLY_ROOT, p.readonlyRoot).u32(T.DEV_TMPFS_DEFAULTS, p.devDefaults);
  w.u32(T.EXEC_MODE, p.execMode);
  for (const m of p.mounts) w.nested(T.MOUNT, (n) => mount(n, m));
  for (const d of p.devices) w.nested(T.DEVICE, (n) => device(n, d));
  w.strs(T.MASKED, p.maskedPaths).strs(T.READONLY_PATH, p.readonlyPaths);
  for (const [k, v] of p.sysctl) w.nested(T.SYSCTL, (n) => n.str(T.KEY, k).str(T.VALUE, v));

  w.strs(T.ARG, p.args).strs(T.ENV, p.env).str(T.CWD, p.cwd);
  w.u32(T.UID, p.uid).u32(T.GID, p.gid);
  for (const g of p.additionalGids) w.u32(T.ADD_GID, g);
  if (p.umask !== undefined) w.u32Always(T.UMASK, p.umask);
  const caps = p.capabilities;
  if (caps) {
    w.nested(T.CAPS, (n) =>
      n.u64(T.CAP_BOUNDING, caps.bounding).u64(T.CAP_EFFECTIVE, caps.effective).u64(T.CAP_INHERITABLE, caps.inheritable)
        .u64(T.CAP_PERMITTED, caps.permitted).u64(T.CAP_AMBIENT, caps.ambient),
    );
  }
  for (const r of p.rlimits) w.nested(T.RLIMIT, (n) => n.u32Always(T.R_TYPE, r.type).u64(T.R_SOFT, r.soft).u64(T.R_HARD, r.hard));
  w.u32(T.NO_NEW_PRIVS, p.noNewPrivileges);
  w.str(T.APPARMOR, p.apparmorProfile).str(T.SELINUX_LABEL, p.selinuxLabel);
  if (p.oomScoreAdj !== undefined) w.u32Always(T.OOM_SCORE_ADJ, p.oomScoreAdj);
  if (p.personality !== undefined) w.u32Always(T.PERSONALITY, p.personality);
  if (p.scheduler) w.bytes(T.SCHED, p.scheduler);
  if (p.ioPriority !== undefined) w.u32Always(T.IOPRIO, p.ioPriority);
  if (p.cpuAffinityInitial) w.bytes(T.CPU_AFFINITY_INITIAL, p.cpuAffinityInitial);
  if (p.cpuAffinityFinal) w.bytes(T.CPU_AFFINITY_FINAL, p.cpuAffinityFinal);
  w.u32(T.TERMINAL, p.terminal);
  if (p.consoleSize) w.u32(T.CONSOLE_ROWS, p.consoleSize.rows).u32(T.CONSOLE_COLS, p.consoleSize.cols);
  w.str(T.EXEC_FIFO, p.execFifo);
  for (const h of p.createContainerHooks) w.nested(T.HOOK_CREATE_CONTAINER, (n) => hook(n, h));
  for (const h of p.startContainerHooks) w.nested(T.HOOK_START_CONTAINER, (n) => hook(n, h));
  w.str(T.NEW_KEYRING, p.sessionKeyring).u32(T.PRESERVE_FDS, p.preserveFds);
  if (p.seccomp) w.bytes(T.SECCOMP, p.seccomp).u32(T.SECCOMP_FLAGS, p.seccompFlags).u32(T.SECCOMP_LISTENER, p.seccompListener);
  return w.done();
}
