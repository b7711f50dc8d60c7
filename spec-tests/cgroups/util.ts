/**
 * Helpers for cgroup spec tests: the host's cgroup mode, a container's cgroup files as seen
 * from the host (through the paths in its state.json) and from inside (the read-only cgroup
 * mount of the default config, which a cgroup namespace roots at the container's cgroup).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { detectCgroupMode } from '../../src/cgroups/mode';
import type { Spec } from '../../src/spec/types';
import { CLI, Sandbox } from '../harness';

export const mode = detectCgroupMode();
export const isV2 = mode === 'unified';
export const MiB = 1024 * 1024;

export function cgroupPaths(box: Sandbox, id: string): Record<string, string> {
  return JSON.parse(fs.readFileSync(path.join(box.root, id, 'state.json'), 'utf8')).cgroupPaths;
}

/** The container's directory for a v1 controller, or its only directory on v2. */
export function hostDir(box: Sandbox, id: string, controller: string): string {
  const paths = cgroupPaths(box, id);
  return isV2 ? paths[''] : paths[controller];
}

export function hostRead(box: Sandbox, id: string, controller: string, file: string): string {
  return fs.readFileSync(path.join(hostDir(box, id, controller), file), 'utf8').trim();
}

/** A cgroup file read by `cat` inside the container. */
export function insideRead(box: Sandbox, id: string, controller: string, file: string): string {
  const p = isV2 ? `/sys/fs/cgroup/${file}` : `/sys/fs/cgroup/${controller}/${file}`;
  const r = box.tsrun(['exec', id, 'cat', p]);
  if (r.status !== 0) throw new Error(`exec cat ${p} in ${id}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Both views of one file, which must agree. */
export function readBoth(box: Sandbox, id: string, controller: string, file: string): string {
  const outside = hostRead(box, id, controller, file);
  expect(insideRead(box, id, controller, file)).toBe(outside);
  return outside;
}

/** A running container whose process is args (default: sleep), with the bundle edited by edit. */
export function startContainer(box: Sandbox, edit: (s: Spec) => void = () => {}, args = ['sleep', '1000']): string {
  const bundle = box.bundle((s) => {
    s.process!.args = args;
    edit(s);
  });
  const c = box.create(bundle);
  if (c.result.status !== 0) throw new Error(`create: ${c.result.stderr}`);
  const r = box.tsrun(['start', c.id]);
  if (r.status !== 0) throw new Error(`start: ${r.stderr}`);
  return c.id;
}

/** create's error for a config with these resources (the create must fail), and the id it used. */
export function createError(box: Sandbox, edit: (s: Spec) => void): { stderr: string; id: string } {
  const c = box.create(box.bundle(edit));
  expect(c.result.status).toBe(1);
  return { stderr: c.result.stderr.trim(), id: c.id };
}

/** A block device of this machine (major, minor), for throttle settings. */
export function someBlockDevice(): { major: number; minor: number } | undefined {
  for (const name of fs.readdirSync('/sys/block').sort()) {
    try {
      const [major, minor] = fs.readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
      return { major, minor };
    } catch {
      // not a device entry
    }
  }
  return undefined;
}

/** Run tsrun in the background, collecting its output; resolves when it exits. */
export function tsrunAsync(box: Sandbox, args: string[]): { done: Promise<{ status: number | null; stdout: string; stderr: string }>; stdout: () => string } {
  const child = spawn(process.execPath, [CLI, '--root', box.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
  return { done, stdout: () => stdout };
}

export function sleepMs(ms: number): void {
  spawnSync('sleep', [String(ms / 1000)]);
}

/** Poll until fn() is true, or fail after timeoutMs. */
export async function eventually(fn: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
