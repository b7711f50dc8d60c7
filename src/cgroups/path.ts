/**
 * Where a container's cgroup goes, following runc's cgroupfs driver:
 *  - absolute linux.cgroupsPath: that path under the root of every hierarchy;
 *  - relative linux.cgroupsPath: nested under the caller's own cgroup in each hierarchy
 *    (on pure v2 under the caller's parent, since the caller's own cgroup has processes
 *    and so cannot enable controllers for children);
 *  - absent: the container id, as a relative path (so under the caller's cgroup too).
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../errors';
import { CGROUP_ROOT, Hierarchy, hierarchyDir } from './mode';

/**
 * Lexically clean a path so it can never climb out of where it is joined: absolute paths
 * stay absolute, relative ones stay relative and lose any leading "..".
 */
export function cleanCgroupPath(p: string): string {
  if (p === '') return '';
  const rooted = path.posix.normalize('/' + p).replace(/\/+$/, '') || '/';
  return p.startsWith('/') ? rooted : rooted.slice(1);
}

/** The path relative to a hierarchy root (leading "/") or to the caller's cgroup (no "/"). */
export function cgroupInnerPath(cgroupsPath: string | undefined, id: string): string {
  const inner = cleanCgroupPath(cgroupsPath || id);
  if (inner === '/' || inner === '') {
    throw new TsrunError(`cgroupsPath ${JSON.stringify(cgroupsPath ?? '')} names the root cgroup, which a container cannot own`);
  }
  return inner;
}

/**
 * The systemd driver is never replaced silently by cgroupfs: a client that asked for it
 * expects systemd to own the unit, and would be surprised by stray cgroupfs directories.
 */
export function checkSystemdDriver(cgroupsPath: string | undefined, systemdRunning = fs.existsSync('/run/systemd/system')): never {
  if (!systemdRunning) {
    throw new TsrunError('systemd cgroup driver requested but systemd is not running (no /run/systemd/system)');
  }
  if (cgroupsPath && cgroupsPath.split(':').length !== 3) {
    throw new TsrunError(`expected cgroupsPath of the form "slice:prefix:name" for the systemd cgroup driver, got ${JSON.stringify(cgroupsPath)}`);
  }
  throw new TsrunError('not supported yet: the systemd cgroup driver (run without --systemd-cgroup)');
}

/**
 * Directory per v1 controller (co-mounted controllers share one), keyed like runc's state:
 * "memory", "cpu", "cpuacct", "name=systemd", and "" for the hybrid cgroup2 hierarchy.
 */
export function v1CgroupDirs(hierarchies: Hierarchy[], inner: string): Record<string, string> {
  const dirs: Record<string, string> = {};
  for (const h of hierarchies) {
    const dir = inner.startsWith('/')
      ? path.posix.join(h.mountpoint, inner)
      : path.posix.join(hierarchyDir(h, h.ownPath), inner);
    if (h.controllers.length === 0) dirs[''] = dir;
    for (const c of h.controllers) dirs[c] = dir;
  }
  return dirs;
}

/** The container's directory on a pure v2 host, given the caller's own "0::" path. */
export function v2CgroupDir(inner: string, ownUnifiedPath: string): string {
  if (inner.startsWith('/')) return path.posix.join(CGROUP_ROOT, inner);
  return path.posix.join(CGROUP_ROOT, path.posix.dirname(ownUnifiedPath), inner);
}
