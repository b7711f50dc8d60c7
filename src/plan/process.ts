/** The container process: capabilities, rlimits, scheduling and affinity as kernel values. */
import type { LinuxCapabilities, POSIXRlimit, Scheduler, IOPriority } from '../spec/types';
import { CAPABILITIES, RLIMITS } from '../spec/known';
import { TsrunError } from '../errors';
import type { CapabilityMasks, Rlimit } from './types';

function capMask(names: readonly string[] | undefined, where: string): bigint {
  let mask = 0n;
  for (const [i, name] of (names ?? []).entries()) {
    const n = CAPABILITIES[name];
    if (n === undefined) throw new TsrunError(`${where}[${i}]: unknown capability "${name}"`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

export function capabilityMasks(caps: LinuxCapabilities): CapabilityMasks {
  const w = 'process.capabilities';
  const inheritable = capMask(caps.inheritable, `${w}.inheritable`);
  const permitted = capMask(caps.permitted, `${w}.permitted`);
  return {
    bounding: capMask(caps.bounding, `${w}.bounding`),
    effective: capMask(caps.effective, `${w}.effective`),
    inheritable,
    permitted,
    // The kernel raises an ambient capability only if it is permitted and inheritable; runc
    // skips the others without failing, so a config that works there works here.
    ambient: capMask(caps.ambient, `${w}.ambient`) & permitted & inheritable,
  };
}

const RLIM_INFINITY = 0xffffffffffffffffn;

function rlimitValue(v: number): bigint {
  // JSON cannot carry 2^64-1 exactly; anything at or past 2^63 means unlimited
  return v >= 2 ** 63 || v < 0 ? RLIM_INFINITY : BigInt(Math.trunc(v));
}

export function rlimits(list: readonly POSIXRlimit[] = []): Rlimit[] {
  return list.map((r, i) => {
    const type = RLIMITS[r.type];
    if (type === undefined) throw new TsrunError(`process.rlimits[${i}].type: unknown rlimit "${r.type}"`);
    return { type, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) };
  });
}

const SCHED_POLICIES: Record<string, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};
const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

/** struct sched_attr (SCHED_ATTR_SIZE_VER0, 48 bytes) as sched_setattr(2) reads it. */
export function schedAttr(s: Scheduler): Buffer {
  const policy = SCHED_POLICIES[s.policy];
  if (policy === undefined) throw new TsrunError(`process.scheduler.policy: unknown policy "${s.policy}"`);
  let flags = 0;
  for (const [i, f] of (s.flags ?? []).entries()) {
    const v = SCHED_FLAGS[f];
    if (v === undefined) throw new TsrunError(`process.scheduler.flags[${i}]: unknown flag "${f}"`);
    flags |= v;
  }
  const b = Buffer.alloc(48);
  b.writeUInt32LE(48, 0);
  b.writeUInt32LE(policy, 4);
  b.writeBigUInt64LE(BigInt(flags), 8);
  b.writeInt32LE(s.nice ?? 0, 16);
  b.writeUInt32LE(s.priority ?? 0, 20);
  b.writeBigUInt64LE(BigInt(s.runtime ?? 0), 24);
  b.writeBigUInt64LE(BigInt(s.deadline ?? 0), 32);
  b.writeBigUInt64LE(BigInt(s.period ?? 0), 40);
  return b;
}

const IOPRIO_CLASSES: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

export function ioPriority(p: IOPriority): number {
  const cls = IOPRIO_CLASSES[p.class];
  if (cls === undefined) throw new TsrunError(`process.ioPriority.class: unknown class "${p.class}"`);
  if (p.priority < 0 || p.priority > 7) throw new TsrunError(`process.ioPriority.priority: must be 0..7, got ${p.priority}`);
  return (cls << 13) | p.priority;
}

/** "0-3,7" → a cpu_set_t bit mask (1024 CPUs, as glibc's cpu_set_t). */
export function cpuMask(list: string, where: string): Buffer {
  const mask = Buffer.alloc(128);
  for (const part of list.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new TsrunError(`${where}: invalid CPU list "${list}"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= 1024) throw new TsrunError(`${where}: invalid CPU range "${part.trim()}"`);
    for (let c = lo; c <= hi; c++) mask[c >> 3] |= 1 << (c & 7);
  }
  return mask;
}

const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

export function personality(domain: string, flags: readonly string[] = []): number {
  const v = PERSONALITY_DOMAINS[domain];
  if (v === undefined) throw new TsrunError(`linux.personality.domain: unknown domain "${domain}"`);
  if (flags.length) throw new TsrunError(`linux.personality.flags: not supported: ${flags.join(', ')}`);
  return v;
}
