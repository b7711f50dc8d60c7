// The starting config `tsrun spec` writes: the same shape runc's `spec` produces, so bundles
// and scripts made for one work with the other. Only the hostname differs.
import { SPEC_VERSION } from '../version';
import type { Mount, NamespaceType, Spec } from './types';

export interface DefaultSpecOptions {
  /** Build a config an unprivileged user can run: own user namespace, no new network. */
  rootless: boolean;
  /** Host uid/gid mapped to root inside the container when rootless. */
  uid: number;
  gid: number;
}

const DEFAULT_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

/**
 * Rootless changes: an unprivileged user can neither mount a fresh sysfs outside a network
 * namespace it owns nor pick the group of devpts nodes, and can only map its own ids.
 */
function rootlessMounts(mounts: Mount[]): Mount[] {
  const result: Mount[] = [];
  for (const mount of mounts) {
    if (mount.destination === '/sys/fs/cgroup') continue;
    if (mount.destination === '/sys') {
      result.push({ destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
      continue;
    }
    const options = mount.options?.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid='));
    result.push(options === undefined ? mount : { ...mount, options });
  }
  return result;
}

export function defaultSpec(opts: DefaultSpecOptions): Spec {
  const namespaces: NamespaceType[] = opts.rootless
    ? ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']
    : ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'];
  const mounts = defaultMounts();

  const spec: Spec = {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: opts.rootless ? rootlessMounts(mounts) : mounts,
    linux: {
      // Cgroup limits need privileges a rootless user lacks; runc drops them the same way.
      ...(opts.rootless ? {} : { resources: { devices: [{ allow: false, access: 'rwm' }] } }),
      ...(opts.rootless
        ? {
            uidMappings: [{ containerID: 0, hostID: opts.uid, size: 1 }],
            gidMappings: [{ containerID: 0, hostID: opts.gid, size: 1 }],
          }
        : {}),
      namespaces: namespaces.map((type) => ({ type })),
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  return spec;
}
