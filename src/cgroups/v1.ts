/**
 * cgroup v1 (legacy and hybrid hosts): one directory per mounted hierarchy, every process
 * written into each of them, limits written to the controller that owns them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../errors';
import type {
  LinuxBlockIO,
  LinuxCPU,
  LinuxHugepageLimit,
  LinuxMemory,
  LinuxNetwork,
  LinuxRdma,
  LinuxResources,
  LinuxThrottleDevice,
} from '../spec/types';
import {
  cgroupFileExists,
  killPids,
  makeCgroupDir,
  notSupported,
  pidsInTree,
  readCgroupFile,
  removeCgroupTree,
  removeIfEmpty,
  waitFor,
  writeCgroupFile,
} from './files';
import { checkHugePageSizes, type PendingWrite } from './host';
import type { CgroupManager, OomStatus } from './manager';
import { devicePolicy, exceptionLine } from './device-filter';
import { deviceValueLine, hasSettings, pidsMax, rdmaLine } from './resources';
import { v1Stats, type ContainerStats } from './stats';

const FREEZE_TIMEOUT_MS = 5000;
const EMPTY_TIMEOUT_MS = 10000;

export class V1CgroupManager implements CgroupManager {
  /** @param dirs directory per controller key ("memory", "cpu", "name=systemd", "" for hybrid cgroup2). */
  constructor(private readonly dirs: Record<string, string>) {}

  paths(): Record<string, string> {
    return { ...this.dirs };
  }

  /** Each directory once: co-mounted controllers (cpu,cpuacct) share one. */
  private uniqueDirs(): string[] {
    return [...new Set(Object.values(this.dirs))];
  }

  private controllerDir(controller: string, field: string): string {
    const dir = this.dirs[controller];
    if (!dir) throw new TsrunError(`linux.resources.${field} needs the ${controller} cgroup controller, which is not mounted`);
    return dir;
  }

  create(): void {
    for (const dir of this.uniqueDirs()) {
      if (dir === this.dirs.cpuset) createCpusetDir(dir);
      else makeCgroupDir(dir);
    }
  }

  exists(): boolean {
    return this.uniqueDirs().some((d) => fs.existsSync(d));
  }

  addProcess(pid: number): void {
    for (const dir of this.uniqueDirs()) writeCgroupFile(dir, 'cgroup.procs', String(pid));
  }

  apply(r: LinuxResources | undefined): void {
    if (!r) return;
    // Refuse what cannot be done before writing anything, so nothing is half-applied.
    if (hasSettings(r.unified)) {
      throw new TsrunError('linux.resources.unified needs a cgroup v2 host; this one runs cgroup v1');
    }
    if (r.memory?.useHierarchy === false) throw notSupported('memory.useHierarchy', 'current kernels always use the hierarchy');
    const blkio = hasSettings(r.blockIO) ? this.blockIOWrites(r.blockIO!) : [];
    const hugetlb = hasSettings(r.hugepageLimits) ? this.hugetlbWrites(r.hugepageLimits!) : [];
    const network = hasSettings(r.network) ? this.networkWrites(r.network!) : [];
    const rdma = hasSettings(r.rdma) ? this.rdmaWrites(r.rdma!) : [];
    if (hasSettings(r.devices)) this.applyDevices(r);
    if (r.memory) this.applyMemory(r.memory);
    if (r.cpu) this.applyCpu(r.cpu);
    if (r.pids && r.pids.limit !== undefined) {
      writeCgroupFile(this.controllerDir('pids', 'pids'), 'pids.max', pidsMax(r.pids.limit));
    }
    for (const [dir, file, value] of [...blkio, ...hugetlb, ...network, ...rdma]) writeCgroupFile(dir, file, value);
  }

  /**
   * blkio writes, checked up front: the weight files exist only under the CFQ or BFQ I/O
   * schedulers (blkio.weight or blkio.bfq.weight), leaf weights only under CFQ.
   */
  private blockIOWrites(b: LinuxBlockIO): PendingWrite[] {
    const dir = this.controllerDir('blkio', 'blockIO');
    const writes: PendingWrite[] = [];
    const bfq = !cgroupFileExists(dir, 'blkio.weight') && cgroupFileExists(dir, 'blkio.bfq.weight');
    const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
    const weightDeviceFile = bfq ? 'blkio.bfq.weight_device' : 'blkio.weight_device';
    const need = (field: string, file: string, why: string): void => {
      if (!cgroupFileExists(dir, file)) {
        throw new TsrunError(`linux.resources.blockIO.${field}: ${path.join(dir, file)} does not exist (${why})`);
      }
    };
    if (b.weight) {
      need('weight', weightFile, 'the host has no CFQ or BFQ I/O scheduler');
      writes.push([dir, weightFile, String(b.weight)]);
    }
    if (b.leafWeight) {
      need('leafWeight', 'blkio.leaf_weight', 'leaf weights need the CFQ I/O scheduler');
      writes.push([dir, 'blkio.leaf_weight', String(b.leafWeight)]);
    }
    for (const d of b.weightDevice ?? []) {
      if (d.weight) {
        need('weightDevice', weightDeviceFile, 'the host has no CFQ or BFQ I/O scheduler');
        writes.push([dir, weightDeviceFile, deviceValueLine(d, d.weight)]);
      }
      if (d.leafWeight) {
        need('weightDevice.leafWeight', 'blkio.leaf_weight_device', 'leaf weights need the CFQ I/O scheduler');
        writes.push([dir, 'blkio.leaf_weight_device', deviceValueLine(d, d.leafWeight)]);
      }
    }
    const throttles: [keyof LinuxBlockIO, string][] = [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
      ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
      ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
    ];
    for (const [field, file] of throttles) {
      const list = (b[field] ?? []) as LinuxThrottleDevice[];
      if (list.length) need(field, file, 'the kernel has no blkio throttling');
      for (const d of list) writes.push([dir, file, deviceValueLine(d, d.rate)]);
    }
    return writes;
  }

  private hugetlbWrites(limits: LinuxHugepageLimit[]): PendingWrite[] {
    const dir = this.controllerDir('hugetlb', 'hugepageLimits');
    checkHugePageSizes(limits);
    const writes: PendingWrite[] = [];
    for (const { pageSize, limit } of limits) {
      const file = `hugetlb.${pageSize}.limit_in_bytes`;
      if (!cgroupFileExists(dir, file)) throw new TsrunError(`linux.resources.hugepageLimits: ${path.join(dir, file)} does not exist`);
      writes.push([dir, file, String(limit)]);
      // Reservations too, when the kernel counts them, so a mapping cannot promise more than the limit.
      const rsvd = `hugetlb.${pageSize}.rsvd.limit_in_bytes`;
      if (cgroupFileExists(dir, rsvd)) writes.push([dir, rsvd, String(limit)]);
    }
    return writes;
  }

  private networkWrites(n: LinuxNetwork): PendingWrite[] {
    const writes: PendingWrite[] = [];
    if (n.classID) writes.push([this.controllerDir('net_cls', 'network.classID'), 'net_cls.classid', String(n.classID)]);
    if (n.priorities?.length) {
      const dir = this.controllerDir('net_prio', 'network.priorities');
      for (const p of n.priorities) writes.push([dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`]);
    }
    return writes;
  }

  private rdmaWrites(rdma: Record<string, LinuxRdma>): PendingWrite[] {
    const dir = this.controllerDir('rdma', 'rdma');
    return Object.entries(rdma).map(([device, limits]): PendingWrite => [dir, 'rdma.max', rdmaLine(device, limits)]);
  }

  private applyDevices(r: LinuxResources): void {
    const dir = this.controllerDir('devices', 'devices');
    // What the rules leave starting from deny-all (as runc does, and as the v2 program does),
    // written as a reset and its exceptions; a rule v1 would silently ignore is refused.
    const policy = devicePolicy(r.devices ?? []);
    const [reset, exception] = policy.defaultAllow ? ['devices.allow', 'devices.deny'] : ['devices.deny', 'devices.allow'];
    writeCgroupFile(dir, reset, 'a *:* rwm');
    for (const e of policy.exceptions) writeCgroupFile(dir, exception, exceptionLine(e));
  }

  private applyMemory(m: LinuxMemory): void {
    if (!hasSettings(m)) return;
    const dir = this.controllerDir('memory', 'memory');
    setMemoryAndSwap(dir, m.limit ?? 0, m.swap ?? 0);
    // m.kernel is ignored like runc does: kernels since 5.16 ignore kmem limits.
    if (m.kernelTCP) writeCgroupFile(dir, 'memory.kmem.tcp.limit_in_bytes', String(m.kernelTCP));
    if (m.reservation) writeCgroupFile(dir, 'memory.soft_limit_in_bytes', String(m.reservation));
    if (m.disableOOMKiller) writeCgroupFile(dir, 'memory.oom_control', '1');
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      if (m.swappiness < 0 || m.swappiness > 100) {
        throw new TsrunError(`invalid linux.resources.memory.swappiness ${m.swappiness} (valid range is 0-100)`);
      }
      writeCgroupFile(dir, 'memory.swappiness', String(m.swappiness));
    }
  }

  private applyCpu(c: LinuxCPU): void {
    if (c.cpus || c.mems) {
      const dir = this.controllerDir('cpuset', 'cpu.cpus');
      if (c.cpus) writeCgroupFile(dir, 'cpuset.cpus', c.cpus);
      if (c.mems) writeCgroupFile(dir, 'cpuset.mems', c.mems);
    }
    const needsCpu =
      c.shares || c.quota || c.period || c.burst !== undefined || c.realtimePeriod || c.realtimeRuntime || c.idle !== undefined;
    if (!needsCpu) return;
    const dir = this.controllerDir('cpu', 'cpu');
    if (c.shares) {
      writeCgroupFile(dir, 'cpu.shares', String(c.shares));
      // The kernel clamps out-of-range shares silently; report it instead.
      const got = Number(readCgroupFile(dir, 'cpu.shares'));
      if (got !== c.shares) {
        throw new TsrunError(`linux.resources.cpu.shares ${c.shares} is out of range (the kernel set ${got})`);
      }
    }
    // The kernel keeps burst <= quota: a burst above the old quota can only follow the new one.
    let burstAfterQuota = false;
    if (c.burst !== undefined) {
      try {
        writeCgroupFile(dir, 'cpu.cfs_burst_us', String(c.burst));
      } catch (err) {
        if ((err as TsrunError).errno !== 22 /* EINVAL */ || !c.quota) throw err;
        burstAfterQuota = true;
      }
    }
    writePairInEitherOrder(dir, ['cpu.cfs_period_us', c.period || undefined], ['cpu.cfs_quota_us', c.quota || undefined]);
    if (burstAfterQuota) writeCgroupFile(dir, 'cpu.cfs_burst_us', String(c.burst));
    writePairInEitherOrder(
      dir,
      ['cpu.rt_period_us', c.realtimePeriod || undefined],
      ['cpu.rt_runtime_us', c.realtimeRuntime || undefined],
    );
    if (c.idle !== undefined) writeCgroupFile(dir, 'cpu.idle', String(c.idle));
  }

  freeze(): void {
    const dir = this.controllerDir('freezer', 'freezer');
    writeCgroupFile(dir, 'freezer.state', 'FROZEN');
    // FREEZING can linger while a task is in an uninterruptible sleep; asking again helps it along.
    const frozen = waitFor(() => {
      if (readCgroupFile(dir, 'freezer.state') === 'FROZEN') return true;
      writeCgroupFile(dir, 'freezer.state', 'FROZEN');
      return false;
    }, FREEZE_TIMEOUT_MS);
    if (!frozen) {
      writeCgroupFile(dir, 'freezer.state', 'THAWED');
      throw new TsrunError(`cgroup ${dir} did not freeze within ${FREEZE_TIMEOUT_MS / 1000}s`);
    }
  }

  thaw(): void {
    const dir = this.controllerDir('freezer', 'freezer');
    writeCgroupFile(dir, 'freezer.state', 'THAWED');
    if (!waitFor(() => readCgroupFile(dir, 'freezer.state') === 'THAWED', FREEZE_TIMEOUT_MS)) {
      throw new TsrunError(`cgroup ${dir} did not thaw within ${FREEZE_TIMEOUT_MS / 1000}s`);
    }
  }

  pids(): number[] {
    const all = new Set<number>();
    for (const dir of this.uniqueDirs()) for (const pid of pidsInTree(dir)) all.add(pid);
    return [...all].sort((a, b) => a - b);
  }

  stats(): ContainerStats {
    return v1Stats(this.dirs);
  }

  oomStatus(): OomStatus | undefined {
    const dir = this.dirs.memory;
    if (!dir) return undefined;
    let text: string;
    try {
      text = readCgroupFile(dir, 'memory.oom_control');
    } catch {
      return undefined;
    }
    // "oom_kill_disable 0", "under_oom 0", "oom_kill 3" (the last since Linux 4.13).
    const field = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    return { kills: field('oom_kill'), underOom: field('under_oom') === 1 };
  }

  destroy(): void {
    // A delete after the container stopped finds every directory empty: rmdir is all it takes.
    if (this.uniqueDirs().every(removeIfEmpty)) return;
    if (!this.exists()) return;
    // Empty (a delete after the container stopped): nothing in it can fork, so no freeze or wait.
    if (this.pids().length === 0) {
      for (const dir of this.uniqueDirs()) removeCgroupTree(dir);
      return;
    }
    // Frozen, nothing can fork a process we would miss; SIGKILL is delivered on thaw.
    const freezer = this.dirs.freezer;
    let frozen = false;
    if (freezer !== undefined && fs.existsSync(freezer)) {
      try {
        this.freeze();
        frozen = true;
      } catch {
        // A cgroup that will not freeze still has to go: kill without the freeze.
      }
    }
    try {
      killPids(this.pids());
    } finally {
      if (frozen) this.thaw();
    }
    const empty = waitFor(() => {
      const left = this.pids();
      killPids(left);
      return left.length === 0;
    }, EMPTY_TIMEOUT_MS);
    if (!empty) throw new TsrunError(`processes still in cgroup after SIGKILL: ${this.pids().join(' ')}`);
    for (const dir of this.uniqueDirs()) removeCgroupTree(dir);
  }
}

/**
 * memory.memsw.limit_in_bytes must stay >= memory.limit_in_bytes at every step, so the
 * write order depends on whether the limits are rising or falling.
 */
function setMemoryAndSwap(dir: string, limit: number, swap: number): void {
  const hasSwapFile = cgroupFileExists(dir, 'memory.memsw.limit_in_bytes');
  // "Unlimited memory" with swap left out means unlimited swap too, as with runc.
  if (limit === -1 && swap === 0 && hasSwapFile) swap = -1;
  if (swap !== 0 && !hasSwapFile) {
    if (swap === -1) swap = 0;
    else throw new TsrunError('linux.resources.memory.swap is set but this kernel has no swap accounting (memory.memsw.*)');
  }
  const writeLimit = (): void => {
    if (limit === 0) return;
    try {
      writeCgroupFile(dir, 'memory.limit_in_bytes', String(limit));
    } catch (err) {
      if ((err as TsrunError).errno !== 16 /* EBUSY */) throw err;
      const usage = readCgroupFile(dir, 'memory.usage_in_bytes');
      throw new TsrunError(`cannot set memory limit to ${limit}: current usage ${usage} is higher`, { cause: err });
    }
  };
  const writeSwap = (): void => {
    if (swap !== 0) writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(swap));
  };
  if (limit !== 0 && swap !== 0) {
    const current = Number(readCgroupFile(dir, 'memory.limit_in_bytes'));
    if (swap === -1 || current < swap) {
      writeSwap();
      writeLimit();
      return;
    }
  }
  writeLimit();
  writeSwap();
}

/**
 * Two inter-dependent files (cfs period and quota, rt period and runtime): the kernel may
 * reject the first with EINVAL until the second is set, so retry the first afterwards.
 */
function writePairInEitherOrder(dir: string, first: [string, number | undefined], second: [string, number | undefined]): void {
  let retryFirst = false;
  if (first[1] !== undefined) {
    try {
      writeCgroupFile(dir, first[0], String(first[1]));
    } catch (err) {
      if ((err as TsrunError).errno !== 22 /* EINVAL */ || second[1] === undefined) throw err;
      retryFirst = true;
    }
  }
  if (second[1] !== undefined) writeCgroupFile(dir, second[0], String(second[1]));
  if (retryFirst) writeCgroupFile(dir, first[0], String(first[1]));
}

/**
 * A new cpuset cgroup starts with empty cpus and mems, and the kernel refuses tasks until
 * both are set; copy them down from the nearest ancestor that has them, level by level.
 */
function createCpusetDir(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; d !== '/' && !hasCpuset(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    makeCgroupDir(d);
    const parent = path.dirname(d);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readCgroupFile(d, file) === '') writeCgroupFile(d, file, readCgroupFile(parent, file));
    }
  }
}

function hasCpuset(dir: string): boolean {
  try {
    return readCgroupFile(dir, 'cpuset.cpus') !== '' && readCgroupFile(dir, 'cpuset.mems') !== '';
  } catch {
    return false;
  }
}
