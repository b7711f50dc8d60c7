/**
 * linux.seccomp for a process about to start: compile the profile with libseccomp (in the addon),
 * pick the filter flags this kernel takes, and reach the notify listener. Shared by `create` and
 * `exec` (an exec'd process gets the container's profile, as with runc).
 */
import { TsrunError } from '../errors';
import { logger } from '../log';
import { native, nativeBuildDir, seccompNative } from '../native';
import {
  capabilitiesForSeccomp,
  containerProcessState,
  seccompCompileInput,
  seccompFilterFlags,
  usesNotify,
  type ContainerProcessState,
  type SeccompCompileInput,
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

interface Compiled {
  bpf: Buffer;
  unknownSyscalls: string[];
}

/**
 * libseccomp takes 15-40 ms for a docker-sized profile, more than the rest of `create`, and
 * clients send the same profile with every container. Programs are kept in <root>/.seccomp-cache
 * (a dot name: never listed as a container), keyed by the input and everything else the output
 * depends on: libseccomp's version and API level, the addon build, the architecture.
 */
function compileCached(input: SeccompCompileInput, cacheDir: string | undefined): Compiled {
  const n = seccompNative();
  if (!cacheDir) return n.compileSeccomp(input);
  const fs = require('fs') as typeof import('fs');
  const crypto = require('crypto') as typeof import('crypto');
  const path = require('path') as typeof import('path');
  let file: string | undefined;
  try {
    const addon = fs.statSync(path.join(nativeBuildDir(), 'tsrun_seccomp.node'), { bigint: true });
    const key = JSON.stringify([input, n.seccompVersion(), String(addon.mtimeNs), String(addon.size), process.arch], (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    file = path.join(cacheDir, `${crypto.createHash('sha256').update(key).digest('hex')}.json`);
    const hit = JSON.parse(fs.readFileSync(file, 'utf8')) as { bpf: string; unknownSyscalls: string[] };
    const bpf = Buffer.from(hit.bpf, 'base64');
    if (bpf.length > 0 && bpf.length % 8 === 0 && Array.isArray(hit.unknownSyscalls)) return { bpf, unknownSyscalls: hit.unknownSyscalls };
  } catch {
    /* a miss, or an unusable entry: compile */
  }
  const compiled = n.compileSeccomp(input);
  if (file) {
    try {
      fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ bpf: compiled.bpf.toString('base64'), unknownSyscalls: compiled.unknownSyscalls }), { mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch (err) {
      logger.debug(`seccomp: cannot cache the compiled program: ${(err as Error).message}`);
    }
  }
  return compiled;
}

/** The cache directory under a state root. */
export function seccompCacheDir(root: string): string {
  return `${root.replace(/\/+$/, '')}/.seccomp-cache`;
}

/**
 * Compile linux.seccomp; undefined without one. Errors name the JSON path of the culprit.
 * `cacheDir` (see seccompCacheDir) reuses programs compiled before.
 */
export function compileSeccomp(profile: LinuxSeccomp | undefined, cacheDir?: string): CompiledSeccomp | undefined {
  if (!profile) return undefined;
  const n = seccompNative();
  let compiled: Compiled;
  try {
    compiled = compileCached(seccompCompileInput(profile), cacheDir);
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

/**
 * The containerProcessState the listener receives, as runc sends it: for a container's init the
 * state says "creating"; for an exec'd process (`execPid`) the container is "running".
 */
export function listenerState(compiled: CompiledSeccomp | undefined, state: State, execPid?: number): ContainerProcessState | undefined {
  if (!compiled?.listenerPath) return undefined;
  if (execPid !== undefined) return containerProcessState(compiled.profile, SPEC_VERSION, execPid, { ...state, status: 'running' });
  return containerProcessState(compiled.profile, SPEC_VERSION, state.pid ?? 0, { ...state, status: 'creating' });
}
