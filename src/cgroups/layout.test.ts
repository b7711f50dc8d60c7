import { hierarchyDir, matchHierarchies, ownUnifiedPath, parseCgroupMounts, parseProcCgroup } from './mode';
import { cgroupInnerPath, checkSystemdDriver, cleanCgroupPath, v1CgroupDirs, v2CgroupDir } from './path';

// A hybrid host as this project's machines have it: separate cpu and cpuacct, a named
// systemd hierarchy, cgroup2 at .../unified, and the caller nested in the memory hierarchy.
const MOUNTINFO = `22 26 0:21 / /sys rw,relatime - sysfs sysfs rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
41 26 0:38 /docker/abc /mnt/with\\040space rw - cgroup cgroup rw,cpu,cpuacct
`;

const PROC_CGROUP = `9:name=systemd:/
6:freezer:/
4:memory:/process_api/947d
2:cpuacct:/
1:cpu:/
7:net_cls:/
0::/
`;

describe('host layout parsing', () => {
  test('keeps cgroup mounts only and unescapes fields', () => {
    const mounts = parseCgroupMounts(MOUNTINFO);
    expect(mounts.map((m) => m.mountpoint)).toEqual([
      '/sys/fs/cgroup/cpu',
      '/sys/fs/cgroup/cpuacct',
      '/sys/fs/cgroup/memory',
      '/sys/fs/cgroup/freezer',
      '/sys/fs/cgroup/systemd',
      '/sys/fs/cgroup/unified',
      '/mnt/with space',
    ]);
    expect(mounts[4].superOptions).toEqual(['rw', 'xattr', 'name=systemd']);
    expect(mounts[6].root).toBe('/docker/abc');
  });

  test('parses /proc/self/cgroup', () => {
    const entries = parseProcCgroup('3:cpu,cpuacct:/a/b\n0::/user.slice\n');
    expect(entries).toEqual([
      { hierarchyId: 3, controllers: ['cpu', 'cpuacct'], path: '/a/b' },
      { hierarchyId: 0, controllers: [], path: '/user.slice' },
    ]);
    expect(ownUnifiedPath('1:memory:/x\n0::/job.scope\n')).toBe('/job.scope');
  });

  test('matches hierarchies to their first mount and skips unmounted ones', () => {
    const hs = matchHierarchies(parseCgroupMounts(MOUNTINFO), parseProcCgroup(PROC_CGROUP));
    expect(hs.map((h) => [h.controllers.join(','), h.mountpoint, h.ownPath])).toEqual([
      ['name=systemd', '/sys/fs/cgroup/systemd', '/'],
      ['freezer', '/sys/fs/cgroup/freezer', '/'],
      ['memory', '/sys/fs/cgroup/memory', '/process_api/947d'],
      ['cpuacct', '/sys/fs/cgroup/cpuacct', '/'],
      ['cpu', '/sys/fs/cgroup/cpu', '/'],
      ['', '/sys/fs/cgroup/unified', '/'],
    ]);
  });

  test('hierarchyDir strips the mount root of bind-mounted hierarchies', () => {
    expect(hierarchyDir({ mountpoint: '/sys/fs/cgroup/cpu', mountRoot: '/docker/abc' }, '/docker/abc/x')).toBe(
      '/sys/fs/cgroup/cpu/x',
    );
    expect(hierarchyDir({ mountpoint: '/sys/fs/cgroup/cpu', mountRoot: '/' }, '/a')).toBe('/sys/fs/cgroup/cpu/a');
  });
});

describe('cgroupsPath resolution', () => {
  test('cleaning never climbs out and keeps absolute/relative', () => {
    expect(cleanCgroupPath('/a/../../b/')).toBe('/b');
    expect(cleanCgroupPath('../../a/./b')).toBe('a/b');
    expect(cleanCgroupPath('a//b')).toBe('a/b');
    expect(cleanCgroupPath('/')).toBe('/');
  });

  test('absent path means the id, relative', () => {
    expect(cgroupInnerPath(undefined, 'c1')).toBe('c1');
    expect(cgroupInnerPath('', 'c1')).toBe('c1');
    expect(cgroupInnerPath('/k8s/pod/c1', 'c1')).toBe('/k8s/pod/c1');
    expect(() => cgroupInnerPath('/..', 'c1')).toThrow(/root cgroup/);
    expect(() => cgroupInnerPath('..', 'c1')).toThrow(/root cgroup/);
  });

  test('v1: absolute under each mount, relative under the caller, "" for hybrid cgroup2', () => {
    const hs = matchHierarchies(parseCgroupMounts(MOUNTINFO), parseProcCgroup(PROC_CGROUP));
    expect(v1CgroupDirs(hs, '/t/c1')).toEqual({
      'name=systemd': '/sys/fs/cgroup/systemd/t/c1',
      freezer: '/sys/fs/cgroup/freezer/t/c1',
      memory: '/sys/fs/cgroup/memory/t/c1',
      cpuacct: '/sys/fs/cgroup/cpuacct/t/c1',
      cpu: '/sys/fs/cgroup/cpu/t/c1',
      '': '/sys/fs/cgroup/unified/t/c1',
    });
    expect(v1CgroupDirs(hs, 'c1').memory).toBe('/sys/fs/cgroup/memory/process_api/947d/c1');
    expect(v1CgroupDirs(hs, 'c1').cpu).toBe('/sys/fs/cgroup/cpu/c1');
  });

  test('v2: relative paths go under the caller’s parent', () => {
    expect(v2CgroupDir('/a/b', '/user.slice/session-1.scope')).toBe('/sys/fs/cgroup/a/b');
    expect(v2CgroupDir('c1', '/user.slice/session-1.scope')).toBe('/sys/fs/cgroup/user.slice/c1');
    expect(v2CgroupDir('c1', '/')).toBe('/sys/fs/cgroup/c1');
  });

  test('the systemd driver never falls back silently', () => {
    expect(() => checkSystemdDriver('system.slice:tsrun:c1', false)).toThrow(
      'systemd cgroup driver requested but systemd is not running (no /run/systemd/system)',
    );
    expect(() => checkSystemdDriver('/not/a/slice', true)).toThrow(/slice:prefix:name/);
    expect(() => checkSystemdDriver('system.slice:tsrun:c1', true)).toThrow(/not supported yet/);
  });
});
