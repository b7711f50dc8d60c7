/**
 * Per-container lock: an exclusive flock on `<root>/<id>/lock`, so commands on one container
 * (create, start, kill, delete, ...) run one after the other. The lock dies with its process,
 * so a crashed command never leaves a container locked. `state` and `list` do not lock: writes
 * are atomic renames, so they can read at any time.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../errors';
import { LOCK_EX, LOCK_UN, native } from '../native';
import { ContainerNotExistError, LOCK_FILE, StateStore } from './state';

export type Release = () => void;

// libuv opens every file O_CLOEXEC, so a lock fd never leaks into a container's init.

function flockFd(fd: number): Release {
  try {
    native().flock(fd, LOCK_EX);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      native().flock(fd, LOCK_UN);
    } finally {
      fs.closeSync(fd);
    }
  };
}

/**
 * Wait for and take the lock of an existing container. Throws ContainerNotExistError when the
 * container is missing, including when it was deleted while we waited.
 */
export function lockContainer(root: string, id: string): Release {
  const store = new StateStore(root);
  const file = path.join(store.containerDir(id), LOCK_FILE);
  let fd: number;
  try {
    // O_CREAT: a directory made by an older or interrupted create may lack the file.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_CREAT, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ContainerNotExistError(id);
    throw new TsrunError(`lock container "${id}": ${(err as Error).message}`, { cause: err });
  }
  const release = flockFd(fd);
  // A delete that ran while we waited unlinked the file we hold.
  if (fs.fstatSync(fd).nlink === 0) {
    release();
    throw new ContainerNotExistError(id);
  }
  return release;
}

/** Run fn while holding the container's lock. */
export function withLock<T>(root: string, id: string, fn: () => T): T {
  const release = lockContainer(root, id);
  try {
    return fn();
  } finally {
    release();
  }
}

/**
 * Create a container's directory already locked, so no other command can see it before the
 * creator lets go. Returns the directory and the release function.
 */
export function createLocked(store: StateStore, id: string): { dir: string; release: Release } {
  let release: Release | undefined;
  try {
    const dir = store.create(id, (tmpDir) => {
      const fd = fs.openSync(path.join(tmpDir, LOCK_FILE), fs.constants.O_RDONLY);
      release = flockFd(fd);
    });
    return { dir, release: release! };
  } catch (err) {
    release?.();
    throw err;
  }
}
