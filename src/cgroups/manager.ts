/**
 * The one cgroup interface the rest of tsrun uses, and the factories that pick the v1 or v2
 * implementation from the host's cgroup mode.
 */
import { TsrunError } from '../errors';
import type { LinuxResources } from '../spec/types';
import { detectCgroupMode, ownHierarchies, ownUnifiedPath } from './mode';
import { cgroupInnerPath, checkSystemdDriver, v1CgroupDirs, v2CgroupDir } from './path';
import type { ContainerStats } from './stats';
import { V1CgroupManager } from './v1';
import { V2CgroupManager } from './v2';

export interface CgroupManager {
  /** Directory per controller (v1: "memory", "cpu", ..., "" for hybrid cgroup2; v2: just ""). Persist these. */
  paths(): Record<string, string>;
  /** Make the directories (and, on v1 cpuset, give them cpus/mems so tasks can join). */
  create(): void;
  addProcess(pid: number): void;
  /** Write linux.resources; a field not implemented yet throws "not supported yet: linux.resources.X". */
  apply(resources: LinuxResources | undefined): void;
  /** Returns once every task is frozen (throws, thawed again, if that takes too long). */
  freeze(): void;
  thaw(): void;
  /** Every process in the cgroup and its descendants, ascending. */
  pids(): number[];
  /** Freeze, SIGKILL every process, thaw, wait until empty, rmdir (children first). No-op when gone. */
  destroy(): void;
  exists(): boolean;
  /** Resource statistics as `runc events` prints them. */
  stats(): ContainerStats;
  /** OOM counters for `events`; undefined without a memory controller or once the cgroup is gone. */
  oomStatus(): OomStatus | undefined;
}

export interface OomStatus {
  /** Processes the OOM killer has killed in the cgroup so far. */
  kills: number;
  /** v1 with the OOM killer disabled: the cgroup is at its limit and its allocators wait. */
  underOom: boolean;
}

/** The manager for a new container, from its linux.cgroupsPath and id. */
export function cgroupManager(cgroupsPath: string | undefined, id: string, opts: { systemd: boolean }): CgroupManager {
  if (opts.systemd) checkSystemdDriver(cgroupsPath);
  const inner = cgroupInnerPath(cgroupsPath, id);
  if (detectCgroupMode() === 'unified') return new V2CgroupManager(v2CgroupDir(inner, ownUnifiedPath()));
  return new V1CgroupManager(v1CgroupDirs(ownHierarchies(), inner));
}

/** The manager for an existing container, from the paths() its creator persisted. */
export function cgroupManagerFromPaths(paths: Record<string, string>): CgroupManager {
  if (detectCgroupMode() === 'unified') {
    const dir = paths[''];
    if (!dir) throw new TsrunError('saved cgroup paths have no cgroup v2 directory, but this host is cgroup v2');
    return new V2CgroupManager(dir);
  }
  return new V1CgroupManager(paths);
}
