/** Config (already validated) → launch plan. Pure: every host fact is an argument. */
import * as path from 'path';
import type { Hook, Process, Spec } from '../spec/types';
import { TsrunError } from '../errors';
import { CLONE, MS } from './linux';
import { mountSteps, type CgroupMountSource, type MountContext } from './mounts';
import { deviceNodes } from './devices';
import { namespacePlan, createsNamespace, hasNamespace } from './namespaces';
import { capabilityMasks, cpuMask, ioPriority, personality, rlimits, schedAttr } from './process';
import type { LaunchPlan, NamespaceJoin, PlanHook } from './types';

export interface PlanInput {
  bundle: string; // absolute
  id: string;
  execFifo?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** fds 3..3+n-1 that pass into the container (--preserve-fds plus LISTEN_FDS) */
  preserveFds?: number;
  extraEnv?: string[];
  cgroups?: CgroupMountSource;
}

const ROOTFS_PROPAGATION: Record<string, number> = {
  shared: MS.SHARED | MS.REC,
  slave: MS.SLAVE | MS.REC,
  private: MS.PRIVATE | MS.REC,
  unbindable: MS.UNBINDABLE | MS.REC,
  rshared: MS.SHARED | MS.REC,
  rslave: MS.SLAVE | MS.REC,
  rprivate: MS.PRIVATE | MS.REC,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** The container's user namespace as id-mapped mounts without mappings of their own take it. */
function usernsOf(linux: Spec['linux']): MountContext['userns'] {
  const user = linux?.namespaces?.find((n) => n.type === 'user');
  return user && { path: user.path || undefined, uidMappings: linux?.uidMappings, gidMappings: linux?.gidMappings };
}

function planHooks(hooks: readonly Hook[] | undefined): PlanHook[] {
  return (hooks ?? []).map((h) => ({ path: h.path, args: h.args, env: h.env, timeout: h.timeout }));
}

export function buildPlan(spec: Spec, input: PlanInput): LaunchPlan {
  const proc = spec.process;
  if (!proc) throw new TsrunError('config.json: process: must be present');
  if (!proc.args?.length) throw new TsrunError('config.json: process.args: must have at least 1 item');
  if (!spec.root?.path) throw new TsrunError('config.json: root.path: must be present');
  const linux = spec.linux;
  const ns = namespacePlan(linux);
  // created or joined: either way mknod is refused there and device nodes are bound from the host
  const inUserNs = hasNamespace(linux, 'user');
  const mounts = spec.mounts ?? [];
  const devIsBind = mounts.some((m) => path.posix.normalize(m.destination) === '/dev' && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')));
  if (input.noPivot && !(ns.cloneFlags & CLONE.NEWNS))
    throw new TsrunError('--no-pivot needs a new mount namespace (linux.namespaces has no "mount")');
  const propagation = linux?.rootfsPropagation;
  if (propagation !== undefined && !(propagation in ROOTFS_PROPAGATION))
    throw new TsrunError(`config.json: linux.rootfsPropagation: unknown propagation "${propagation}"`);

  return {
    cloneFlags: ns.cloneFlags,
    joins: ns.joins,
    timeOffsets: ns.timeOffsets,
    hostname: createsNamespace(linux, 'uts') ? spec.hostname : undefined,
    domainname: createsNamespace(linux, 'uts') ? spec.domainname : undefined,

    rootfs: path.resolve(input.bundle, spec.root.path),
    rootfsPropagation: propagation ? ROOTFS_PROPAGATION[propagation] : MS.SLAVE | MS.REC,
    noPivot: input.noPivot ?? false,
    readonlyRoot: spec.root.readonly ?? false,
    mounts: mountSteps(mounts, { bundle: input.bundle, cgroupNamespace: createsNamespace(linux, 'cgroup'), cgroups: input.cgroups, userns: usernsOf(linux) }),
    devices: deviceNodes(linux?.devices, { defaults: !devIsBind, inUserNamespace: inUserNs }),
    devDefaults: !devIsBind,
    maskedPaths: linux?.maskedPaths ?? [],
    readonlyPaths: linux?.readonlyPaths ?? [],
    sysctl: Object.entries(linux?.sysctl ?? {}),
    execMode: false,

    ...processPlan(proc, input.extraEnv),
    personality: linux?.personality ? personality(linux.personality.domain, linux.personality.flags) : undefined,
    execFifo: input.execFifo,
    createContainerHooks: planHooks(spec.hooks?.createContainer),
    startContainerHooks: planHooks(spec.hooks?.startContainer),
    sessionKeyring: input.noNewKeyring ? undefined : `_ses.${input.id}`,
    preserveFds: input.preserveFds ?? 0,
  };
}

type ProcessFields = Pick<
  LaunchPlan,
  'args' | 'env' | 'cwd' | 'uid' | 'gid' | 'additionalGids' | 'umask' | 'capabilities' | 'rlimits' | 'noNewPrivileges' | 'oomScoreAdj' | 'apparmorProfile' | 'selinuxLabel'
  | 'scheduler' | 'ioPriority' | 'cpuAffinityInitial' | 'cpuAffinityFinal' | 'terminal' | 'consoleSize'
>;

/** The process part of a plan: shared by a container's init and by an exec'd process. */
export function processPlan(proc: Process, extraEnv: readonly string[] = []): ProcessFields {
  if (!proc.args?.length) throw new TsrunError('process.args: must have at least 1 item');
  return {
    args: proc.args,
    env: [...(proc.env ?? []), ...extraEnv],
    cwd: proc.cwd || '/',
    uid: proc.user.uid,
    gid: proc.user.gid,
    additionalGids: proc.user.additionalGids ?? [],
    // runc's default: the container never inherits tsrun's own umask
    umask: proc.user.umask ?? 0o022,
    capabilities: proc.capabilities ? capabilityMasks(proc.capabilities) : undefined,
    rlimits: rlimits(proc.rlimits),
    noNewPrivileges: proc.noNewPrivileges ?? false,
    oomScoreAdj: proc.oomScoreAdj,
    apparmorProfile: proc.apparmorProfile || undefined,
    selinuxLabel: proc.selinuxLabel || undefined,
    scheduler: proc.scheduler ? schedAttr(proc.scheduler) : undefined,
    ioPriority: proc.ioPriority ? ioPriority(proc.ioPriority) : undefined,
    cpuAffinityInitial: proc.execCPUAffinity?.initial ? cpuMask(proc.execCPUAffinity.initial, 'process.execCPUAffinity.initial') : undefined,
    cpuAffinityFinal: proc.execCPUAffinity?.final ? cpuMask(proc.execCPUAffinity.final, 'process.execCPUAffinity.final') : undefined,
    terminal: proc.terminal ?? false,
    consoleSize: proc.consoleSize ? { rows: proc.consoleSize.height, cols: proc.consoleSize.width } : undefined,
  };
}

/** A process joining an existing container: its namespaces by path, no rootfs work. */
export function buildExecPlan(proc: Process, input: { joins: NamespaceJoin[]; preserveFds: number; extraEnv?: string[] }): LaunchPlan {
  return {
    cloneFlags: 0,
    joins: input.joins,
    rootfsPropagation: 0,
    noPivot: false,
    readonlyRoot: false,
    mounts: [],
    devices: [],
    devDefaults: false,
    maskedPaths: [],
    readonlyPaths: [],
    sysctl: [],
    execMode: true,
    ...processPlan(proc, input.extraEnv),
    createContainerHooks: [],
    startContainerHooks: [],
    preserveFds: input.preserveFds,
  };
}
