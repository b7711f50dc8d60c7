/**
 * The host's cgroup layout: which mode it runs in (unified v2, hybrid, legacy v1) and, for
 * v1, where each hierarchy is mounted and where this process sits in it. Parsers are pure
 * (text in, data out) so they can be tested without a particular host.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../errors';

/** unified: /sys/fs/cgroup is cgroup2; hybrid: v1 controllers plus a cgroup2 at .../unified; legacy: v1 only. */
export type CgroupMode = 'unified' | 'hybrid' | 'legacy';

export const CGROUP_ROOT = '/sys/fs/cgroup';
export const HYBRID_UNIFIED_ROOT = '/sys/fs/cgroup/unified';
const CGROUP2_SUPER_MAGIC = 0x63677270;

let cachedMode: CgroupMode | undefined;

/** statfs magic, as runc does: two syscalls instead of parsing mountinfo. */
export function detectCgroupMode(): CgroupMode {
  if (cachedMode) return cachedMode;
  const isCgroup2 = (p: string): boolean => {
    try {
      return fs.statfsSync(p).type === CGROUP2_SUPER_MAGIC;
    } catch {
      return false;
    }
  };
  if (isCgroup2(CGROUP_ROOT)) cachedMode = 'unified';
  else if (isCgroup2(HYBRID_UNIFIED_ROOT)) cachedMode = 'hybrid';
  else cachedMode = 'legacy';
  return cachedMode;
}

export interface MountInfo {
  root: string;
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parse /proc/<pid>/mountinfo, keeping only cgroup and cgroup2 mounts. */
export function parseCgroupMounts(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    // most mounts are not cgroups: skip them before splitting their fields
    if (!line.includes(' - cgroup')) continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0) continue;
    const fstype = fields[sep + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    mounts.push({
      root: unescapeMountField(fields[3]),
      mountpoint: unescapeMountField(fields[4]),
      fstype,
      superOptions: (fields[sep + 3] ?? '').split(','),
    });
  }
  return mounts;
}

export interface ProcCgroupEntry {
  hierarchyId: number;
  /** Controllers bound to the hierarchy, e.g. ["cpu","cpuacct"] or ["name=systemd"]; [] for cgroup2. */
  controllers: string[];
  path: string;
}

/** Parse /proc/<pid>/cgroup ("4:memory:/a/b", "0::/c"). */
export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const out: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const list = line.slice(first + 1, second);
    out.push({
      hierarchyId: Number(line.slice(0, first)),
      controllers: list ? list.split(',') : [],
      path: line.slice(second + 1),
    });
  }
  return out;
}

export interface Hierarchy {
  /** Controllers of a v1 hierarchy (["memory"], ["cpu","cpuacct"], ["name=systemd"]); [] for cgroup2. */
  controllers: string[];
  mountpoint: string;
  /** Which cgroup the mount shows at its mountpoint (not "/" inside bind mounts or cgroup namespaces). */
  mountRoot: string;
  /** The calling process's cgroup in this hierarchy. */
  ownPath: string;
}

/**
 * Match each hierarchy of /proc/self/cgroup with the mount that shows it. Hierarchies that
 * are not mounted are left out; the cgroup2 entry is included when a cgroup2 mount exists.
 */
export function matchHierarchies(mounts: MountInfo[], entries: ProcCgroupEntry[]): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const entry of entries) {
    const isUnified = entry.hierarchyId === 0;
    if (!isUnified && entry.controllers.length === 0) continue;
    const mount = isUnified
      ? mounts.find((m) => m.fstype === 'cgroup2')
      : mounts.find((m) => m.fstype === 'cgroup' && entry.controllers.every((c) => m.superOptions.includes(c)));
    if (!mount) continue;
    out.push({
      controllers: entry.controllers,
      mountpoint: mount.mountpoint,
      mountRoot: mount.root,
      ownPath: entry.path,
    });
  }
  return out;
}

let hierarchies: Hierarchy[] | undefined;

/**
 * This process's hierarchies as the host shows them, read once per process (create needs them
 * for the cgroups and again for the container's cgroup mounts; mountinfo is costly to read).
 */
export function ownHierarchies(): Hierarchy[] {
  if (hierarchies) return hierarchies;
  const mounts = parseCgroupMounts(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const entries = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  const found = matchHierarchies(mounts, entries);
  if (found.length === 0) throw new TsrunError('no cgroup hierarchy is mounted (see /proc/self/mountinfo)');
  hierarchies = found;
  return found;
}

/** This process's cgroup in the unified hierarchy (the "0::" line). */
export function ownUnifiedPath(procCgroupText = fs.readFileSync('/proc/self/cgroup', 'utf8')): string {
  const entry = parseProcCgroup(procCgroupText).find((e) => e.hierarchyId === 0);
  if (!entry) throw new TsrunError('no cgroup v2 entry in /proc/self/cgroup');
  return entry.path;
}

/** Where a cgroup path (as /proc/self/cgroup spells it) appears under a hierarchy's mountpoint. */
export function hierarchyDir(h: Pick<Hierarchy, 'mountpoint' | 'mountRoot'>, cgroupPath: string): string {
  const rel = path.posix.relative(h.mountRoot, cgroupPath);
  // Outside the mount's root (a cgroup namespace boundary): nothing better than the path as is.
  const inside = rel.startsWith('..') ? cgroupPath : rel;
  return path.posix.join(h.mountpoint, inside);
}
