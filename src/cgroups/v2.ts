/**
 * cgroup v2 (unified hosts): one directory, controllers enabled from the root down through
 * cgroup.subtree_control, cgroup.freeze for pause and cgroup.kill for teardown.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError, wrapError } from '../errors';
import { native } from '../native';
import type {
  LinuxBlockIO,
  LinuxCPU,
  LinuxDeviceCgroup,
  LinuxHugepageLimit,
  LinuxMemory,
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
import { DEVICE_FILTER_LICENSE, deviceFilter } from './device-filter';
import { checkHugePageSizes, type PendingWrite } from './host';
import type { CgroupManager, OomStatus } from './manager';
import { CGROUP_ROOT } from './mode';
import {
  blkioWeightToIoWeight,
  cpuSharesToWeight,
  deviceValueLine,
  hasSettings,
  ioMaxLine,
  memorySwapForV2,
  pidsMax,
  rdmaLine,
  v2Limit,
} from './resources';
import { v2Stats, type ContainerStats } from './stats';

const FREEZE_TIMEOUT_MS = 5000;
const EMPTY_TIMEOUT_MS = 10000;

export class V2CgroupManager implements CgroupManager {
  constructor(
    private readonly dir: string,
    private readonly root = CGROUP_ROOT,
  ) {}

  paths(): Record<string, string> {
    return { '': this.dir };
  }

  create(): void {
    const rel = path.posix.relative(this.root, this.dir);
    if (rel === '' || rel.startsWith('..')) throw new TsrunError(`cgroup ${this.dir} is not below ${this.root}`);
    // Each ancestor must delegate its controllers to the next level down before the
    // container's own directory has the corresponding files.
    let current = this.root;
    for (const part of rel.split('/')) {
      enableAllControllers(current);
      current = path.posix.join(current, part);
      makeCgroupDir(current);
    }
  }

  exists(): boolean {
    return fs.existsSync(this.dir);
  }

  addProcess(pid: number): void {
    writeCgroupFile(this.dir, 'cgroup.procs', String(pid));
  }

  apply(r: LinuxResources | undefined): void {
    if (!r) return;
    // Refuse what cannot be done before writing anything, so nothing is half-applied.
    const deviceProgram = hasSettings(r.devices) ? deviceFilter(r.devices!) : undefined;
    if (hasSettings(r.network)) throw new TsrunError('linux.resources.network needs net_cls/net_prio, which cgroup v2 does not have');
    if (r.memory) checkMemoryOnV2(r.memory);
    if (r.cpu && (r.cpu.realtimePeriod || r.cpu.realtimeRuntime)) {
      throw new TsrunError('linux.resources.cpu.realtimePeriod/realtimeRuntime need cgroup v1: cgroup v2 has no realtime budget');
    }
    const unified = Object.entries(r.unified ?? {});
    for (const [file] of unified) {
      if (file.includes('/') || file.startsWith('.') || file === '') {
        throw new TsrunError(`invalid linux.resources.unified key ${JSON.stringify(file)}`);
      }
    }
    const io = hasSettings(r.blockIO) ? this.ioWrites(r.blockIO!) : [];
    const hugetlb = hasSettings(r.hugepageLimits) ? this.hugetlbWrites(r.hugepageLimits!) : [];
    const rdma = hasSettings(r.rdma) ? this.rdmaWrites(r.rdma!) : [];
    if (deviceProgram) attachDeviceProgram(this.dir, deviceProgram, r.devices!);
    if (r.pids && r.pids.limit !== undefined) writeCgroupFile(this.dir, 'pids.max', pidsMax(r.pids.limit));
    if (r.memory) this.applyMemory(r.memory);
    for (const [dir, file, value] of [...io, ...hugetlb, ...rdma]) writeCgroupFile(dir, file, value);
    if (r.cpu) this.applyCpu(r.cpu);
    for (const [file, value] of unified) writeCgroupFile(this.dir, file, value);
  }

  /** A file a setting needs, with an error naming the controller when it is missing. */
  private need(field: string, file: string, controller: string): void {
    if (!cgroupFileExists(this.dir, file)) {
      throw new TsrunError(
        `linux.resources.${field}: ${path.posix.join(this.dir, file)} does not exist (the ${controller} controller is not available to this cgroup)`,
      );
    }
  }

  /**
   * io writes, checked up front. A weight goes to BFQ's io.bfq.weight as is when the disk
   * uses BFQ, else to io.weight converted from the blkio range (runc's choice); per-device
   * weights only BFQ takes; leaf weights v2 does not have at all.
   */
  private ioWrites(b: LinuxBlockIO): PendingWrite[] {
    const writes: PendingWrite[] = [];
    const bfq = cgroupFileExists(this.dir, 'io.bfq.weight');
    if (b.leafWeight || (b.weightDevice ?? []).some((d) => d.leafWeight)) {
      throw new TsrunError('linux.resources.blockIO leaf weights need cgroup v1 (CFQ): cgroup v2 has none');
    }
    if (b.weight) {
      if (bfq) writes.push([this.dir, 'io.bfq.weight', String(b.weight)]);
      else {
        this.need('blockIO.weight', 'io.weight', 'io');
        writes.push([this.dir, 'io.weight', String(blkioWeightToIoWeight(b.weight))]);
      }
    }
    const deviceWeights = (b.weightDevice ?? []).filter((d) => d.weight);
    if (deviceWeights.length) {
      // io.bfq.weight reads "default N" (plus device lines) when BFQ takes per-device weights.
      if (!bfq || /^\d+$/.test(readCgroupFile(this.dir, 'io.bfq.weight'))) {
        throw new TsrunError(`linux.resources.blockIO.weightDevice: per-device weights need the BFQ I/O scheduler (${path.posix.join(this.dir, 'io.bfq.weight')})`);
      }
      for (const d of deviceWeights) writes.push([this.dir, 'io.bfq.weight', deviceValueLine(d, d.weight!)]);
    }
    const throttles: [keyof LinuxBlockIO, 'rbps' | 'wbps' | 'riops' | 'wiops'][] = [
      ['throttleReadBpsDevice', 'rbps'],
      ['throttleWriteBpsDevice', 'wbps'],
      ['throttleReadIOPSDevice', 'riops'],
      ['throttleWriteIOPSDevice', 'wiops'],
    ];
    for (const [field, key] of throttles) {
      const list = (b[field] ?? []) as LinuxThrottleDevice[];
      if (list.length) this.need(`blockIO.${field}`, 'io.max', 'io');
      for (const d of list) writes.push([this.dir, 'io.max', ioMaxLine(d, key)]);
    }
    return writes;
  }

  private hugetlbWrites(limits: LinuxHugepageLimit[]): PendingWrite[] {
    checkHugePageSizes(limits);
    const writes: PendingWrite[] = [];
    for (const { pageSize, limit } of limits) {
      const file = `hugetlb.${pageSize}.max`;
      this.need('hugepageLimits', file, 'hugetlb');
      writes.push([this.dir, file, String(limit)]);
      const rsvd = `hugetlb.${pageSize}.rsvd.max`;
      if (cgroupFileExists(this.dir, rsvd)) writes.push([this.dir, rsvd, String(limit)]);
    }
    return writes;
  }

  private rdmaWrites(rdma: Record<string, LinuxRdma>): PendingWrite[] {
    this.need('rdma', 'rdma.max', 'rdma');
    return Object.entries(rdma).map(([device, limits]): PendingWrite => [this.dir, 'rdma.max', rdmaLine(device, limits)]);
  }

  private applyMemory(m: LinuxMemory): void {
    if (m.checkBeforeUpdate) this.checkMemoryUsage(m);
    // m.kernel is ignored like runc does: kernels since 5.16 ignore kmem limits.
    // A swap change alone (from `update`) is relative to the limit in force.
    let limit = m.limit;
    if (m.swap && m.swap > 0 && !limit) {
      const current = this.currentLimit('memory.max');
      if (current > 0) limit = current;
    }
    const swap = memorySwapForV2(m.swap, limit);
    if (swap !== undefined) {
      try {
        writeCgroupFile(this.dir, 'memory.swap.max', swap);
      } catch (err) {
        // Without swap accounting there is nothing to limit, so "max" and "0" hold anyway.
        const missing = !cgroupFileExists(this.dir, 'memory.swap.max');
        if (!(missing && (swap === 'max' || swap === '0'))) throw err;
      }
    }
    const max = v2Limit(m.limit);
    if (max !== undefined) writeCgroupFile(this.dir, 'memory.max', max);
    const low = v2Limit(m.reservation);
    if (low !== undefined) writeCgroupFile(this.dir, 'memory.low', low);
  }

  /** -1 for "max", else the number in the file. */
  private currentLimit(file: string): number {
    const text = readCgroupFile(this.dir, file);
    return text === 'max' ? -1 : Number(text);
  }

  /**
   * checkBeforeUpdate: v2 takes a limit below the current usage and then reclaims or
   * OOM-kills to meet it; refuse such a limit instead, as runc does.
   */
  private checkMemoryUsage(m: LinuxMemory): void {
    let usage: number;
    try {
      usage = Number(readCgroupFile(this.dir, 'memory.current'));
    } catch {
      return;
    }
    if (m.swap && m.swap > 0 && m.swap <= usage) {
      throw new TsrunError(`rejecting memory+swap limit ${m.swap} <= usage ${usage} (memory.checkBeforeUpdate)`);
    }
    if (m.limit && m.limit > 0 && m.limit <= usage) {
      throw new TsrunError(`rejecting memory limit ${m.limit} <= usage ${usage} (memory.checkBeforeUpdate)`);
    }
  }

  private applyCpu(c: LinuxCPU): void {
    if (c.cpus) writeCgroupFile(this.dir, 'cpuset.cpus', c.cpus);
    if (c.mems) writeCgroupFile(this.dir, 'cpuset.mems', c.mems);
    if (c.idle !== undefined) writeCgroupFile(this.dir, 'cpu.idle', String(c.idle));
    const weight = cpuSharesToWeight(c.shares ?? 0);
    if (weight) writeCgroupFile(this.dir, 'cpu.weight', String(weight));
    // cpu.max holds quota and period together: one given alone keeps the other as it is.
    let burstAfterMax = false;
    if (c.burst !== undefined) {
      try {
        writeCgroupFile(this.dir, 'cpu.max.burst', String(c.burst));
      } catch (err) {
        if ((err as TsrunError).errno !== 22 /* EINVAL */ || !c.quota) throw err;
        burstAfterMax = true;
      }
    }
    if (c.quota || c.period) {
      const [curQuota, curPeriod] = readCgroupFile(this.dir, 'cpu.max').split(' ');
      const quota = c.quota ? (c.quota > 0 ? String(c.quota) : 'max') : curQuota;
      // Period 0 means the kernel's default of 100ms.
      const period = c.period || Number(curPeriod) || 100000;
      writeCgroupFile(this.dir, 'cpu.max', `${quota} ${period}`);
    }
    if (burstAfterMax) writeCgroupFile(this.dir, 'cpu.max.burst', String(c.burst));
  }

  freeze(): void {
    this.setFrozen(true);
  }

  thaw(): void {
    this.setFrozen(false);
  }

  private setFrozen(frozen: boolean): void {
    writeCgroupFile(this.dir, 'cgroup.freeze', frozen ? '1' : '0');
    const want = frozen ? 'frozen 1' : 'frozen 0';
    if (!waitFor(() => this.events().includes(want), FREEZE_TIMEOUT_MS)) {
      if (frozen) writeCgroupFile(this.dir, 'cgroup.freeze', '0');
      throw new TsrunError(`cgroup ${this.dir} did not ${frozen ? 'freeze' : 'thaw'} within ${FREEZE_TIMEOUT_MS / 1000}s`);
    }
  }

  private events(): string[] {
    return readCgroupFile(this.dir, 'cgroup.events').split('\n');
  }

  pids(): number[] {
    return pidsInTree(this.dir).sort((a, b) => a - b);
  }

  stats(): ContainerStats {
    return v2Stats(this.dir);
  }

  oomStatus(): OomStatus | undefined {
    let text: string;
    try {
      text = readCgroupFile(this.dir, 'memory.events');
    } catch {
      return undefined;
    }
    return { kills: Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0), underOom: false };
  }

  destroy(): void {
    // A delete after the container stopped finds the directory empty: rmdir is all it takes.
    if (removeIfEmpty(this.dir)) return;
    if (cgroupFileExists(this.dir, 'cgroup.kill')) {
      // One write kills the whole subtree, racing no fork.
      writeCgroupFile(this.dir, 'cgroup.kill', '1');
    } else {
      let frozen = false;
      try {
        this.freeze();
        frozen = true;
      } catch {
        // A cgroup that will not freeze still has to go: kill without the freeze.
      }
      try {
        killPids(this.pids());
      } finally {
        if (frozen) this.thaw();
      }
    }
    const empty = waitFor(() => {
      if (this.events().includes('populated 0')) return true;
      killPids(this.pids());
      return false;
    }, EMPTY_TIMEOUT_MS);
    if (!empty) throw new TsrunError(`processes still in cgroup after SIGKILL: ${this.pids().join(' ')}`);
    removeCgroupTree(this.dir);
  }
}

