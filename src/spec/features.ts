// `tsrun features`: what this build implements, per the runtime-spec features document.
// It must list only what is implemented; clients (containerd's shim) rely on it to decide what
// they may put in config.json. Widen an entry here in the same change that implements it.
import { seccompNative } from '../native';
import { SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../plan/seccomp';
import { VERSION } from '../version';
import { CAPABILITY_NAMES, HOOK_NAMES, NAMESPACE_TYPES } from './known';
import type { Features, LinuxFeatures, SeccompOperator } from './types';

/**
 * Mount options the plan layer turns into mount(2) flags or propagation changes, and id-mapped
 * binds (idmap, ridmap). Not yet here: the recursive attribute forms (rro, rnosuid, ... via
 * mount_setattr), tmpcopyup.
 */
export const SUPPORTED_MOUNT_OPTIONS: readonly string[] = Object.freeze([
  'async',
  'atime',
  'bind',
  'defaults',
  'dev',
  'diratime',
  'dirsync',
  'exec',
  'idmap',
  'iversion',
  'lazytime',
  'loud',
  'mand',
  'noatime',
  'nodev',
  'nodiratime',
  'noexec',
  'noiversion',
  'nolazytime',
  'nomand',
  'norelatime',
  'nostrictatime',
  'nosuid',
  'nosymfollow',
  'private',
  'rbind',
  'relatime',
  'ridmap',
  'remount',
  'ro',
  'rprivate',
  'rshared',
  'rslave',
  'runbindable',
  'rw',
  'shared',
  'silent',
  'slave',
  'strictatime',
  'suid',
  'symfollow',
  'sync',
  'unbindable',
]);

/** Seccomp as this build, its libseccomp and the kernel support it; off when the addon is missing. */
function seccompFeatures(): { seccomp: NonNullable<LinuxFeatures['seccomp']>; libseccompVersion?: string } {
  let info: ReturnType<ReturnType<typeof seccompNative>['seccompInfo']>;
  try {
    info = seccompNative().seccompInfo(Object.values(SECCOMP_ARCHS));
  } catch {
    return { seccomp: { enabled: false } };
  }
  const libseccompKnows = new Set(info.archs);
  return {
    seccomp: {
      enabled: true,
      actions: [...SECCOMP_ACTIONS],
      operators: Object.keys(SECCOMP_OPERATORS) as SeccompOperator[],
      archs: Object.keys(SECCOMP_ARCHS).filter((a) => a !== 'SCMP_ARCH_NATIVE' && libseccompKnows.has(SECCOMP_ARCHS[a])),
      knownFlags: Object.keys(SECCOMP_FLAGS),
      supportedFlags: Object.keys(SECCOMP_FLAGS).filter((f) => f in info.flags),
    },
    libseccompVersion: info.version,
  };
}

export function featuresDocument(): Features {
  const { seccomp, libseccompVersion } = seccompFeatures();
  const annotations: Record<string, string> = { 'io.github.tsrun.version': VERSION };
  if (libseccompVersion) annotations['io.github.seccomp.libseccomp.version'] = libseccompVersion;
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: [...HOOK_NAMES],
    mountOptions: [...SUPPORTED_MOUNT_OPTIONS],
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp,
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations,
  };
}
