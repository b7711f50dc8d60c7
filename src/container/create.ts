/**
 * `create`: validate the config, build the launch plan, start the native init and drive it
 * through its phases (id maps, hooks, ready), then persist the state. On any failure every
 * piece made so far (process, cgroup, state directory) is removed before the error is thrown.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../errors';
import { logger } from '../log';
import { native } from '../native';
import { buildPlan } from '../plan/build';
import { deviceCgroupRules } from '../plan/devices';
import type { CgroupMountSource } from '../plan/mounts';
import type { Spec } from '../spec/types';
import { loadConfig } from '../spec/validate';
import { trace } from '../trace';
import { SPEC_VERSION } from '../version';
import { cgroupManager, type CgroupManager } from '../cgroups/manager';
import { detectCgroupMode, ownHierarchies } from '../cgroups/mode';
import { hookState, runHooks } from './hooks';
import { addSeccompToPlan, compileSeccomp, connectSeccompListener, listenerState, seccompCacheDir } from './seccomp';
import { openIdmappedTrees } from './idmap';
import { killAndReap, launchInit } from './init-process';
import { checkLsm } from './lsm';
import { createLocked } from './lock';
import { EXEC_FIFO, nowRfc3339Nano, procStartTime, StateStore, type PersistedState } from './state';
import type { CreateOptions, GlobalOptions } from './options';

export interface CreatedContainer {
  pid: number;
  state: PersistedState;
  /** pty master fd when the process has a terminal and no console socket was given */
  ptyMaster?: number;
}

const O_PATH = 0o10000000;

function writeIdMaps(pid: number, spec: Spec): void {
  const linux = spec.linux ?? {};
  const fmt = (m: { containerID: number; hostID: number; size: number }[] | undefined) =>
    (m ?? []).map((e) => `${e.containerID} ${e.hostID} ${e.size}\n`).join('');
  // Without a mapping for a privileged host gid, setgroups must be denied before gid_map is written.
  if (process.getuid?.() !== 0) fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny');
  const uid = fmt(linux.uidMappings);
  const gid = fmt(linux.gidMappings);
  try {
    if (uid) fs.writeFileSync(`/proc/${pid}/uid_map`, uid);
    if (gid) fs.writeFileSync(`/proc/${pid}/gid_map`, gid);
  } catch (err) {
    throw new TsrunError(`write id mappings of the user namespace: ${(err as Error).message}`, { cause: err });
  }
}

/** What the container's `cgroup` mounts show, from the manager's directories. */
function cgroupMountSource(cg: CgroupManager): CgroupMountSource {
  const paths = cg.paths();
  if (detectCgroupMode() === 'unified') return { v2: true, hierarchies: [{ name: '', options: '', hostPath: paths[''] }] };
  const hierarchies = ownHierarchies()
    .filter((h) => h.controllers.length > 0 && paths[h.controllers[0]])
    .map((h) => ({ name: path.basename(h.mountpoint), options: h.controllers.join(','), hostPath: paths[h.controllers[0]] }));
  return { v2: false, hierarchies };
}

function writePidFile(file: string, pid: number): void {
  // containerd parses it with Atoi: decimal, no newline. Written via rename so readers never see it empty.
  const tmp = `${file}.tsrun-tmp`;
  fs.writeFileSync(tmp, String(pid));
  fs.renameSync(tmp, file);
}

