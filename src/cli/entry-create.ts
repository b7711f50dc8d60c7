/**
 * The entry of dist/tsrun-create.js: create, run and exec, the commands that start processes in
 * a container. Its bundle leaves out what only the other commands need (statistics, update,
 * events, ps, spec, help texts...), so there is less to read, deserialize from the code cache
 * and initialise. Any other command line goes to the full bundle.
 */
import { dispatch, fullEntry, type Handler } from './dispatch';

export { exitProcess } from '../native';

const HANDLERS: Record<string, Handler> = {
  create: (c) => (require('./cmd-create') as typeof import('./cmd-create')).createCommand(c),
  run: (c) => (require('./cmd-create') as typeof import('./cmd-create')).runCommand(c),
  exec: (c) => (require('./cmd-exec') as typeof import('./cmd-exec')).execCommand(c),
};

export function main(argv: string[]): Promise<number> {
  return dispatch(argv, HANDLERS, fullEntry);
}
