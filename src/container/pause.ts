/** `pause` and `resume`: freeze and thaw every process of a container through its cgroup. */
import { TsrunError } from '../errors';
import { cgroupManagerFromPaths, type CgroupManager } from '../cgroups/manager';
import { withLock } from './lock';
import { deriveStatus, StateStore, type PersistedState } from './state';
import type { GlobalOptions } from './options';

/** The manager of the cgroup a container's creator made and recorded. */
export function containerCgroup(state: PersistedState): CgroupManager {
  if (!state.cgroupPaths) throw new TsrunError(`container "${state.id}" has no cgroup recorded in its state`);
  return cgroupManagerFromPaths(state.cgroupPaths);
}

/**
 * Freeze a running container (a created one too, as runc allows), then record it as paused.
 * Under the lock, so a concurrent start, kill or delete sees either state, never half of one.
 */
export function pause(g: GlobalOptions, id: string): void {
  const store = new StateStore(g.root);
  withLock(g.root, id, () => {
    const state = store.read(id);
    const status = deriveStatus(store, state);
    if (!(status === 'running' || (status === 'created' && !state.paused))) throw new TsrunError('container not running');
    containerCgroup(state).freeze();
    store.write(id, { ...state, paused: true });
  });
}

export function resume(g: GlobalOptions, id: string): void {
  const store = new StateStore(g.root);
  withLock(g.root, id, () => {
    const state = store.read(id);
    // A paused container that was never started still reports "created": its flag decides.
    if (!state.paused || deriveStatus(store, state) === 'stopped') throw new TsrunError('container not paused');
    containerCgroup(state).thaw();
    store.write(id, { ...state, paused: false });
  });
}
