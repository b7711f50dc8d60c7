/**
 * Starting the native init and driving it through the protocol of native/init/wire.h. Shared
 * by `create` (a new container) and `exec` (a process joining one).
 */
import { TsrunError } from '../errors';
import { initHelperPath, native } from '../native';
import type { LaunchPlan } from '../plan/types';
import { encodePlan, MSG } from '../plan/wire';
import { trace } from '../trace';

export interface InitCallbacks {
  /** Before the plan is sent: place the helper (and so everything it forks) in the cgroup. */
  placeHelper(pid: number): void;
  /** The helper made a user namespace: write its id maps. */
  writeIdMaps?(helperPid: number): void;
  /** The container process exists; `pid` is its host pid. */
  onPid(pid: number): void;
  /** Namespaces and mounts are ready (before pivot_root): run runtime hooks, return the states for
   * the container's own hooks and, with a seccomp notify listener, the state it receives. */
  onRunHooks?(): { createContainer: object; startContainer: object; seccompListener?: object };
}

export interface LaunchedInit {
  pid: number;
  /** pty master for a foreground terminal */
  ptyMaster?: number;
}

export function killAndReap(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  try {
    native().waitpid(pid);
  } catch {
    /* not our child, or reaped */
  }
}

/**
 * Spawns the init from a sealed copy, sends the plan (with `fds`: exec fifo, console socket...)
 * and the detached trees of its id-mapped mounts (`mountTrees`, src/container/idmap.ts),
 * and answers its requests until it reports READY. On failure the helper and the process are
 * killed and the error is thrown; the caller removes everything else it made.
 */
export function launchInit(plan: LaunchPlan, fds: number[], cb: InitCallbacks, mountTrees: readonly number[] = []): LaunchedInit {
  const n = native();
  const spawned = n.spawnInit(initHelperPath(), plan.preserveFds);
  trace('spawn init (sealed copy)');
  let helper = spawned.pid;
  const sock = spawned.sock;
  let pid = 0;
  let ptyMaster: number | undefined;
  try {
    cb.placeHelper(helper);
    n.sendMsg(sock, MSG.PLAN, encodePlan(plan), fds);
    // one per id-mapped mount, in plan order; the init takes them right after the plan
    for (const tree of mountTrees) n.sendMsg(sock, MSG.MOUNT_TREE, Buffer.alloc(0), [tree]);
    trace('cgroup join, send plan');
    for (;;) {
      const msg = n.recvMsg(sock);
      if (!msg) {
        const st = helper ? n.waitpid(helper, true) : undefined;
        throw new TsrunError(`container init exited before it was ready${st?.exitCode !== undefined ? ` (status ${st.exitCode})` : ''}`);
      }
      switch (msg.type) {
        case MSG.ERROR:
          throw new TsrunError(msg.payload.toString());
        case MSG.NEED_MAPS:
          trace('init: user namespace (NEED_MAPS)');
          if (!cb.writeIdMaps) throw new TsrunError('protocol error: unexpected user namespace');
          cb.writeIdMaps(helper);
          n.sendMsg(sock, MSG.MAPS_DONE, Buffer.alloc(0));
          trace('id maps');
          break;
        case MSG.INIT_PID:
          trace('init: namespaces, clone of the process (INIT_PID)');
          pid = msg.payload.readUInt32LE(0);
          n.waitpid(helper);
          helper = 0;
          cb.onPid(pid);
          trace('reap helper, state write with pid');
          break;
        case MSG.RUN_HOOKS: {
          trace('init: mounts (RUN_HOOKS)');
          const states = cb.onRunHooks?.() ?? { createContainer: {}, startContainer: {} };
          const parts = [states.createContainer, states.startContainer];
          if (states.seccompListener) parts.push(states.seccompListener);
          n.sendMsg(sock, MSG.HOOKS_DONE, Buffer.from(parts.map((s) => JSON.stringify(s)).join('\0')));
          trace('runtime hooks');
          break;
        }
        case MSG.PTY_MASTER:
          ptyMaster = msg.fds[0];
          break;
        case MSG.READY:
          trace('init: pivot_root, process setup (READY)');
          n.close(sock);
          return { pid, ptyMaster };
        default:
          throw new TsrunError(`protocol error: unexpected message ${msg.type} from the container init`);
      }
    }
  } catch (err) {
    n.close(sock);
    if (helper) killAndReap(helper);
    if (pid) killAndReap(pid);
    if (ptyMaster !== undefined) n.close(ptyMaster);
    throw err;
  }
}
