/** OCI mounts → ordered mount steps with resolved flags. Pure: host facts come in as arguments. */
import * as path from 'path';
import type { LinuxIDMapping, Mount } from '../spec/types';
import { TsrunError } from '../errors';
import { MOUNT_ATTR, MS } from './linux';
import type { MountIdmap, MountStep } from './types';

const FLAG_OPTIONS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID },
  suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV },
  dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC },
  exec: { clear: MS.NOEXEC },
  sync: { set: MS.SYNCHRONOUS },
  async: { clear: MS.SYNCHRONOUS },
  dirsync: { set: MS.DIRSYNC },
  remount: { set: MS.REMOUNT },
  mand: { set: MS.MANDLOCK },
  nomand: { clear: MS.MANDLOCK },
  atime: { clear: MS.NOATIME },
  noatime: { set: MS.NOATIME },
  diratime: { clear: MS.NODIRATIME },
  nodiratime: { set: MS.NODIRATIME },
  bind: { set: MS.BIND },
  rbind: { set: MS.BIND | MS.REC },
  relatime: { set: MS.RELATIME },
  norelatime: { clear: MS.RELATIME },
  strictatime: { set: MS.STRICTATIME },
  nostrictatime: { clear: MS.STRICTATIME },
  nosymfollow: { set: MS.NOSYMFOLLOW },
  symfollow: { clear: MS.NOSYMFOLLOW },
  lazytime: { set: MS.LAZYTIME },
  nolazytime: { clear: MS.LAZYTIME },
  silent: { set: MS.SILENT },
  loud: { clear: MS.SILENT },
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Recursive options applied with mount_setattr(AT_RECURSIVE). */
const RECURSIVE_OPTIONS: Record<string, { set?: bigint; clear?: bigint }> = {
  rro: { set: MOUNT_ATTR.RDONLY },
  rrw: { clear: MOUNT_ATTR.RDONLY },
  rnosuid: { set: MOUNT_ATTR.NOSUID },
  rsuid: { clear: MOUNT_ATTR.NOSUID },
  rnodev: { set: MOUNT_ATTR.NODEV },
  rdev: { clear: MOUNT_ATTR.NODEV },
  rnoexec: { set: MOUNT_ATTR.NOEXEC },
  rexec: { clear: MOUNT_ATTR.NOEXEC },
  rnodiratime: { set: MOUNT_ATTR.NODIRATIME },
  rdiratime: { clear: MOUNT_ATTR.NODIRATIME },
  rrelatime: { set: MOUNT_ATTR.RELATIME, clear: MOUNT_ATTR.ATIME_MASK },
  rnorelatime: { clear: MOUNT_ATTR.ATIME_MASK },
  rnoatime: { set: MOUNT_ATTR.NOATIME, clear: MOUNT_ATTR.ATIME_MASK },
  ratime: { clear: MOUNT_ATTR.ATIME_MASK },
  rstrictatime: { set: MOUNT_ATTR.STRICTATIME, clear: MOUNT_ATTR.ATIME_MASK },
  rnostrictatime: { clear: MOUNT_ATTR.ATIME_MASK },
  rnosymfollow: { set: MOUNT_ATTR.NOSYMFOLLOW },
  rsymfollow: { clear: MOUNT_ATTR.NOSYMFOLLOW },
};

export interface ParsedOptions {
  flags: number;
  propagation: number[];
  attrSet: bigint;
  attrClr: bigint;
  data: string[];
  tmpcopyup: boolean;
  /** idmap or ridmap; the later one wins, as in runc */
  idmap: boolean;
  idmapRecursive: boolean;
}

export function parseMountOptions(options: readonly string[] = []): ParsedOptions {
  const out: ParsedOptions = { flags: 0, propagation: [], attrSet: 0n, attrClr: 0n, data: [], tmpcopyup: false, idmap: false, idmapRecursive: false };
  for (const opt of options) {
    const flag = FLAG_OPTIONS[opt];
    if (flag) {
      if (flag.clear) out.flags &= ~flag.clear;
      if (flag.set) out.flags |= flag.set;
      continue;
    }
    if (opt in PROPAGATION_OPTIONS) {
      out.propagation.push(PROPAGATION_OPTIONS[opt]);
      continue;
    }
    const rec = RECURSIVE_OPTIONS[opt];
    if (rec) {
      if (rec.clear) {
        out.attrClr |= rec.clear;
        out.attrSet &= ~rec.clear;
      }
      if (rec.set) out.attrSet |= rec.set;
      continue;
    }
    if (opt === 'tmpcopyup') out.tmpcopyup = true;
    else if (opt === 'idmap' || opt === 'ridmap') {
      out.idmap = true;
      out.idmapRecursive = opt === 'ridmap';
    }
    else out.data.push(opt);
  }
  return out;
}

/** The container's cgroups as a `cgroup` mount shows them (resolved by src/cgroups). */
export interface CgroupMountSource {
  v2: boolean;
  /** v1: one per hierarchy; v2: one entry with name "" */
  hierarchies: { name: string; options: string; hostPath: string }[];
}

export interface MountContext {
  bundle: string;
  cgroupNamespace: boolean;
  cgroups?: CgroupMountSource;
  /** The container's user namespace, when it has one: id-mapped binds without mappings of their own use it. */
  userns?: { path?: string; uidMappings?: LinuxIDMapping[]; gidMappings?: LinuxIDMapping[] };
}

