/**
 * The state store: `<root>/<id>/state.json`, runc's layout. Written atomically (temp file in the
 * same directory, rename) so a reader never sees half a file and a writer killed midway leaves
 * the previous state intact. No fsync, like runc: the state describes processes that do not
 * outlive the machine, a file a power loss tore is reported broken and `delete` removes it, and
 * on a disk-backed --root the fsyncs cost milliseconds on every create.
 * The status is never stored: it is derived from /proc each time.
 *
 * This module is on the path of `state` and `list`, so it loads nothing but fs and path.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../errors';
import type { Hook } from '../spec/types';
import { validateId } from './id';

export type ContainerStatus = 'created' | 'running' | 'stopped' | 'paused';

export interface PersistedState {
  ociVersion: string;
  id: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat when the container started; 0 if unknown. */
  pidStartTime: number;
  bundle: string;
  rootfs: string;
  /** RFC 3339 with nanoseconds, UTC. */
  created: string;
  owner: string;
  annotations: Record<string, string>;
  paused?: boolean;
  cgroupPaths?: Record<string, string>;
  hooks?: { poststart?: Hook[]; poststop?: Hook[] };
  config?: unknown;
}

export const STATE_FILE = 'state.json';
/** Present from create until start: init blocks opening it (see lifecycle). */
export const EXEC_FIFO = 'exec.fifo';
/** The file flocked by src/container/lock.ts; also keeps a fresh container directory non-empty. */
export const LOCK_FILE = 'lock';

/** The container has no directory under the root. Clients match "does not exist". */
export class ContainerNotExistError extends TsrunError {
  constructor(id: string) {
    super(`container "${id}" does not exist`, { errno: 2 });
    this.name = 'ContainerNotExistError';
  }
}

/** The directory exists but its state.json is missing or unreadable (a create in progress or a crash). */
export class BrokenStateError extends TsrunError {
  constructor(id: string, detail: string, cause?: unknown) {
    super(`container "${id}" has no usable state: ${detail}`, { cause });
    this.name = 'BrokenStateError';
  }
}

const ROOT_MODE = 0o700;
const CONTAINER_DIR_MODE = 0o711;

export class StateStore {
  constructor(readonly root: string) {}

  containerDir(id: string): string {
    validateId(id);
    return path.join(this.root, id);
  }

  /** The root directory, created 0700 when missing. */
  ensureRoot(): void {
    fs.mkdirSync(this.root, { recursive: true, mode: ROOT_MODE });
  }

