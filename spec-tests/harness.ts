/**
 * Shared helpers for spec-tests: real containers, as root, on a busybox rootfs built by
 * scripts/make-busybox-bundle.sh. Each test gets its own bundle directory, state root and
 * container ids, and removes them afterwards, so tests can run beside other work.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Spec } from '../src/spec/types';

export const REPO = path.join(__dirname, '..');
/** The bundle itself, for tests that run it with `node` to control the process (stdio, signals). */
export const CLI = path.join(REPO, 'dist', 'tsrun.js');
/** What users run: the launcher, which picks a bundle and its code cache for the command. */
export const LAUNCHER = path.join(REPO, 'bin', 'tsrun');
// One template shared by every test process (not one per pid left behind), keyed by what
// makes it, so a changed builder or default spec never reuses a stale one.
const BASE = path.join(
  os.tmpdir(),
  `tsrun-spec-base-${createHash('sha256')
    .update(fs.readFileSync(path.join(REPO, 'scripts/make-busybox-bundle.sh')))
    .update(fs.readFileSync(path.join(REPO, 'src/spec/default-spec.ts')))
    .digest('hex')
    .slice(0, 12)}`,
);

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

/** The busybox bundle template, built once per test process. */
export function baseBundle(): string {
  if (!fs.existsSync(path.join(BASE, 'config.json'))) {
    // built aside and renamed into place, so concurrent test processes never see half a template
    const tmp = `${BASE}.${process.pid}`;
    const r = spawnSync('bash', [path.join(REPO, 'scripts/make-busybox-bundle.sh'), tmp], { encoding: 'utf8', env: cleanEnv() });
    if (r.status !== 0) throw new Error(`make-busybox-bundle failed: ${r.stderr}`);
    try {
      fs.renameSync(tmp, BASE);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race
    }
  }
  return BASE;
}

let counter = 0;
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** A test sandbox: its own state root and bundles; `cleanup()` force-deletes what it made. */
export class Sandbox {
  readonly dir: string;
  readonly root: string;
  private ids = new Set<string>();

  constructor(readonly name: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-spec-${name}-`));
    this.root = path.join(this.dir, 'state');
  }

  /** A fresh bundle: a copy of the busybox rootfs and the default config, edited by `edit`. */
  bundle(edit: (spec: Spec) => void = () => {}, name = `b${counter++}`): string {
    const base = baseBundle();
    const dir = path.join(this.dir, name);
    fs.mkdirSync(dir);
    const cp = spawnSync('cp', ['-a', path.join(base, 'rootfs'), path.join(dir, 'rootfs')]);
    if (cp.status !== 0) throw new Error(`copy rootfs: ${cp.stderr}`);
    const spec = JSON.parse(fs.readFileSync(path.join(base, 'config.json'), 'utf8')) as Spec;
    spec.root!.readonly = false;
    edit(spec);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    return dir;
  }

  id(prefix = this.name): string {
    const id = uniqueId(prefix);
    this.ids.add(id);
    return id;
  }

  /** Runs `tsrun --root <sandbox root> ...args`. */
  tsrun(args: string[], opts: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}): Result {
    const r = spawnSync(LAUNCHER, ['--root', this.root, ...args], {
      encoding: 'utf8',
      timeout: 30000,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
      env: cleanEnv(opts.env),
    });
    return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  }

  /** `run` in the foreground: the container's own output and exit status. */
  run(bundle: string, id = this.id(), extra: string[] = []): Result {
    return this.tsrun(['run', '--bundle', bundle, ...extra, id]);
  }

  /** create with stdout/stderr going to files (the container outlives this call), for lifecycle tests. */
  create(bundle: string, id = this.id(), extra: string[] = []): { result: Result; id: string; out: string; err: string } {
    const out = path.join(this.dir, `${id}.out`);
    const err = path.join(this.dir, `${id}.err`);
    const outFd = fs.openSync(out, 'w');
    const errFd = fs.openSync(err, 'w');
    const r = spawnSync(LAUNCHER, ['--root', this.root, 'create', '--bundle', bundle, ...extra, id], {
      encoding: 'utf8',
      timeout: 30000,
      stdio: ['ignore', outFd, errFd],
      env: cleanEnv(),
    });
    fs.closeSync(outFd);
    fs.closeSync(errFd);
    return { result: { status: r.status, signal: r.signal, stdout: '', stderr: fs.readFileSync(err, 'utf8') }, id, out, err };
  }

  state(id: string): { status: string; pid: number; [k: string]: unknown } {
    const r = this.tsrun(['state', id]);
    if (r.status !== 0) throw new Error(`state ${id}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Wait until `state` reports the status (or throw after timeoutMs). */
  waitStatus(id: string, status: string, timeoutMs = 10000): void {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = this.tsrun(['state', id]);
      // a container still being created may not exist yet
      if (r.status === 0 && JSON.parse(r.stdout).status === status) return;
      if (Date.now() > end) throw new Error(`${id} never reached ${status}: ${r.stdout}${r.stderr}`);
      spawnSync('sleep', ['0.02']);
    }
  }

  cleanup(): void {
    for (const id of this.ids) this.tsrun(['delete', '--force', id]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Shell one-liner as process.args. */
export function sh(script: string): string[] {
  return ['sh', '-c', script];
}

export function cleanupBase(): void {
  fs.rmSync(BASE, { recursive: true, force: true });
}

/**
 * Starts a Python fixture of spec-tests/fixtures that prints "listening" once its socket is
 * bound: `ready` resolves then, `done` with all it printed when it exits.
 */
export function startFixture(script: string, args: string[]): { ready: Promise<void>; done: Promise<string>; child: ChildProcess } {
  const child = spawn('python3', [path.join(REPO, 'spec-tests/fixtures', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const ready = new Promise<void>((resolve) => {
    const check = () => (out.includes('listening') ? resolve() : setTimeout(check, 10));
    check();
  });
  const done = new Promise<string>((resolve) => child.on('exit', () => resolve(out)));
  return { ready, done, child };
}

/**
 * Every entry below `root`, down to `levels` directories deep; unreadable directories are
 * skipped. For finding what a container left behind (cgroups, bundles, records).
 */
export function* walkTree(root: string, levels: number): Generator<{ path: string; dirent: fs.Dirent }> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return;
  }
  for (const dirent of entries) {
    const p = path.join(root, dirent.name);
    yield { path: p, dirent };
    if (dirent.isDirectory() && levels > 1) yield* walkTree(p, levels - 1);
  }
}
