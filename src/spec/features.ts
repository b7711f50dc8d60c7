// `tsrun features`: what this build implements, per the runtime-spec features document.
// It must list only what is implemented; clients (containerd's shim) rely on it to decide what
// they may put in config.json. Widen an entry here in the same change that implements it.
import { VERSION } from '../version';
import { CAPABILITY_NAMES, HOOK_NAMES, NAMESPACE_TYPES } from './known';
import type { Features } from './types';

/**
 * Mount options the plan layer turns into mount(2) flags or propagation changes. Not yet here:
 * the recursive attribute forms (rro, rnosuid, ... via mount_setattr), tmpcopyup, idmap/ridmap.
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

export function featuresDocument(): Features {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: [...HOOK_NAMES],
    mountOptions: [...SUPPORTED_MOUNT_OPTIONS],
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'io.github.tsrun.version': VERSION },
  };
}
