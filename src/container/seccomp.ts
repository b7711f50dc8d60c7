/**
 * linux.seccomp for a process about to start: compile the profile with libseccomp (in the addon),
 * pick the filter flags this kernel takes, and reach the notify listener. Shared by `create` and
 * `exec` (an exec'd process gets the container's profile, as with runc).
 */
import { TsrunError } from '../errors';
import { logger } from '../log';
import { native } from '../native';
import {
  capabilitiesForSeccomp,
  containerProcessState,
  seccompCompileInput,
  seccompFilterFlags,
  usesNotify,
  type ContainerProcessState,
} from '../plan/seccomp';
import type { LaunchPlan } from '../plan/types';
import type { LinuxSeccomp, State } from '../spec/types';
import { formatPath } from '../spec/validate';
import { SPEC_VERSION } from '../version';

export interface CompiledSeccomp {
  profile: LinuxSeccomp;
  program: Buffer; // struct sock_filter[]
  flags: number; // seccomp(2) flags
  /** Set when a rule notifies: the socket that gets the notify fd. */
  listenerPath?: string;
}

function configError(path: (string | number)[], message: string): TsrunError {
  return new TsrunError(`config.json: ${formatPath(['linux', 'seccomp', ...path])}: ${message}`);
}

/** Compile linux.seccomp; undefined without one. Errors name the JSON path of the culprit. */
export function compileSeccomp(profile: LinuxSeccomp | undefined): CompiledSeccomp | undefined {
  if (!profile) return undefined;
  const n = native();
  let compiled: { bpf: Buffer; unknownSyscalls: string[] };
  try {
    compiled = n.compileSeccomp(seccompCompileInput(profile));
  } catch (err) {
    const e = err as Error & { ruleIndex?: number; archIndex?: number };
    if (e.archIndex !== undefined) {
      throw configError(['architectures', e.archIndex], `${profile.architectures?.[e.archIndex]}: ${e.message}`);
    }
    if (e.ruleIndex !== undefined) throw configError(['syscalls', e.ruleIndex], e.message);
    throw new TsrunError(`seccomp: ${e.message}`, { cause: err });
  }
  // As runc: a name this libseccomp does not know is a syscall this kernel cannot have.
  for (const name of compiled.unknownSyscalls) logger.debug(`seccomp: unknown syscall "${name}" skipped`);

  // Probing the kernel's flags costs a few syscalls; only profiles with flags need it.
  const { flags, unsupported } = seccompFilterFlags(profile, profile.flags?.length ? n.seccompInfo([]).flags : {});
  for (const name of unsupported) logger.warn(`seccomp: flag ${name} is not supported by this kernel; ignored`);
  return { profile, program: compiled.bpf, flags, listenerPath: usesNotify(profile) ? profile.listenerPath : undefined };
}

/**
 * Put the program into the plan. Without no_new_privs the init needs CAP_SYS_ADMIN to install
 * it, so the plan keeps that capability until execve (see capabilitiesForSeccomp). A non-root
 * process without a capabilities section would lose every capability at setuid; it gets one
 * that changes nothing after execve but keeps CAP_SYS_ADMIN until then.
 */
export function addSeccompToPlan(plan: LaunchPlan, compiled: CompiledSeccomp | undefined): void {
  if (!compiled) return;
  plan.seccomp = compiled.program;
  plan.seccompFlags = compiled.flags;
  plan.seccompListener = compiled.listenerPath !== undefined;
  if (!plan.capabilities && plan.uid !== 0 && !plan.noNewPrivileges) {
    plan.capabilities = { bounding: (1n << 64n) - 1n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n };
  }
  plan.capabilities = capabilitiesForSeccomp(plan.capabilities, plan.noNewPrivileges);
}

/** Connect to the notify listener now, on the host; the init sends on it right before execve. */
export function connectSeccompListener(compiled: CompiledSeccomp | undefined): number {
  if (!compiled?.listenerPath) return -1;
  try {
    return native().connectUnix(compiled.listenerPath);
  } catch (err) {
    throw new TsrunError(`connect to the seccomp listener (linux.seccomp.listenerPath): ${(err as Error).message}`, { cause: err });
  }
}

/** The containerProcessState the listener receives; status "creating" as runc sends it. */
export function listenerState(compiled: CompiledSeccomp | undefined, state: State): ContainerProcessState | undefined {
  if (!compiled?.listenerPath) return undefined;
  return containerProcessState(compiled.profile, SPEC_VERSION, { ...state, status: 'creating' });
}
