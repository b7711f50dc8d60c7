/**
 * `events`: JSON lines about a container, as runc prints them: `stats` every interval (or
 * once, with --stats) and `oom` whenever the OOM killer strikes in its cgroup. The OOM
 * counters are polled (a few small reads several times a second) instead of registering a
 * v1 eventfd, which Node cannot make; the stream ends once the container has stopped.
 */
import { TsrunError } from '../errors';
import { logger, writeAll } from '../log';
import type { OomStatus } from '../cgroups/manager';
import { toJsonLine } from '../cgroups/stats';
import { containerCgroup } from './pause';
import { ContainerNotExistError, deriveStatus, StateStore } from './state';
import type { GlobalOptions } from './options';

const OOM_POLL_MS = 200;

export interface EventsOptions {
  stats: boolean;
  intervalMs: number;
}

/** Whether the counters moved from before to now: a new kill, or (v1, OOM killer off) a new stall. */
export function oomHappened(before: OomStatus | undefined, now: OomStatus | undefined): boolean {
  if (!before || !now) return false;
  return now.kills > before.kills || (now.underOom && !before.underOom);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function events(g: GlobalOptions, id: string, o: EventsOptions): Promise<void> {
  if (!(o.intervalMs > 0)) throw new TsrunError('duration interval must be greater than 0');
  const store = new StateStore(g.root);
  const state = store.read(id);
  if (deriveStatus(store, state) === 'stopped') throw new TsrunError(`container with id ${id} is not running`);
  const cgroup = containerCgroup(state);
  const emit = (type: string, data?: unknown): void => writeAll(1, toJsonLine(data === undefined ? { type, id } : { type, id, data }));
  if (o.stats) {
    emit('stats', cgroup.stats());
    return;
  }
  const stopped = (): boolean => {
    try {
      return deriveStatus(store, store.read(id)) === 'stopped';
    } catch (err) {
      if (err instanceof ContainerNotExistError) return true;
      throw err;
    }
  };
  let oom = cgroup.oomStatus();
  let nextStats = Date.now() + o.intervalMs;
  for (;;) {
    await sleep(Math.min(OOM_POLL_MS, Math.max(1, nextStats - Date.now())));
    // OOM first: a kill that stopped the container must still be reported.
    const now = cgroup.oomStatus();
    if (oomHappened(oom, now)) emit('oom');
    oom = now ?? oom;
    if (stopped()) return;
    if (Date.now() >= nextStats) {
      nextStats += o.intervalMs;
      try {
        emit('stats', cgroup.stats());
      } catch (err) {
        // As runc: a failed reading is logged and the stream goes on.
        logger.error((err as Error).message);
      }
    }
  }
}
