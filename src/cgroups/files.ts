/**
 * Reading and writing cgroupfs files, shared by the v1 and v2 managers. Everything is
 * synchronous: cgroup setup sits between fork and exec of the container, where there is
 * nothing else to overlap with, and sync calls keep the managers easy to reason about.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError, wrapError } from '../errors';

/**
 * One write(2) of value to an existing control file. O_WRONLY without O_CREAT: some files
 * are write-only (cgroup.kill, devices.allow) and a missing file must read as "controller
 * absent", not as an attempt to create one.
 */
export function writeCgroupFile(dir: string, file: string, value: string): void {
  const full = path.join(dir, file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(full, fs.constants.O_WRONLY);
    fs.writeSync(fd, value);
  } catch (err) {
    throw wrapError(`write ${JSON.stringify(value)} to ${full}`, err);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function readCgroupFile(dir: string, file: string): string {
  const full = path.join(dir, file);
  try {
    return fs.readFileSync(full, 'utf8').trim();
  } catch (err) {
    throw wrapError(`read ${full}`, err);
  }
}

export function cgroupFileExists(dir: string, file: string): boolean {
  return fs.existsSync(path.join(dir, file));
}

/** The error every not-yet-implemented resource raises, so callers see exactly what is missing. */
export function notSupported(field: string, why?: string): TsrunError {
  return new TsrunError(`not supported yet: linux.resources.${field}${why ? ` (${why})` : ''}`);
}

/** mkdir -p with a mode; existing directories are fine. */
export function makeCgroupDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw wrapError(`create cgroup ${dir}`, err);
  }
}

/** Every cgroup directory at or below dir, deepest first (the order rmdir needs). */
export function cgroupTreeDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw wrapError(`list cgroup ${d}`, err);
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  walk(dir);
  return out;
}

/** Pids listed in cgroup.procs of dir and all its descendants (missing dirs count as empty). */
export function pidsInTree(dir: string): number[] {
  const pids: number[] = [];
  for (const d of cgroupTreeDeepestFirst(dir)) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw wrapError(`read ${path.join(d, 'cgroup.procs')}`, err);
    }
    for (const line of text.split('\n')) if (line) pids.push(Number(line));
  }
  return pids;
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Poll until done() or the deadline; returns whether done() became true. */
export function waitFor(done: () => boolean, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    sleepMs(delay);
  }
}

export function killPids(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw wrapError(`kill ${pid}`, err);
    }
  }
}

/**
 * rmdir alone: true when dir is gone (or was never there), false when it still has processes or
 * child cgroups (EBUSY), so the caller waits or takes the long way.
 */
export function removeIfEmpty(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY' || code === 'ENOTEMPTY') return false;
    throw wrapError(`remove cgroup ${dir}`, err);
  }
}

/**
 * rmdir every directory of the tree, children first. A cgroup whose last task has just
 * died can report EBUSY for a moment while the kernel finishes tearing it down, so retry.
 */
export function removeCgroupTree(dir: string, timeoutMs = 5000): void {
  for (const d of cgroupTreeDeepestFirst(dir)) {
    if (!waitFor(() => removeIfEmpty(d), timeoutMs))
      throw new TsrunError(`remove cgroup ${d}: still busy after ${timeoutMs} ms`, { errno: 16 /* EBUSY */ });
  }
}
