/**
 * The `cgroup` mount: on this (v1 / hybrid) host, a tmpfs at /sys/fs/cgroup with one read-only
 * directory per hierarchy showing the container's own cgroup, with or without a cgroup
 * namespace; co-mounted controllers reachable by each name.
 */
import * as fs from 'fs';
import { mountSteps } from '../../src/plan/mounts';
import { Sandbox } from '../harness';
import { inside, mountAt, parseMountinfo, sections } from './util';

const v1 = fs.existsSync('/sys/fs/cgroup/pids/cgroup.procs');
const hierarchies = v1
  ? parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
      .filter((m) => m.fsType === 'cgroup' && m.mountPoint.startsWith('/sys/fs/cgroup/'))
      .map((m) => m.mountPoint.slice('/sys/fs/cgroup/'.length))
  : [];

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('rootfs-cgroup');
});
afterAll(() => box.cleanup());

const script = [
  'echo "== mountinfo"; cat /proc/self/mountinfo',
  'echo "== ls"; ls /sys/fs/cgroup',
  'echo "== procs"; cat /sys/fs/cgroup/pids/cgroup.procs',
  'echo "== write"; mkdir /sys/fs/cgroup/pids/child 2>&1; (echo 1 > /sys/fs/cgroup/pids/pids.max) 2>&1; touch /sys/fs/cgroup/new 2>&1',
  'echo "== self"; cat /proc/self/cgroup',
].join('; ');

(v1 ? describe : describe.skip)('cgroup v1 mount', () => {
  function check(out: string, id: string, cgroupNs: boolean) {
    const s = sections(out);
    const mounts = parseMountinfo(s.mountinfo);
    const top = mountAt(mounts, '/sys/fs/cgroup')!;
    expect(top.fsType).toBe('tmpfs');
    expect(top.options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
    expect(s.ls.trim().split('\n').sort()).toEqual([...hierarchies].sort());
    for (const h of hierarchies) {
      const m = mountAt(mounts, `/sys/fs/cgroup/${h}`)!;
      expect(m.fsType).toBe('cgroup');
      expect(m.options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
      // the container's own cgroup is the root of what it sees
      if (cgroupNs) expect(m.root).toBe('/');
      else expect(m.root).toMatch(new RegExp(`/${id}$`));
    }
    // the container's processes (pid namespace numbers) and nothing else
    expect(s.procs.trim().split('\n').map(Number)).toContain(1);
    expect(s.write.match(/Read-only file system/g)).toHaveLength(3);
    if (cgroupNs) expect(s.self).toMatch(/^\d+:pids:\/$/m);
    else expect(s.self).toMatch(new RegExp(`^\\d+:pids:.*/${id}$`, 'm'));
  }

  test('without a cgroup namespace: binds of the container cgroup, read-only', () => {
    const id = box.id();
    const bundle = box.bundle((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
      s.process!.args = ['sh', '-c', script];
    });
    const r = box.run(bundle, id);
    expect(r.status).toBe(0);
    check(r.stdout, id, false);
  });

  test('with a cgroup namespace: fresh cgroup mounts rooted at the container cgroup, read-only', () => {
    const id = box.id();
    const bundle = box.bundle((s) => {
      expect(s.linux!.namespaces!.some((n) => n.type === 'cgroup')).toBe(true);
      s.process!.args = ['sh', '-c', script];
    });
    const r = box.run(bundle, id);
    expect(r.status).toBe(0);
    check(r.stdout, id, true);
  });

  test('without "ro" the hierarchies are writable (the container may manage its own cgroup)', () => {
    const out = inside(box, 'mkdir /sys/fs/cgroup/pids/child && echo made; rmdir /sys/fs/cgroup/pids/child', (s) => {
      s.mounts = s.mounts!.map((m) => (m.type === 'cgroup' ? { ...m, options: (m.options ?? []).filter((o) => o !== 'ro') } : m));
      s.process!.capabilities!.bounding!.push('CAP_DAC_OVERRIDE');
      s.process!.capabilities!.effective!.push('CAP_DAC_OVERRIDE');
      s.process!.capabilities!.permitted!.push('CAP_DAC_OVERRIDE');
    });
    expect(out).toContain('made');
  });
});

// This host mounts cpu and cpuacct apart, so co-mounting is checked on the plan.
test('co-mounted controllers (cpu,cpuacct) get a symlink for each name', () => {
  const steps = mountSteps([{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] }], {
    bundle: '/b',
    cgroupNamespace: false,
    cgroups: {
      v2: false,
      hierarchies: [
        { name: 'cpu,cpuacct', options: 'cpu,cpuacct', hostPath: '/sys/fs/cgroup/cpu,cpuacct/c1' },
        { name: 'pids', options: 'pids', hostPath: '/sys/fs/cgroup/pids/c1' },
      ],
    },
  });
  const byDest = (d: string) => steps.filter((s) => s.destination === d);
  expect(byDest('/sys/fs/cgroup/cpu,cpuacct')[0]).toMatchObject({ bind: true, source: '/sys/fs/cgroup/cpu,cpuacct/c1' });
  expect(byDest('/sys/fs/cgroup/cpu')[0]).toMatchObject({ symlink: 'cpu,cpuacct' });
  expect(byDest('/sys/fs/cgroup/cpuacct')[0]).toMatchObject({ symlink: 'cpu,cpuacct' });
  expect(byDest('/sys/fs/cgroup/pids')[0]).toMatchObject({ bind: true });
  // read-only last, after the links are made in the tmpfs
  expect(steps[steps.length - 1]).toMatchObject({ destination: '/sys/fs/cgroup' });
});
