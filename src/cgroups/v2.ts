/**
 * cgroup v2 (unified hosts): one directory, controllers enabled from the root down through
 * cgroup.subtree_control, cgroup.freeze for pause and cgroup.kill for teardown.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../errors';
import type { LinuxCPU, LinuxMemory, LinuxResources } from '../spec/types';
import {
  cgroupFileExists,
  killPids,
  makeCgroupDir,
  notSupported,
  pidsInTree,
  readCgroupFile,
  removeCgroupTree,
  waitFor,
  writeCgroupFile,
} from './files';
import type { CgroupManager } from './manager';
import { CGROUP_ROOT } from './mode';
import { cpuSharesToWeight, hasSettings, memorySwapForV2, pidsMax, v2Limit } from './resources';

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
    if (hasSettings(r.devices)) throw notSupported('devices', 'cgroup v2 needs an eBPF device filter');
    if (hasSettings(r.blockIO)) throw notSupported('blockIO');
    if (hasSettings(r.hugepageLimits)) throw notSupported('hugepageLimits');
    if (hasSettings(r.network)) throw notSupported('network', 'cgroup v2 has no net_cls/net_prio');
    if (hasSettings(r.rdma)) throw notSupported('rdma');
    if (r.memory) checkMemoryOnV2(r.memory);
    if (r.cpu && (r.cpu.realtimePeriod || r.cpu.realtimeRuntime)) {
      throw notSupported('cpu.realtimePeriod/realtimeRuntime', 'cgroup v2 has no realtime budget');
    }
    const unified = Object.entries(r.unified ?? {});
    for (const [file] of unified) {
      if (file.includes('/') || file.startsWith('.') || file === '') {
        throw new TsrunError(`invalid linux.resources.unified key ${JSON.stringify(file)}`);
      }
    }
    if (r.memory) this.applyMemory(r.memory);
    if (r.cpu) this.applyCpu(r.cpu);
    if (r.pids && r.pids.limit !== undefined) writeCgroupFile(this.dir, 'pids.max', pidsMax(r.pids.limit));
    for (const [file, value] of unified) writeCgroupFile(this.dir, file, value);
  }

  private applyMemory(m: LinuxMemory): void {
    // m.kernel is ignored like runc does: kernels since 5.16 ignore kmem limits.
    const swap = memorySwapForV2(m.swap, m.limit);
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

  private applyCpu(c: LinuxCPU): void {
    if (c.cpus) writeCgroupFile(this.dir, 'cpuset.cpus', c.cpus);
    if (c.mems) writeCgroupFile(this.dir, 'cpuset.mems', c.mems);
    if (c.idle !== undefined) writeCgroupFile(this.dir, 'cpu.idle', String(c.idle));
    const weight = cpuSharesToWeight(c.shares ?? 0);
    if (weight) writeCgroupFile(this.dir, 'cpu.weight', String(weight));
    if (c.quota || c.period) {
      const quota = c.quota && c.quota > 0 ? String(c.quota) : 'max';
      // Period 0 means the kernel's default of 100ms.
      writeCgroupFile(this.dir, 'cpu.max', `${quota} ${c.period || 100000}`);
    }
    if (c.burst !== undefined) writeCgroupFile(this.dir, 'cpu.max.burst', String(c.burst));
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

  destroy(): void {
    if (!this.exists()) return;
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
