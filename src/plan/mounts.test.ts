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
    expect(parseMountOptions(['idmap'])).toMatchObject({ idmap: true, idmapRecursive: false });
    expect(parseMountOptions(['ridmap'])).toMatchObject({ idmap: true, idmapRecursive: true });
    expect(parseMountOptions(['ridmap', 'idmap']).idmapRecursive).toBe(false);
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

  test('an id-mapped bind carries its own mappings as uid_map/gid_map text', () => {
    const [s] = mountSteps(
      [{ destination: '/x', type: 'bind', source: '/h', options: ['rbind', 'ridmap', 'ro'], uidMappings: [{ containerID: 1000, hostID: 0, size: 1 }, { containerID: 0, hostID: 5000, size: 10 }], gidMappings: [{ containerID: 7, hostID: 8, size: 1 }] }],
      ctx,
    );
    expect(s).toMatchObject({ bind: true, flags: MS.BIND | MS.REC, remountFlags: MS.RDONLY, idmap: { uidMap: '1000 0 1\n0 5000 10\n', gidMap: '7 8 1\n', recursive: true, where: 'mounts[0]' } });
    // mappings alone id-map a bind, as in runc; a plain bind has no idmap
    const [own, plain] = mountSteps(
      [
        { destination: '/y', type: 'bind', source: '/h', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1, size: 1 }] },
        { destination: '/z', type: 'bind', source: '/h', options: ['bind'] },
      ],
      ctx,
    );
    expect(own.idmap).toMatchObject({ uidMap: '0 1 1\n', recursive: false });
    expect(plain.idmap).toBeUndefined();
  });

  test('without mappings of its own an id-mapped bind takes the container\'s user namespace', () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const m = { destination: '/x', type: 'bind', source: '/h', options: ['bind', 'idmap'] };
    expect(mountSteps([m], { ...ctx, userns: { uidMappings: maps, gidMappings: maps } })[0].idmap).toMatchObject({ uidMap: '0 100000 65536\n', gidMap: '0 100000 65536\n' });
    expect(mountSteps([m], { ...ctx, userns: { path: '/proc/7/ns/user' } })[0].idmap).toMatchObject({ uidMap: '', usernsPath: '/proc/7/ns/user' });
  });

  test('what is still refused: idmap on a non-bind, idmap with no mappings and no user namespace', () => {
    expect(() => mountSteps([{ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] }], ctx)).toThrow('mounts[0]: id-mapped mounts are only supported for bind mounts');
    expect(() => mountSteps([{ destination: '/s', type: 'cgroup', source: 'cgroup', options: ['rbind', 'idmap'] }], ctx)).toThrow('mounts[0]: id-mapped mounts are only supported for bind mounts');
    expect(() => mountSteps([{ destination: '/x', type: 'bind', source: '/x', options: ['bind', 'ridmap'] }], ctx)).toThrow('mounts[0]: "ridmap" needs uidMappings/gidMappings');
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
