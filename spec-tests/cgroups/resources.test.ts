// linux.resources on real containers: every value is read back from the cgroup files on the
// host and from inside the container, on v1 (this host) and v2 (the cgroup2 VM). Settings
// the host cannot honour fail create with an error naming the file or controller, and the
// failed create leaves no cgroup behind.
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox } from '../harness';
import { createError, hostDir, isV2, MiB, mode, readBoth, someBlockDevice, startContainer } from './util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('cgres');
});
afterAll(() => box.cleanup());

describe(`linux.resources (${mode} host)`, () => {
  test('memory: limit, reservation, swap (and on v1 swappiness, OOM killer off, kernel TCP)', () => {
    const id = startContainer(box, (s) => {
      s.linux!.resources = {
        memory: isV2
          ? { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB }
          : { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB, swappiness: 10, disableOOMKiller: true, kernelTCP: 16 * MiB },
      };
    });
    if (isV2) {
      expect(readBoth(box, id, 'memory', 'memory.max')).toBe(String(64 * MiB));
      expect(readBoth(box, id, 'memory', 'memory.low')).toBe(String(32 * MiB));
      // v2's swap is swap alone: memory+swap minus memory.
      expect(readBoth(box, id, 'memory', 'memory.swap.max')).toBe(String(32 * MiB));
    } else {
      expect(readBoth(box, id, 'memory', 'memory.limit_in_bytes')).toBe(String(64 * MiB));
      expect(readBoth(box, id, 'memory', 'memory.soft_limit_in_bytes')).toBe(String(32 * MiB));
      expect(readBoth(box, id, 'memory', 'memory.memsw.limit_in_bytes')).toBe(String(96 * MiB));
      expect(readBoth(box, id, 'memory', 'memory.swappiness')).toBe('10');
      expect(readBoth(box, id, 'memory', 'memory.oom_control')).toMatch(/^oom_kill_disable 1$/m);
      expect(readBoth(box, id, 'memory', 'memory.kmem.tcp.limit_in_bytes')).toBe(String(16 * MiB));
    }
  });

  test('v2 refuses the memory settings it has no file for, by name', () => {
    if (!isV2) return;
    expect(createError(box, (s) => (s.linux!.resources = { memory: { swappiness: 10 } })).stderr).toContain('memory.swappiness');
    expect(createError(box, (s) => (s.linux!.resources = { memory: { disableOOMKiller: true } })).stderr).toContain('memory.disableOOMKiller');
  });

  test('cpu: shares (v2: converted to weight), quota, period, burst, cpus, mems', () => {
    const id = startContainer(box, (s) => {
      s.linux!.resources = { cpu: { shares: 512, quota: 50000, period: 100000, burst: 10000, cpus: '0', mems: '0' } };
    });
    if (isV2) {
      expect(readBoth(box, id, 'cpu', 'cpu.weight')).toBe('59');
      expect(readBoth(box, id, 'cpu', 'cpu.max')).toBe('50000 100000');
      expect(readBoth(box, id, 'cpu', 'cpu.max.burst')).toBe('10000');
    } else {
      expect(readBoth(box, id, 'cpu', 'cpu.shares')).toBe('512');
      expect(readBoth(box, id, 'cpu', 'cpu.cfs_quota_us')).toBe('50000');
      expect(readBoth(box, id, 'cpu', 'cpu.cfs_period_us')).toBe('100000');
      expect(readBoth(box, id, 'cpu', 'cpu.cfs_burst_us')).toBe('10000');
    }
    expect(readBoth(box, id, 'cpuset', 'cpuset.cpus')).toBe('0');
    expect(readBoth(box, id, 'cpuset', 'cpuset.mems')).toBe('0');
  });

  test('cpu: idle', () => {
    const id = startContainer(box, (s) => (s.linux!.resources = { cpu: { idle: 1 } }));
    expect(readBoth(box, id, 'cpu', 'cpu.idle')).toBe('1');
  });

  test('cpu: realtime budget on v1; a clear error on v2, which has none', () => {
    if (isV2) {
      const { stderr } = createError(box, (s) => (s.linux!.resources = { cpu: { realtimePeriod: 1000000, realtimeRuntime: 1000 } }));
      expect(stderr).toContain('cgroup v2 has no realtime budget');
      return;
    }
    const id = startContainer(box, (s) => (s.linux!.resources = { cpu: { realtimePeriod: 1000000, realtimeRuntime: 1000 } }));
    expect(readBoth(box, id, 'cpu', 'cpu.rt_period_us')).toBe('1000000');
    expect(readBoth(box, id, 'cpu', 'cpu.rt_runtime_us')).toBe('1000');
  });

  test('cpu: out-of-range shares are refused instead of clamped (v1)', () => {
    if (isV2) return;
    expect(createError(box, (s) => (s.linux!.resources = { cpu: { shares: 1 } })).stderr).toContain('cpu.shares 1 is out of range');
  });

  test('pids: limit', () => {
    const id = startContainer(box, (s) => (s.linux!.resources = { pids: { limit: 10 } }));
    expect(readBoth(box, id, 'pids', 'pids.max')).toBe('10');
  });

  test('blockIO: throttles for a real device', () => {
    const dev = someBlockDevice();
    if (!dev) return;
    const d = (rate: number) => [{ ...dev, rate }];
    const id = startContainer(box, (s) => {
      s.linux!.resources = {
        blockIO: {
          throttleReadBpsDevice: d(1 * MiB),
          throttleWriteBpsDevice: d(2 * MiB),
          throttleReadIOPSDevice: d(100),
          throttleWriteIOPSDevice: d(200),
        },
      };
    });
    const key = `${dev.major}:${dev.minor}`;
    if (isV2) {
      expect(readBoth(box, id, 'io', 'io.max')).toBe(`${key} rbps=${1 * MiB} wbps=${2 * MiB} riops=100 wiops=200`);
    } else {
      expect(readBoth(box, id, 'blkio', 'blkio.throttle.read_bps_device')).toBe(`${key} ${1 * MiB}`);
      expect(readBoth(box, id, 'blkio', 'blkio.throttle.write_bps_device')).toBe(`${key} ${2 * MiB}`);
      expect(readBoth(box, id, 'blkio', 'blkio.throttle.read_iops_device')).toBe(`${key} 100`);
      expect(readBoth(box, id, 'blkio', 'blkio.throttle.write_iops_device')).toBe(`${key} 200`);
    }
  });

  test('blockIO: weight (v2: io.weight by runc’s conversion; v1 here: no CFQ/BFQ, the missing file is named)', () => {
    const probe = startContainer(box);
    const dir = hostDir(box, probe, isV2 ? 'io' : 'blkio');
    const weightFile = isV2 ? (fs.existsSync(path.join(dir, 'io.bfq.weight')) ? 'io.bfq.weight' : 'io.weight') : 'blkio.weight';
    if (fs.existsSync(path.join(dir, weightFile)) || fs.existsSync(path.join(dir, 'blkio.bfq.weight'))) {
      const id = startContainer(box, (s) => (s.linux!.resources = { blockIO: { weight: 500 } }));
      if (weightFile === 'io.weight') expect(readBoth(box, id, 'io', 'io.weight')).toBe('default 4950');
      else expect(readBoth(box, id, 'blkio', weightFile)).toMatch(/500/);
    } else {
      const { stderr } = createError(box, (s) => (s.linux!.resources = { blockIO: { weight: 500 } }));
      expect(stderr).toMatch(/linux\.resources\.blockIO\.weight: \/sys\/fs\/cgroup\/blkio\/.*\/blkio\.weight does not exist/);
    }
    if (isV2) {
      expect(createError(box, (s) => (s.linux!.resources = { blockIO: { leafWeight: 300 } })).stderr).toContain('leaf weights need cgroup v1');
    }
  });

  test('hugepageLimits: v2 hugetlb.<size>.max; v1 here has no hugetlb hierarchy and says so', () => {
    const probe = startContainer(box);
    const dir = hostDir(box, probe, 'hugetlb');
    if (dir && fs.existsSync(path.join(dir, isV2 ? 'hugetlb.2MB.max' : 'hugetlb.2MB.limit_in_bytes'))) {
      const id = startContainer(box, (s) => (s.linux!.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 8 * MiB }] }));
      if (isV2) {
        expect(readBoth(box, id, 'hugetlb', 'hugetlb.2MB.max')).toBe(String(8 * MiB));
        if (fs.existsSync(path.join(dir, 'hugetlb.2MB.rsvd.max'))) expect(readBoth(box, id, 'hugetlb', 'hugetlb.2MB.rsvd.max')).toBe(String(8 * MiB));
      } else {
        expect(readBoth(box, id, 'hugetlb', 'hugetlb.2MB.limit_in_bytes')).toBe(String(8 * MiB));
      }
    } else {
      const { stderr } = createError(box, (s) => (s.linux!.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 8 * MiB }] }));
      expect(stderr).toContain('linux.resources.hugepageLimits needs the hugetlb cgroup controller, which is not mounted');
    }
    if (isV2 || dir) {
      const { stderr } = createError(box, (s) => (s.linux!.resources = { hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }));
      expect(stderr).toMatch(/hugepageLimits\[0\]\.pageSize "3MB" is not supported \(this host supports .*2MB/);
    }
  });

  test('network: net_cls/net_prio (not mounted on this v1 host, absent on v2) fail clearly', () => {
    const classId = createError(box, (s) => (s.linux!.resources = { network: { classID: 0x100001 } })).stderr;
    const prio = createError(box, (s) => (s.linux!.resources = { network: { priorities: [{ name: 'lo', priority: 1 }] } })).stderr;
    if (isV2) {
      expect(classId).toContain('linux.resources.network needs net_cls/net_prio, which cgroup v2 does not have');
      expect(prio).toContain('linux.resources.network needs net_cls/net_prio, which cgroup v2 does not have');
    } else {
      expect(classId).toContain('linux.resources.network.classID needs the net_cls cgroup controller, which is not mounted');
      expect(prio).toContain('linux.resources.network.priorities needs the net_prio cgroup controller, which is not mounted');
    }
  });

  test('rdma: without the controller, the error names it', () => {
    const probe = startContainer(box);
    if (isV2 ? fs.existsSync(path.join(hostDir(box, probe, ''), 'rdma.max')) : hostDir(box, probe, 'rdma')) return;
    const { stderr } = createError(box, (s) => (s.linux!.resources = { rdma: { mlx4_0: { hcaHandles: 2 } } }));
    expect(stderr).toMatch(isV2 ? /rdma\.max does not exist \(the rdma controller/ : /linux\.resources\.rdma needs the rdma cgroup controller, which is not mounted/);
  });

  test('unified: v2 files by name; refused on v1', () => {
    if (!isV2) {
      expect(createError(box, (s) => (s.linux!.resources = { unified: { 'pids.max': '7' } })).stderr).toContain('linux.resources.unified needs a cgroup v2 host');
      return;
    }
    const id = startContainer(box, (s) => (s.linux!.resources = { unified: { 'pids.max': '7', 'memory.high': String(48 * MiB) } }));
    expect(readBoth(box, id, 'pids', 'pids.max')).toBe('7');
    expect(readBoth(box, id, 'memory', 'memory.high')).toBe(String(48 * MiB));
  });

  test('a create that fails on a resource leaves no cgroup behind', () => {
    const cgroupsPath = `/tsrun-spec-fail-${process.pid}-${Date.now()}`;
    const { stderr } = createError(box, (s) => {
      s.linux!.cgroupsPath = cgroupsPath;
      s.linux!.resources = { pids: { limit: 5 }, network: { classID: 1 } };
    });
    expect(stderr).toContain('linux.resources.network');
    const roots = isV2 ? ['/sys/fs/cgroup'] : fs.readdirSync('/sys/fs/cgroup').map((d) => path.join('/sys/fs/cgroup', d));
    for (const root of roots) expect(fs.existsSync(path.join(root, cgroupsPath))).toBe(false);
  });
});