function idMapText(mappings: readonly LinuxIDMapping[] | undefined): string {
  return (mappings ?? []).map((e) => `${e.containerID} ${e.hostID} ${e.size}\n`).join('');
}

/** The id mapping of a bind with idmap/ridmap or mappings of its own; undefined when it has none. */
function mountIdmap(m: Mount, opts: ParsedOptions, ctx: MountContext, where: string): MountIdmap | undefined {
  const own = (m.uidMappings?.length ?? 0) > 0 || (m.gidMappings?.length ?? 0) > 0;
  if (!opts.idmap && !own) return undefined;
  const recursive = opts.idmapRecursive;
  if (own) return { uidMap: idMapText(m.uidMappings), gidMap: idMapText(m.gidMappings), recursive, where };
  // as runc: without mappings of its own the mount takes the container's user namespace
  const userns = ctx.userns;
  if (userns?.path) return { uidMap: '', gidMap: '', usernsPath: userns.path, recursive, where };
  if (userns && ((userns.uidMappings?.length ?? 0) > 0 || (userns.gidMappings?.length ?? 0) > 0))
    return { uidMap: idMapText(userns.uidMappings), gidMap: idMapText(userns.gidMappings), recursive, where };
  const option = recursive ? 'ridmap' : 'idmap';
  throw new TsrunError(`${where}: "${option}" needs uidMappings/gidMappings on the mount or a user namespace with mappings`);
}

function containerPath(dest: string): string {
  const p = path.posix.normalize('/' + dest);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

function cgroupSteps(m: Mount, dest: string, opts: ParsedOptions, ctx: MountContext, where: string): MountStep[] {
  const cg = ctx.cgroups;
  if (!cg) throw new TsrunError(`${where}: cgroup mount requested but the host's cgroups are unknown`);
  const base = { propagation: [] as number[], attrSet: 0n, attrClr: 0n };
  const ro = opts.flags & MS.RDONLY;
  const flags = opts.flags & ~MS.RDONLY & ~MS.BIND & ~MS.REC;
  if (cg.v2) {
    const h = cg.hierarchies[0];
    if (ctx.cgroupNamespace)
      return [{ ...base, destination: dest, source: 'cgroup2', type: 'cgroup2', flags: opts.flags, bind: false, remountFlags: 0 }];
    return [{ ...base, destination: dest, source: h.hostPath, bind: true, flags: MS.BIND | MS.REC, remountFlags: opts.flags & ~(MS.BIND | MS.REC) }];
  }
  const steps: MountStep[] = [
    { ...base, destination: dest, source: 'tmpfs', type: 'tmpfs', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: 'mode=755', bind: false, remountFlags: 0 },
  ];
  for (const h of cg.hierarchies) {
    const sub = path.posix.join(dest, h.name);
    if (ctx.cgroupNamespace) {
      steps.push({ ...base, destination: sub, source: 'cgroup', type: 'cgroup', flags: flags | ro | MS.NOSUID | MS.NODEV | MS.NOEXEC, data: h.options, bind: false, remountFlags: 0 });
    } else {
      steps.push({ ...base, destination: sub, source: h.hostPath, bind: true, flags: MS.BIND | MS.REC, remountFlags: flags | ro | MS.NOSUID | MS.NODEV | MS.NOEXEC });
    }
    // co-mounted controllers are reachable by each name, as on the host (cpu -> cpu,cpuacct)
    if (h.name.includes(',')) {
      for (const alias of h.name.split(','))
        steps.push({ ...base, destination: path.posix.join(dest, alias), symlink: h.name, flags: 0, bind: false, remountFlags: 0 });
    }
  }
  if (ro) steps.push({ ...base, destination: dest, flags: MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, bind: false, remountFlags: 0 });
  return steps;
}

export function mountSteps(mounts: readonly Mount[], ctx: MountContext): MountStep[] {
  const steps: MountStep[] = [];
  mounts.forEach((m, i) => {
    const where = `mounts[${i}]`;
    const opts = parseMountOptions(m.options);
    const dest = containerPath(m.destination);
    const bind = m.type === 'bind' || (opts.flags & MS.BIND) !== 0;
    if ((!bind || m.type === 'cgroup') && (opts.idmap || m.uidMappings?.length || m.gidMappings?.length))
      throw new TsrunError(`${where}: id-mapped mounts are only supported for bind mounts`);
    if (m.type === 'cgroup') {
      steps.push(...cgroupSteps(m, dest, opts, ctx, where));
      return;
    }
    const base = { destination: dest, propagation: opts.propagation, attrSet: opts.attrSet, attrClr: opts.attrClr, tmpcopyup: opts.tmpcopyup || undefined };
    if (bind) {
      if (!m.source) throw new TsrunError(`${where}.source: a bind mount needs a source`);
      const source = path.isAbsolute(m.source) ? m.source : path.join(ctx.bundle, m.source);
      const rest = opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
      const idmap = mountIdmap(m, opts, ctx, where);
      steps.push({ ...base, source, bind: true, flags: MS.BIND | (opts.flags & MS.REC), remountFlags: rest, data: undefined, ...(idmap && { idmap }) });
      return;
    }
    steps.push({ ...base, source: m.source, type: m.type, bind: false, flags: opts.flags, remountFlags: 0, data: opts.data.length ? opts.data.join(',') : undefined });
  });
  return steps;
}