  /**
   * Create the container's directory and return it; fails if the id is taken. The directory
   * appears fully formed (with its lock file) through a rename, so it is never seen empty, and
   * `beforePublish` can act on it (take the lock) before any other command can see it.
   */
  create(id: string, beforePublish?: (tmpDir: string) => void): string {
    const dir = this.containerDir(id);
    this.ensureRoot();
    if (fs.existsSync(dir)) throw new TsrunError(`container with id exists: ${id}`, { errno: 17 });
    const tmp = fs.mkdtempSync(path.join(this.root, `.new-${id.slice(0, 64)}-`));
    try {
      fs.chmodSync(tmp, CONTAINER_DIR_MODE);
      fs.closeSync(fs.openSync(path.join(tmp, LOCK_FILE), 'w', 0o600));
      beforePublish?.(tmp);
      try {
        // Replaces only a missing or empty directory: a live container's holds its lock file.
        fs.renameSync(tmp, dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') {
          throw new TsrunError(`container with id exists: ${id}`, { errno: 17 });
        }
        throw err;
      }
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    return dir;
  }

  exists(id: string): boolean {
    return fs.existsSync(this.containerDir(id));
  }

  read(id: string): PersistedState {
    const dir = this.containerDir(id);
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, STATE_FILE), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      if (!fs.existsSync(dir)) throw new ContainerNotExistError(id);
      throw new BrokenStateError(id, `${path.join(dir, STATE_FILE)} is missing`, err);
    }
    try {
      return JSON.parse(text) as PersistedState;
    } catch (err) {
      throw new BrokenStateError(id, `${path.join(dir, STATE_FILE)} is not valid JSON`, err);
    }
  }

  /** Replace state.json atomically. */
  write(id: string, state: PersistedState): void {
    const dir = this.containerDir(id);
    const file = path.join(dir, STATE_FILE);
    const tmp = path.join(dir, `.${STATE_FILE}.${process.pid}.tmp`);
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      const data = Buffer.from(JSON.stringify(state));
      let off = 0;
      while (off < data.length) off += fs.writeSync(fd, data, off);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  }

  remove(id: string): void {
    const dir = this.containerDir(id);
    // It holds files only (state.json, lock, exec.fifo, a temp file): unlinking them and one rmdir
    // costs less than rmSync's generic walk, which stays for anything unexpected.
    try {
      for (const name of fs.readdirSync(dir)) fs.unlinkSync(path.join(dir, name));
      fs.rmdirSync(dir);
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Ids of the containers under the root, sorted; temporary and hidden entries are skipped. */
  list(): string[] {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  }
}

// Wall clock at a known hrtime, so later readings get nanosecond resolution.
let baseNs: bigint | undefined;
let baseHr: bigint | undefined;

/** Now as RFC 3339 in UTC with nanoseconds, trailing zeros trimmed like Go's RFC3339Nano. */
export function nowRfc3339Nano(): string {
  if (baseNs === undefined || baseHr === undefined) {
    baseHr = process.hrtime.bigint();
    baseNs = BigInt(Date.now()) * 1_000_000n;
  }
  const ns = baseNs + (process.hrtime.bigint() - baseHr);
  return formatRfc3339Nano(ns);
}

export function formatRfc3339Nano(epochNs: bigint): string {
  const seconds = Number(epochNs / 1_000_000_000n);
  const frac = (epochNs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return utcDateTime(seconds) + (frac ? '.' + frac : '') + 'Z';
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/**
 * YYYY-MM-DDTHH:MM:SS (UTC) of a time in whole seconds since the epoch (from 1970 on). Plain
 * arithmetic, because the first Date in a process costs ~1 ms here (V8 sets up its date cache).
 */
export function utcDateTime(epochSeconds: number): string {
  const days = Math.floor(epochSeconds / 86400);
  const secs = epochSeconds - days * 86400;
  // The civil calendar in 400-year eras of 146097 days, years counted from March 1 so that
  // the leap day comes last.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${pad2(month)}-${pad2(day)}T${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}`;
}

export interface ProcStat {
  state: string;
  startTime: number;
}

/** State letter and start time (field 22) from /proc/<pid>/stat, or undefined if there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

/** Parse a /proc/<pid>/stat line. comm (field 2) may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const startTime = Number(fields[19]);
  if (!fields[0] || !Number.isFinite(startTime)) return undefined;
  return { state: fields[0], startTime };
}

export function procStartTime(pid: number): number | undefined {
  return procStat(pid)?.startTime;
}

/** Alive means: the process exists, is not a zombie, and is the one we started (same start time). */
export function isInitAlive(state: Pick<PersistedState, 'pid' | 'pidStartTime'>): boolean {
  const stat = procStat(state.pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
  return !state.pidStartTime || stat.startTime === state.pidStartTime;
}

export function deriveStatus(store: StateStore, state: PersistedState): ContainerStatus {
  if (!isInitAlive(state)) return 'stopped';
  // a frozen container is paused whether or not it was started (runc's answer)
  if (state.paused) return 'paused';
  if (fs.existsSync(path.join(store.containerDir(state.id), EXEC_FIFO))) return 'created';
  return 'running';
}

/** What `state` prints: runc's field order, pid 0 once stopped, annotations only when present. */
export interface StateOutput {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export function stateJson(store: StateStore, state: PersistedState, status = deriveStatus(store, state)): StateOutput {
  const out: StateOutput = {
    ociVersion: state.ociVersion,
    id: state.id,
    pid: status === 'stopped' ? 0 : state.pid,
    status,
    bundle: state.bundle,
    rootfs: state.rootfs,
    created: state.created,
    owner: state.owner ?? '',
  };
  if (state.annotations && Object.keys(state.annotations).length > 0) {
    // Keep runc's order: annotations before owner.
    delete (out as Partial<StateOutput>).owner;
    out.annotations = state.annotations;
    out.owner = state.owner ?? '';
  }
  return out;
}
