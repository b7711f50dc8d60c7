/**
 * Hooks that run in the runtime's namespaces (prestart, createRuntime, poststart, poststop),
 * each with the container state JSON on stdin. createContainer and startContainer run inside
 * the container and are the init's job (native/init/hooks.c).
 */
import type * as ChildProcess from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Hook, State } from '../spec/types';
import { TsrunError } from '../errors';
import type { PersistedState } from './state';

/** The state JSON a hook reads on stdin, with the status the runtime-spec gives at its moment. */
export function hookState(s: PersistedState, status: State['status']): State {
  return { ociVersion: s.ociVersion, id: s.id, status, pid: s.pid, bundle: s.bundle, annotations: s.annotations };
}

function envObject(env: readonly string[] | undefined): NodeJS.ProcessEnv | undefined {
  if (!env) return undefined; // like runc: a hook without env inherits the runtime's
  const out: NodeJS.ProcessEnv = {};
  for (const kv of env) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** Runs one hook; throws a TsrunError naming the hook on failure or timeout. */
export function runHook(hook: Hook, kind: string, index: number, state: State): void {
  const [argv0, ...rest] = hook.args?.length ? hook.args : [hook.path];
  // Required here: child_process loads net and streams, ~10 ms that only hooks need.
  const { spawnSync } = require('child_process') as typeof ChildProcess;
  // stderr goes to an unlinked file, not a pipe: spawnSync waits for a pipe's EOF, so a daemon
  // the hook leaves running (holding the pipe) would hang create until the daemon exits.
  const errFile = path.join(os.tmpdir(), `tsrun-hook-${process.pid}-${Date.now()}-${index}`);
  const errFd = fs.openSync(errFile, 'wx+', 0o600);
  fs.unlinkSync(errFile);
  let r: ChildProcess.SpawnSyncReturns<Buffer>;
  let stderr = '';
  try {
    r = spawnSync(hook.path, rest, {
      argv0,
      input: JSON.stringify(state),
      env: envObject(hook.env),
      timeout: hook.timeout ? hook.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'inherit', errFd],
    });
    const size = fs.fstatSync(errFd).size;
    const tail = Buffer.alloc(Math.min(size, 4096));
    fs.readSync(errFd, tail, 0, tail.length, size - tail.length);
    stderr = tail.toString().trim();
  } finally {
    fs.closeSync(errFd);
  }
  const what = `${kind} hook #${index} (${hook.path})`;
  // EPIPE: the hook exited without reading its stdin, which it may do
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') {
    if ((r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw new TsrunError(`${what} timed out after ${hook.timeout}s`);
    throw new TsrunError(`${what}: ${r.error.message}`);
  }
  if (r.signal) throw new TsrunError(`${what} killed by signal ${r.signal}${hook.timeout ? ' (timeout?)' : ''}`);
  if (r.status !== 0) {
    throw new TsrunError(`${what} failed: exit status ${r.status}${stderr ? `, stderr: ${stderr}` : ''}`);
  }
}

/** Runs hooks in order; the first failure stops the rest and is thrown. */
export function runHooks(hooks: readonly Hook[] | undefined, kind: string, state: State): void {
  (hooks ?? []).forEach((h, i) => runHook(h, kind, i, state));
}

/** Runs every hook even if some fail (poststart, poststop); returns the failures' messages. */
export function runHooksCollectingErrors(hooks: readonly Hook[] | undefined, kind: string, state: State): string[] {
  const errors: string[] = [];
  (hooks ?? []).forEach((h, i) => {
    try {
      runHook(h, kind, i, state);
    } catch (err) {
      errors.push((err as Error).message);
    }
  });
  return errors;
}
