/** create and run: the operations that make a container (runc's semantics). */
import { native } from '../native';
import { createContainer } from './create';
import { waitInForeground } from './foreground';
import { deleteContainer, runPoststart, startLocked } from './lifecycle';
import { withLock } from './lock';
import { StateStore } from './state';
import type { CreateOptions, GlobalOptions, RunOptions } from './options';

export function create(g: GlobalOptions, o: CreateOptions): void {
  createContainer(g, o);
}

/** Foreground: start, forward signals, wait, and exit with the container's status. */
export async function run(g: GlobalOptions, o: RunOptions): Promise<number> {
  if (!o.detach && !o.noSubreaper) native().setChildSubreaper();
  const created = createContainer(g, o, { foregroundTerminal: !o.detach });
  const store = new StateStore(g.root);
  try {
    withLock(g.root, o.id, () => startLocked(store, o.id));
  } catch (err) {
    deleteContainer(g, o.id, true);
    throw err;
  }
  runPoststart(created.state);
  if (o.detach) return 0;

  const status = await waitInForeground(created.pid, created.ptyMaster);
  if (!o.keep) deleteContainer(g, o.id, true);
  return status;
}
