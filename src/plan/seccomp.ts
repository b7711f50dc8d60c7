/**
 * linux.seccomp as libseccomp values: the input of the addon's compileSeccomp, the seccomp(2)
 * filter flags, and the container process state a notify listener receives. Pure; compiling and
 * probing the kernel happen in src/container/seccomp.ts.
 */
import type { LinuxSeccomp, SeccompAction, SeccompOperator, State } from '../spec/types';
import { CAPABILITIES } from '../spec/known';
import type { CapabilityMasks } from './types';

const EPERM = 1;
const ENOSYS = 38;

/** libseccomp's SCMP_ACT_* values (seccomp.h); ERRNO and TRACE carry a 16-bit errno. */
const ACTION_BASE: Record<SeccompAction, number> = {
  SCMP_ACT_KILL: 0x00000000, // = KILL_THREAD
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

export const SECCOMP_ACTIONS = Object.freeze(Object.keys(ACTION_BASE) as SeccompAction[]);

/** libseccomp's enum scmp_compare. */
export const SECCOMP_OPERATORS: Readonly<Record<SeccompOperator, number>> = Object.freeze({
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
});

/** OCI architecture names -> libseccomp's names (seccomp_arch_resolve_name). */
export const SECCOMP_ARCHS: Readonly<Record<string, string>> = Object.freeze({
  SCMP_ARCH_NATIVE: 'native',
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
  SCMP_ARCH_LOONGARCH64: 'loongarch64',
  SCMP_ARCH_M68K: 'm68k',
  SCMP_ARCH_SH: 'sh',
  SCMP_ARCH_SHEB: 'sheb',
});

/** seccomp(2) filter flags by OCI name. */
export const SECCOMP_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  SECCOMP_FILTER_FLAG_TSYNC: 1 << 0,
  SECCOMP_FILTER_FLAG_LOG: 1 << 1,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 1 << 2,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 1 << 5,
});
const FLAG_TSYNC = 1 << 0;
export const FLAG_NEW_LISTENER = 1 << 3;
const FLAG_WAIT_KILLABLE_RECV = 1 << 5;

/** The action value; errno-carrying actions default to EPERM, as runc does. */
export function seccompAction(action: SeccompAction, errnoRet?: number): number {
  const base = ACTION_BASE[action];
  if (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') return (base | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
  return base;
}

export interface SeccompArgInput {
  index: number;
  value: bigint;
  valueTwo: bigint;
  op: number;
}

export interface SeccompRuleInput {
  names: string[];
  action: number;
  args: SeccompArgInput[];
}

/** What the addon's compileSeccomp takes. */
export interface SeccompCompileInput {
  defaultAction: number;
  architectures: string[]; // libseccomp names, in config order (errors name the index)
  enosys: boolean;
  rules: SeccompRuleInput[];
}

// JSON numbers past 2^53 are already rounded; keep them within the u64 the kernel compares.
function u64(v: number | undefined): bigint {
  if (v === undefined || !(v > 0)) return 0n;
  return v >= 2 ** 64 ? 0xffffffffffffffffn : BigInt(Math.trunc(v));
}

/**
 * Whether syscalls newer than the profile get ENOSYS (see native/addon/seccomp.cc): only when
 * the default action refuses. A permissive default (ALLOW, LOG, and TRACE, whose tracer can
 * answer ENOSYS itself) lets them through anyway, and an ENOSYS default already is the answer.
 */
export function wantsEnosys(profile: LinuxSeccomp): boolean {
  const action = profile.defaultAction;
  if (action === 'SCMP_ACT_ALLOW' || action === 'SCMP_ACT_LOG' || action === 'SCMP_ACT_TRACE') return false;
  return !(action === 'SCMP_ACT_ERRNO' && profile.defaultErrnoRet === ENOSYS);
}

export function seccompCompileInput(profile: LinuxSeccomp): SeccompCompileInput {
  return {
    defaultAction: seccompAction(profile.defaultAction, profile.defaultErrnoRet),
    architectures: (profile.architectures ?? []).map((a) => SECCOMP_ARCHS[a] ?? a),
    enosys: wantsEnosys(profile),
    rules: (profile.syscalls ?? []).map((rule) => ({
      names: rule.names,
      action: seccompAction(rule.action, rule.errnoRet),
      args: (rule.args ?? []).map((a) => ({ index: a.index, value: u64(a.value), valueTwo: u64(a.valueTwo), op: SECCOMP_OPERATORS[a.op] })),
    })),
  };
}

export function usesNotify(profile: LinuxSeccomp): boolean {
  return (profile.syscalls ?? []).some((rule) => rule.action === 'SCMP_ACT_NOTIFY');
}

/**
 * seccomp(2) flags for the profile, given the flags this kernel takes (name -> bit). Flags the
 * kernel lacks are left out and reported. TSYNC is dropped beside a listener (the kernel refuses
 * the pair, and the init is single-threaded, so TSYNC changes nothing); WAIT_KILLABLE_RECV only
 * means something with a listener.
 */
export function seccompFilterFlags(profile: LinuxSeccomp, supported: Readonly<Record<string, number>>): { flags: number; unsupported: string[] } {
  const listener = usesNotify(profile);
  let flags = listener ? FLAG_NEW_LISTENER : 0;
  const unsupported: string[] = [];
  for (const name of profile.flags ?? []) {
    const bit = SECCOMP_FLAGS[name];
    if (bit === undefined || supported[name] === undefined) {
      unsupported.push(name);
      continue;
    }
    if (bit === FLAG_TSYNC && listener) continue;
    if (bit === FLAG_WAIT_KILLABLE_RECV && !listener) continue;
    flags |= bit;
  }
  return { flags, unsupported };
}

/**
 * Capabilities while the filter is installed. Without no_new_privs, seccomp(2) needs
 * CAP_SYS_ADMIN, so the init keeps it in its effective and permitted sets until the filter is in
 * place right before execve. execve recomputes both sets from bounding, inheritable, ambient and
 * the file, never from the old permitted set, so the container process ends up exactly as
 * configured.
 */
export function capabilitiesForSeccomp(caps: CapabilityMasks | undefined, noNewPrivileges: boolean): CapabilityMasks | undefined {
  if (!caps || noNewPrivileges) return caps;
  const sysAdmin = 1n << BigInt(CAPABILITIES.CAP_SYS_ADMIN);
  return { ...caps, effective: caps.effective | sysAdmin, permitted: caps.permitted | sysAdmin };
}

/** runtime-spec's containerProcessState, sent with the notify fd to linux.seccomp.listenerPath. */
export interface ContainerProcessState {
  ociVersion: string;
  fds: string[];
  pid: number;
  metadata?: string;
  state: State;
}

/** `pid` is the process the filter belongs to: the container's init, or an exec'd process. */
export function containerProcessState(profile: LinuxSeccomp, ociVersion: string, pid: number, state: State): ContainerProcessState {
  const metadata = profile.listenerMetadata || undefined;
  return { ociVersion, fds: ['seccompFd'], pid, ...(metadata && { metadata }), state };
}
