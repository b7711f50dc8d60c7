/** Device nodes for /dev: runc's default set plus linux.devices. */
import type { LinuxDevice, LinuxDeviceCgroup } from '../spec/types';
import { TsrunError } from '../errors';
import { S_IFBLK, S_IFCHR, S_IFIFO } from './linux';
import type { DeviceNode } from './types';

const DEFAULT_DEVICES: ReadonlyArray<[string, number, number]> = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];

function nodeType(t: string, where: string): number {
  switch (t) {
    case 'c':
    case 'u':
      return S_IFCHR;
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
  }
  throw new TsrunError(`${where}.type: unknown device type "${t}"`);
}

/**
 * In a new user namespace mknod is refused, so nodes are bind-mounted from the host instead
 * (which means the host must have the same path).
 */
export function deviceNodes(devices: readonly LinuxDevice[] = [], opts: { defaults: boolean; inUserNamespace: boolean }): DeviceNode[] {
  const byPath = new Map<string, DeviceNode>();
  if (opts.defaults) {
    for (const [p, major, minor] of DEFAULT_DEVICES)
      byPath.set(p, { path: p, type: S_IFCHR, major, minor, mode: 0o666, uid: 0, gid: 0, bind: opts.inUserNamespace });
  }
  devices.forEach((d, i) => {
    const where = `linux.devices[${i}]`;
    byPath.set(d.path, {
      path: d.path,
      type: nodeType(d.type, where),
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      mode: d.fileMode ?? 0o666,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
      bind: opts.inUserNamespace,
    });
  });
  return [...byPath.values()];
}

/**
 * The device cgroup rules a container gets: the config's own rules, then (like runc) access to
 * the default nodes, the pty devices and mknod of any node, then every linux.devices entry.
 */
export function deviceCgroupRules(rules: readonly LinuxDeviceCgroup[] = [], devices: readonly LinuxDevice[] = []): LinuxDeviceCgroup[] {
  const allow = (type: string, major: number | undefined, minor: number | undefined, access: string): LinuxDeviceCgroup => ({ allow: true, type, major, minor, access });
  return [
    ...rules,
    allow('c', undefined, undefined, 'm'),
    allow('b', undefined, undefined, 'm'),
    ...DEFAULT_DEVICES.map(([, major, minor]) => allow('c', major, minor, 'rwm')),
    allow('c', 136, undefined, 'rwm'), // /dev/pts/*
    allow('c', 5, 2, 'rwm'), // /dev/ptmx
    allow('c', 10, 200, 'rwm'), // /dev/net/tun
    ...devices.filter((d) => d.type !== 'p').map((d) => allow(d.type === 'u' ? 'c' : d.type, d.major, d.minor, 'rwm')),
  ];
}