export function createContainer(g: GlobalOptions, o: CreateOptions, opts: { foregroundTerminal?: boolean } = {}): CreatedContainer {
  trace('until create: Node boot, loading tsrun, argv');
  const spec = loadConfig(o.bundle);
  trace('config load+validate');
  const store = new StateStore(g.root);
  const { dir, release } = createLocked(store, o.id);
  const n = native();
  trace('state directory, lock, addon');
  let cg: CgroupManager | undefined;
  let initPid = 0;
  let consoleFd = -1;
  let fifoFd = -1;
  let listenerFd = -1;
  let mountTrees: number[] = [];
  let ptyMaster: number | undefined;
  try {
    const fifo = path.join(dir, EXEC_FIFO);
    n.mkfifo(fifo, 0o622);
    // mkfifo obeys the umask; a non-root container user must still be able to open it for writing
    fs.chmodSync(fifo, 0o622);

    cg = cgroupManager(spec.linux?.cgroupsPath, o.id, { systemd: g.systemdCgroup });
    cg.create();
    const resources = spec.linux?.resources;
    // the device policy applies even without linux.resources: runc's defaults, never all devices
    cg.apply({ ...resources, devices: deviceCgroupRules(resources?.devices, spec.linux?.devices) });
    trace('exec.fifo, cgroup setup');

    if (spec.process) checkLsm(spec.process);
    const listenFds = Number(process.env.LISTEN_FDS ?? 0) || 0;
    const extraEnv = listenFds > 0 ? [`LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'] : [];
    const needsCgroupMount = (spec.mounts ?? []).some((m) => m.type === 'cgroup');
    const plan = buildPlan(spec, {
      bundle: o.bundle,
      id: o.id,
      execFifo: fifo,
      noPivot: o.noPivot,
      noNewKeyring: o.noNewKeyring,
      preserveFds: o.preserveFds + listenFds,
      extraEnv,
      cgroups: needsCgroupMount ? cgroupMountSource(cg) : undefined,
    });
    if (plan.terminal && opts.foregroundTerminal && !plan.consoleSize && process.stdout.isTTY)
      plan.consoleSize = { rows: process.stdout.rows, cols: process.stdout.columns };
    if (plan.terminal && !o.consoleSocket && !opts.foregroundTerminal)
      throw new TsrunError('process.terminal is true: --console-socket is required (or use `run` in the foreground)');
    if (!plan.terminal && o.consoleSocket) throw new TsrunError('--console-socket given but process.terminal is false');
    const seccomp = compileSeccomp(spec.linux?.seccomp, seccompCacheDir(g.root));
    addSeccompToPlan(plan, seccomp);
    trace('plan');

    const state: PersistedState = {
      ociVersion: spec.ociVersion ?? SPEC_VERSION,
      id: o.id,
      pid: 0,
      pidStartTime: 0,
      bundle: o.bundle,
      rootfs: plan.rootfs ?? '',
      created: nowRfc3339Nano(),
      owner: '',
      annotations: spec.annotations ?? {},
      cgroupPaths: cg.paths(),
      hooks: { poststart: spec.hooks?.poststart, poststop: spec.hooks?.poststop },
      // `exec` without --process starts from the container's own process, as runc does, and
      // every exec'd process gets the container's seccomp profile
      config: { process: spec.process, ...(spec.linux?.seccomp && { linux: { seccomp: spec.linux.seccomp } }) },
    };
    // Written now so a tsrun killed mid-create leaves what `delete --force` needs to clean up.
    store.write(o.id, state);
    trace('state write');

    if (o.consoleSocket) consoleFd = n.connectUnix(o.consoleSocket);
    // O_PATH: the init reopens it for writing through /proc/self/fd, with no path lookup
    fifoFd = fs.openSync(fifo, O_PATH); // libuv adds O_CLOEXEC
    listenerFd = connectSeccompListener(seccomp);
    const fds = [fifoFd, consoleFd, listenerFd].filter((fd) => fd >= 0);
    mountTrees = openIdmappedTrees(plan);
    const launched = launchInit(plan, fds, {
      placeHelper: (pid) => cg!.addProcess(pid),
      writeIdMaps: (pid) => writeIdMaps(pid, spec),
      onPid: (pid) => {
        initPid = pid;
        state.pid = pid;
        state.pidStartTime = procStartTime(pid) ?? 0;
        store.write(o.id, state);
      },
      onRunHooks: () => {
        const created = hookState(state, 'created');
        runHooks(spec.hooks?.prestart, 'prestart', created);
        runHooks(spec.hooks?.createRuntime, 'createRuntime', created);
        return { createContainer: created, startContainer: created, seccompListener: listenerState(seccomp, created) };
      },
    }, mountTrees);
    ptyMaster = launched.ptyMaster;
    fs.closeSync(fifoFd);
    fifoFd = -1;
    if (consoleFd >= 0) n.close(consoleFd);
    consoleFd = -1;
    if (listenerFd >= 0) n.close(listenerFd);
    listenerFd = -1;
    if (o.pidFile) writePidFile(path.resolve(o.pidFile), initPid);
    logger.debug(`created container ${o.id} with init pid ${initPid}`);
    return { pid: initPid, state, ptyMaster };
  } catch (err) {
    if (consoleFd >= 0) n.close(consoleFd);
    if (listenerFd >= 0) n.close(listenerFd);
    if (fifoFd >= 0) fs.closeSync(fifoFd);
    if (initPid) killAndReap(initPid);
    try {
      cg?.destroy();
    } catch (e) {
      logger.warn(`cleanup of the cgroup of ${o.id}: ${(e as Error).message}`);
    }
    store.remove(o.id);
    throw err;
  } finally {
    for (const fd of mountTrees) n.close(fd);
    release();
  }
}
