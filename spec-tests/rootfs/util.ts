/**
 * Helpers for the rootfs, hooks and failures spec tests: run a shell script inside a container
 * and read back what it saw, parse /proc/<pid>/mountinfo, and look for anything a container left
 * behind on the host (state, processes, cgroups, mounts).
 */
import * as fs from 'fs';
import type { Spec } from '../../src/spec/types';
import { type Result, Sandbox, sh, walkTree } from '../harness';

export interface MountInfo {
  id: number;
  parent: number;
  dev: string;
  root: string;
  mountPoint: string;
  options: string[];
  /** optional fields: shared:N, master:N, propagate_from:N, unbindable */
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): MountInfo[] {
  return text
    .split('\n')
    .filter((l) => /^\d+ \d+ /.test(l))
    .map((line) => {
      const [left, right] = line.split(' - ');
      const f = left.split(' ');
      const r = right.split(' ');
      return {
        id: Number(f[0]),
        parent: Number(f[1]),
        dev: f[2],
        root: unescape(f[3]),
        mountPoint: unescape(f[4]),
        options: f[5].split(','),
        optional: f.slice(6),
        fsType: r[0],
        source: unescape(r[1]),
        superOptions: (r[2] ?? '').split(','),
      };
    });
}

/** The last (topmost) mount at a path. */
export function mountAt(mounts: MountInfo[], mountPoint: string): MountInfo | undefined {
  return mounts.filter((m) => m.mountPoint === mountPoint).pop();
}

/** Splits output printed as `== name` sections. */
export function sections(out: string): Record<string, string> {
  const res: Record<string, string> = {};
  let name = '';
  for (const line of out.split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) {
      name = m[1];
      res[name] = '';
    } else if (name) {
      res[name] += line + '\n';
    }
  }
  return res;
}

/** Runs `script` with sh in a fresh container made from the busybox bundle edited by `edit`. */
export function runScript(box: Sandbox, script: string, edit: (s: Spec) => void = () => {}, extra: string[] = []): Result & { bundle: string } {
  const bundle = box.bundle((s) => {
    s.process!.args = sh(script);
    edit(s);
  });
  return { ...box.run(bundle, box.id(), extra), bundle };
}

/** Like runScript, but the script must succeed; returns its stdout. */
export function inside(box: Sandbox, script: string, edit: (s: Spec) => void = () => {}, extra: string[] = []): string {
  const r = runScript(box, script, edit, extra);
  if (r.status !== 0) throw new Error(`container exited ${r.status}: ${r.stderr}\nstdout: ${r.stdout}`);
  return r.stdout;
}

export function addCapability(s: Spec, cap: string): void {
  const caps = (s.process!.capabilities ??= {});
  for (const set of ['bounding', 'effective', 'permitted'] as const) {
    const list = (caps[set] ??= []);
    if (!list.includes(cap)) list.push(cap);
  }
}

/** Host pids whose cgroup membership names the container id (its init, its processes, its hooks). */
export function pidsInContainerCgroups(id: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const lines = fs.readFileSync(`/proc/${entry}/cgroup`, 'utf8').split('\n');
      if (lines.some((l) => l.endsWith(`/${id}`) || l.includes(`/${id}/`))) pids.push(Number(entry));
    } catch {
      /* exited */
    }
  }
  return pids;
}

export function processAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Cgroup directories named after the container under any v1 hierarchy or the unified one. */
export function cgroupDirsOf(id: string): string[] {
  return [...walkTree('/sys/fs/cgroup', 5)].filter((e) => e.dirent.isDirectory() && e.dirent.name === id).map((e) => e.path);
}

/** Host mounts whose mount point lies under dir (a bundle that a container leaked into the host). */
export function hostMountsUnder(dir: string): string[] {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(dir + '/'));
}

/** tsrun-init processes (helper or container init) holding anything in the container's state dir. */
export function initsHolding(stateDir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!fs.readlinkSync(`/proc/${entry}/exe`).startsWith('/memfd:tsrun-init')) continue;
      const links = fs.readdirSync(`/proc/${entry}/fd`).map((fd) => `fd/${fd}`);
      if (links.some((l) => fs.readlinkSync(`/proc/${entry}/${l}`).startsWith(stateDir + '/'))) found.push(Number(entry));
    } catch {
      /* exited, or a kernel thread */
    }
  }
  return found;
}

/** Everything a container may leave behind; all empty when it is fully gone. */
export function leftovers(box: Sandbox, id: string, extraPaths: Record<string, string> = {}): Record<string, unknown> {
  const list = box.tsrun(['list', '--format', 'json'], { maxBuffer: 64 << 20 });
  const listed = list.status === 0 && list.stdout.trim() ? (JSON.parse(list.stdout) as { id: string }[]).filter((c) => c.id === id) : [];
  return {
    listed,
    stateDir: fs.existsSync(`${box.root}/${id}`),
    pids: pidsInContainerCgroups(id),
    inits: initsHolding(`${box.root}/${id}`),
    cgroups: [...cgroupDirsOf(id), ...Object.values(extraPaths).filter((p) => fs.existsSync(p))],
    mounts: hostMountsUnder(box.dir),
  };
}

export const NOTHING_LEFT = { listed: [], stateDir: false, pids: [], inits: [], cgroups: [], mounts: [] };