/**
 * The device rules as an eBPF program on the cgroup, replacing the one there before. As runc
 * does, a failure is tolerated only where it cannot widen access: inside a user namespace
 * (where bpf() is refused and device nodes cannot be made) or when every rule allows all.
 */
function attachDeviceProgram(dir: string, program: Buffer, rules: readonly LinuxDeviceCgroup[]): void {
  try {
    native().attachDeviceFilter(dir, program, DEVICE_FILTER_LICENSE);
  } catch (err) {
    const allowsAll = (d: LinuxDeviceCgroup) => d.allow && ['r', 'w', 'm'].every((a) => (d.access ?? 'rwm').includes(a));
    if (!inUserNamespace() && !rules.every(allowsAll)) throw wrapError('linux.resources.devices', err);
  }
}

function inUserNamespace(): boolean {
  try {
    return !/^\s*0\s+0\s+4294967295\s*$/.test(fs.readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    return false;
  }
}

/** Memory settings cgroup v2 has no file for. */
function checkMemoryOnV2(m: LinuxMemory): void {
  if (m.disableOOMKiller) throw notSupported('memory.disableOOMKiller', 'cgroup v2 cannot disable the OOM killer');
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    throw notSupported('memory.swappiness', 'cgroup v2 has no per-cgroup swappiness');
  }
  if (m.kernelTCP) throw notSupported('memory.kernelTCP', 'cgroup v2 has no separate TCP memory limit');
  if (m.useHierarchy === false) throw notSupported('memory.useHierarchy', 'cgroup v2 is always hierarchical');
}

/**
 * Enable in dir's children every controller dir has. All at once first; if the kernel
 * refuses one (e.g. a controller that cannot be enabled below a cgroup with processes),
 * enable them one by one and keep whichever succeed, as runc does.
 */
function enableAllControllers(dir: string): void {
  const available = readCgroupFile(dir, 'cgroup.controllers').split(/\s+/).filter(Boolean);
  if (available.length === 0) return;
  const enabled = new Set(readCgroupFile(dir, 'cgroup.subtree_control').split(/\s+/).filter(Boolean));
  const wanted = available.filter((c) => !enabled.has(c));
  if (wanted.length === 0) return;
  try {
    writeCgroupFile(dir, 'cgroup.subtree_control', wanted.map((c) => `+${c}`).join(' '));
  } catch {
    for (const c of wanted) {
      try {
        writeCgroupFile(dir, 'cgroup.subtree_control', `+${c}`);
      } catch {
        // Left disabled; apply() reports the missing file if the container needs it.
      }
    }
  }
}
