import { MOUNT_ATTR, MS } from './linux';
import { mountSteps, parseMountOptions } from './mounts';

describe('parseMountOptions', () => {
  test('flags set and clear in order, later options win', () => {
    expect(parseMountOptions(['ro', 'nosuid', 'nodev', 'noexec']).flags).toBe(MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
    expect(parseMountOptions(['ro', 'rw']).flags).toBe(0);
    expect(parseMountOptions(['noatime', 'atime', 'strictatime']).flags).toBe(MS.STRICTATIME);
    expect(parseMountOptions(['rbind']).flags).toBe(MS.BIND | MS.REC);
    expect(parseMountOptions(['sync', 'dirsync', 'nosymfollow']).flags).toBe(MS.SYNCHRONOUS | MS.DIRSYNC | MS.NOSYMFOLLOW);
  });

  test('propagation options keep their order', () => {
    expect(parseMountOptions(['rprivate', 'shared', 'runbindable']).propagation).toEqual([MS.PRIVATE | MS.REC, MS.SHARED, MS.UNBINDABLE | MS.REC]);
  });

  test('recursive options become mount_setattr attributes', () => {
    const o = parseMountOptions(['rro', 'rnosuid', 'rnoatime']);
    expect(o.attrSet).toBe(MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NOATIME);
    expect(o.attrClr).toBe(MOUNT_ATTR.ATIME_MASK);
    expect(parseMountOptions(['rro', 'rrw']).attrSet).toBe(0n);
  });

  test('anything else is filesystem data; extensions are recognised', () => {
    const o = parseMountOptions(['mode=755', 'size=65536k', 'tmpcopyup', 'nosuid']);
    expect(o.data).toEqual(['mode=755', 'size=65536k']);
    expect(o.tmpcopyup).toBe(true);
    expect(parseMountOptions(['idmap']).idmap).toBe(true);
  });
});

describe('mountSteps', () => {
  const ctx = { bundle: '/b', cgroupNamespace: false };

  test('a bind mount with ro is a bind then a remount; relative sources are bundle-relative', () => {
    const [s] = mountSteps([{ destination: '/data', type: 'bind', source: 'src', options: ['rbind', 'ro', 'nosuid'] }], ctx);
    expect(s).toMatchObject({ destination: '/data', source: '/b/src', bind: true, flags: MS.BIND | MS.REC, remountFlags: MS.RDONLY | MS.NOSUID });
  });

  test('a filesystem mount keeps type, flags and data; destinations are normalised', () => {
    const [s] = mountSteps([{ destination: '/dev/../tmp/', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=1777'] }], ctx);
    expect(s).toMatchObject({ destination: '/tmp', type: 'tmpfs', flags: MS.NOSUID, data: 'mode=1777', bind: false });
  });

  test('idmap mounts are refused with the mount index', () => {
    expect(() => mountSteps([{ destination: '/x', type: 'bind', source: '/x', options: ['bind', 'idmap'] }], ctx)).toThrow('mounts[0]: idmap');
  });

  test('a v1 cgroup mount without cgroupns: tmpfs, a bind per hierarchy, co-mount links, read-only remount', () => {
    const steps = mountSteps([{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] }], {
      ...ctx,
      cgroups: {
        v2: false,
        hierarchies: [
          { name: 'memory', options: 'memory', hostPath: '/sys/fs/cgroup/memory/c1' },
          { name: 'cpu,cpuacct', options: 'cpu,cpuacct', hostPath: '/sys/fs/cgroup/cpu,cpuacct/c1' },
        ],
      },
    });
    expect(steps.map((s) => [s.destination, s.type ?? (s.bind ? 'bind' : s.symlink ? `-> ${s.symlink}` : 'remount')])).toEqual([
      ['/sys/fs/cgroup', 'tmpfs'],
      ['/sys/fs/cgroup/memory', 'bind'],
      ['/sys/fs/cgroup/cpu,cpuacct', 'bind'],
      ['/sys/fs/cgroup/cpu', '-> cpu,cpuacct'],
      ['/sys/fs/cgroup/cpuacct', '-> cpu,cpuacct'],
      ['/sys/fs/cgroup', 'remount'],
    ]);
    expect(steps[1]).toMatchObject({ source: '/sys/fs/cgroup/memory/c1', remountFlags: MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC });
    expect(steps[5].flags & MS.RDONLY).toBe(MS.RDONLY);
  });

  test('a cgroup mount with a cgroup namespace mounts cgroup2 directly on v2', () => {
    const [s] = mountSteps([{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] }], {
      ...ctx,
      cgroupNamespace: true,
      cgroups: { v2: true, hierarchies: [{ name: '', options: '', hostPath: '/sys/fs/cgroup/c1' }] },
    });
    expect(s).toMatchObject({ type: 'cgroup2', flags: MS.RDONLY, bind: false });
  });
});
