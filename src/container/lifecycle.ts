/**
 * Lifecycle operations on an existing container: start, kill, delete (runc's semantics). create
 * and run are in run.ts, so these commands never load what creating a container needs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../errors';
import { logger } from '../log';
import { native } from '../native';
import { parseSignal } from '../spec/signals';
import type { Hook } from '../spec/types';
import { lockContainer, withLock } from './lock';
import { BrokenStateError, ContainerNotExistError, deriveStatus, EXEC_FIFO, StateStore, type PersistedState } from './state';
import type { GlobalOptions } from './options';

/**
 * Release the init blocked on exec.fifo: opening the read end lets its open() return, and the
 * byte it writes tells us it got past. Non-blocking, so a dead init cannot hang us.
 */
function releaseInit(store: StateStore, state: PersistedState): void {
  const fifo = path.join(store.containerDir(state.id), EXEC_FIFO);
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    waitForByte(fd, store, state);
    // poststart hooks come after the process is executed: the init's end of the fifo closes
    // at execve (after the startContainer hooks), which reads here as EOF
    if (state.hooks?.poststart?.length) waitForEof(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.unlinkSync(fifo);
}

function readNonBlocking(fd: number, buf: Buffer): number | 'again' {
  try {
    return fs.readSync(fd, buf, 0, buf.length, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 'again';
    throw err;
  }
}

// Each wait ends when the init writes or closes its end; between waits we look at whether
// it is still alive, so a dead init cannot hang us.
const POLL_MS = 20;

function waitForByte(fd: number, store: StateStore, state: PersistedState): void {
  const buf = Buffer.alloc(1);
  const deadline = Date.now() + 10_000;
  for (;;) {
    // 0 (no writer) is no answer either: run's start may come before the init opens its end
    if (readNonBlocking(fd, buf) === 1) return;
    if (deriveStatus(store, state) === 'stopped') {
      // it may have written the byte and exited (a short process) since the read above
      if (readNonBlocking(fd, buf) === 1) return;
      throw new TsrunError(`container "${state.id}" init exited before start`);
    }
    if (Date.now() > deadline) throw new TsrunError(`container "${state.id}" did not respond to start`);
    native().pollReadable(fd, POLL_MS);
  }
}

function waitForEof(fd: number): void {
  const buf = Buffer.alloc(64);
  while (readNonBlocking(fd, buf) !== 0) native().pollReadable(fd, POLL_MS);
}

// Required when needed: start and a plain kill touch neither cgroups nor hooks, and loading
// their modules was a tenth of what `start` costs beyond Node's own start.
function cgroupManagerFromPaths(paths: Record<string, string>): import('../cgroups/manager').CgroupManager {
  return (require('../cgroups/manager') as typeof import('../cgroups/manager')).cgroupManagerFromPaths(paths);
}

/** Runs the hooks, if any; what failed, as lines to warn with. */
function runHooks(hooks: Hook[] | undefined, name: 'poststart' | 'poststop', state: PersistedState, status: 'running' | 'stopped'): string[] {
  if (!hooks?.length) return [];
  const h = require('./hooks') as typeof import('./hooks');
  return h.runHooksCollectingErrors(hooks, name, h.hookState(state, status));
}

export function startLocked(store: StateStore, id: string): PersistedState {
  const state = store.read(id);
  const status = deriveStatus(store, state);
  if (status === 'stopped') throw new TsrunError('cannot start a container that has stopped');
  if (status !== 'created') throw new TsrunError(`cannot start an already ${status} container`);
  releaseInit(store, state);
  return state;
}

export function runPoststart(state: PersistedState): void {
  for (const msg of runHooks(state.hooks?.poststart, 'poststart', state, 'running'))
    logger.warn(msg);
}

export function start(g: GlobalOptions, id: string): void {
  const store = new StateStore(g.root);
  const state = withLock(g.root, id, () => startLocked(store, id));
  runPoststart(state);
}

export function kill(g: GlobalOptions, id: string, signal: string, all: boolean): void {
  const sig = parseSignal(signal);
  const store = new StateStore(g.root);
  withLock(g.root, id, () => {
    const state = store.read(id);
    if (all) {
      const pids = state.cgroupPaths ? cgroupManagerFromPaths(state.cgroupPaths).pids() : [];
      for (const pid of pids) {
        try {
          process.kill(pid, sig);
        } catch {
          /* exited meanwhile */
        }
      }
      if (pids.length) return;
    }
    if (deriveStatus(store, state) === 'stopped') throw new TsrunError('container not running');
    try {
      process.kill(state.pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw new TsrunError('container not running: no such process');
      throw err;
    }
  });
}

function destroy(store: StateStore, state: PersistedState): void {
  if (state.pid > 0 && deriveStatus(store, state) !== 'stopped') {
    try {
      process.kill(state.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (state.cgroupPaths) cgroupManagerFromPaths(state.cgroupPaths).destroy();
  for (const msg of runHooks(state.hooks?.poststop, 'poststop', state, 'stopped')) logger.warn(msg);
  store.remove(state.id);
}

export function deleteContainer(g: GlobalOptions, id: string, force: boolean): void {
  const store = new StateStore(g.root);
  let release;
  try {
    release = lockContainer(g.root, id);
  } catch (err) {
    if (force && err instanceof ContainerNotExistError) return;
    throw err;
  }
  try {
    let state: PersistedState;
    try {
      state = store.read(id);
    } catch (err) {
      // a create that died before writing any state: nothing runs, only the directory is left
      if (err instanceof BrokenStateError) {
        store.remove(id);
        return;
      }
      throw err;
    }
    const status = deriveStatus(store, state);
    if ((status === 'running' || status === 'paused') && !force)
      throw new TsrunError(`cannot delete container ${id} that is not stopped: ${status}`);
    destroy(store, state);
  } finally {
    release();
  }
}
