/**
 * The entry of dist/tsrun-quick.js: state, list, start, kill and delete, the commands clients run
 * most and that must cost little more than Node's own start. Its bundle leaves out what only
 * create, run and exec need (config validation, the launch plan, cgroup setup), so there is less
 * to read, deserialize from the code cache and initialise. Any other command line goes to the
 * full bundle.
 */
import { dispatch, fullEntry, type Handler } from './dispatch';

export { exitProcess } from '../native';

// Its own table, repeating main.ts's lines: esbuild bundles every module a table requires, so a
// shared table would put every command into every bundle.
const HANDLERS: Record<string, Handler> = {
  start: (c) => (require('./cmd-lifecycle') as typeof import('./cmd-lifecycle')).startCommand(c),
  kill: (c) => (require('./cmd-lifecycle') as typeof import('./cmd-lifecycle')).killCommand(c),
  delete: (c) => (require('./cmd-lifecycle') as typeof import('./cmd-lifecycle')).deleteCommand(c),
  state: (c) => (require('./cmd-state') as typeof import('./cmd-state')).stateCommand(c),
  list: (c) => (require('./cmd-state') as typeof import('./cmd-state')).listCommand(c),
};

export function main(argv: string[]): Promise<number> {
  return dispatch(argv, HANDLERS, fullEntry);
}
