/**
 * `exec`: run another process in a container. It joins every namespace of the container's
 * init that differs from tsrun's own, enters the container's cgroup, and gets its own
 * process settings (from --process, or the container's process with the flags applied).
 */
import * as fs from 'fs';
import { TsrunError } from '../errors';
import { native } from '../native';
import { buildExecPlan } from '../plan/build';
import { NAMESPACE_FLAGS } from '../plan/namespaces';
import type { NamespaceJoin } from '../plan/types';
import type { LinuxSeccomp, NamespaceType, Process, State } from '../spec/types';
import { parseJson, validateProcess } from '../spec/validate';
import { cgroupManagerFromPaths } from '../cgroups/manager';
import { launchInit } from './init-process';
import { checkLsm } from './lsm';
import { addSeccompToPlan, compileSeccomp, connectSeccompListener, listenerState, seccompCacheDir } from './seccomp';
import { deriveStatus, StateStore, type PersistedState } from './state';
import { waitInForeground } from './foreground';
import type { GlobalOptions } from './options';

export interface ExecOptions {
  id: string;
  args: string[];
  processFile?: string;
  cwd?: string;
  env: string[];
  tty: boolean;
  user?: string;
  additionalGids: string[];
  caps: string[];
  noNewPrivs: boolean;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  ignorePaused: boolean;
  apparmor?: string;
  processLabel?: string;
  cgroup: string[];
}

// /proc/<pid>/ns names; the user namespace is joined first by the init.
const NS_FILES: [string, NamespaceType][] = [
  ['user', 'user'],
  ['ipc', 'ipc'],
  ['uts', 'uts'],
  ['net', 'network'],
  ['pid', 'pid'],
  ['cgroup', 'cgroup'],
  ['time', 'time'],
  ['mnt', 'mount'],
];

/** The namespaces of `pid` that are not also ours: those are the container's. */
function containerNamespaces(pid: number): NamespaceJoin[] {
  const joins: NamespaceJoin[] = [];
  for (const [file, type] of NS_FILES) {
    const theirs = `/proc/${pid}/ns/${file}`;
    let target: string;
    try {
      target = fs.readlinkSync(theirs);
    } catch {
      continue; // a kernel without this namespace type
    }
    if (target !== fs.readlinkSync(`/proc/self/ns/${file}`)) joins.push({ flag: NAMESPACE_FLAGS[type], path: theirs });
  }
  return joins;
}

function parseId(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new TsrunError(`${what}: "${text}" is not a numeric id`);
  return Number(text);
}

/** runc's rules: start from the container's process, then apply the flags. */
export function execProcess(base: Process | undefined, o: ExecOptions): Process {
  if (o.processFile) {
    const text = o.processFile === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(o.processFile, 'utf8');
    return validateProcess(parseJson(text, o.processFile), o.processFile);
  }
  if (!o.args.length) throw new TsrunError('exec: a command to run is required (or --process)');
  const p: Process = JSON.parse(JSON.stringify(base ?? { user: { uid: 0, gid: 0 }, cwd: '/' }));
  p.args = o.args;
  p.terminal = o.tty;
  if (o.cwd) p.cwd = o.cwd;
  if (o.env.length) p.env = [...(p.env ?? []), ...o.env];
  if (o.user) {
    const [uid, gid] = o.user.split(':');
    p.user = { ...p.user, uid: parseId(uid, '--user'), gid: gid === undefined ? p.user.gid : parseId(gid, '--user') };
  }
  if (o.additionalGids.length) p.user.additionalGids = o.additionalGids.map((g) => parseId(g, '--additional-gids'));
  if (o.noNewPrivs) p.noNewPrivileges = true;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  if (o.caps.length) {
    const c = (p.capabilities ??= {});
    for (const cap of o.caps) {
      c.bounding = [...(c.bounding ?? []), cap];
      c.effective = [...(c.effective ?? []), cap];
      c.permitted = [...(c.permitted ?? []), cap];
      // ambient needs inheritable; only where the container already has some (runc's rule)
      if (c.inheritable?.length) c.ambient = [...(c.ambient ?? []), cap];
    }
  }
  return p;
}

function checkUnsupported(o: ExecOptions, p: Process): void {
  if (o.cgroup.length) throw new TsrunError('exec --cgroup: sub-cgroups are not supported yet');
  checkLsm(p);
}

function startProcess(state: PersistedState, o: ExecOptions, root: string): { pid: number; ptyMaster?: number } {
  const proc = execProcess((state.config as { process?: Process } | undefined)?.process, o);
  // a foreground tty starts at our terminal's size (the relay only follows later changes)
  if (proc.terminal && !o.consoleSocket && !proc.consoleSize && process.stdout.isTTY)
    proc.consoleSize = { height: process.stdout.rows, width: process.stdout.columns };
  checkUnsupported(o, proc);
  if (proc.terminal && o.detach && !o.consoleSocket) throw new TsrunError('exec --tty --detach needs --console-socket');
  if (!proc.terminal && o.consoleSocket) throw new TsrunError('--console-socket given but the process has no terminal');
  const listenFds = Number(process.env.LISTEN_FDS ?? 0) || 0;
  const plan = buildExecPlan(proc, {
    joins: containerNamespaces(state.pid),
    preserveFds: o.preserveFds + listenFds,
    extraEnv: listenFds > 0 ? [`LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'] : [],
  });
  const seccomp = compileSeccomp((state.config as { linux?: { seccomp?: LinuxSeccomp } } | undefined)?.linux?.seccomp, seccompCacheDir(root));
  addSeccompToPlan(plan, seccomp);
  const n = native();
  const consoleFd = o.consoleSocket ? n.connectUnix(o.consoleSocket) : -1;
  let listenerFd = -1;
  let execPid = 0;
  try {
    listenerFd = connectSeccompListener(seccomp);
    const containerState: State = { ociVersion: state.ociVersion, id: state.id, status: 'running', pid: state.pid, bundle: state.bundle, annotations: state.annotations };
    return launchInit(plan, [consoleFd, listenerFd].filter((fd) => fd >= 0), {
      placeHelper: (pid) => {
        if (state.cgroupPaths) cgroupManagerFromPaths(state.cgroupPaths).addProcess(pid);
      },
      onPid: (pid) => {
        execPid = pid;
      },
      onRunHooks: () => ({ createContainer: {}, startContainer: {}, seccompListener: listenerState(seccomp, containerState, execPid) }),
    });
  } finally {
    if (consoleFd >= 0) n.close(consoleFd);
    if (listenerFd >= 0) n.close(listenerFd);
  }
}

/** Returns the exit status for tsrun: the process's, 128+n if killed by signal n, 0 detached. */
export async function execInContainer(g: GlobalOptions, o: ExecOptions): Promise<number> {
  const store = new StateStore(g.root);
  const state = store.read(o.id);
  const status = deriveStatus(store, state);
  if (status === 'stopped') throw new TsrunError('cannot exec in a stopped container');
  if (status === 'paused' && !o.ignorePaused) throw new TsrunError('cannot exec in a paused container (use --ignore-paused)');
  const started = startProcess(state, o, g.root);
  if (o.pidFile) {
    const tmp = `${o.pidFile}.tsrun-tmp`;
    fs.writeFileSync(tmp, String(started.pid));
    fs.renameSync(tmp, o.pidFile);
  }
  if (o.detach) return 0;

  return waitInForeground(started.pid, started.ptyMaster);
}
