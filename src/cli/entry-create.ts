/**
 * The entry of dist/tsrun-create.js: create and run. Its bundle leaves out what only the other
 * commands need (statistics, update, events, ps, exec, spec...), so there is less to read,
 * deserialize from the code cache and initialise. Any other command line goes to the full
 * bundle.
 */
import { dispatch, fullEntry, type Handler } from './dispatch';

export { exitProcess } from '../native';

// Its own table, repeating main.ts's lines: esbuild bundles every module a table requires, so a
// shared table would put every command into every bundle.
const HANDLERS: Record<string, Handler> = {
  create: (c) => (require('./cmd-create') as typeof import('./cmd-create')).createCommand(c),
  run: (c) => (require('./cmd-create') as typeof import('./cmd-create')).runCommand(c),
};

export function main(argv: string[]): Promise<number> {
  return dispatch(argv, HANDLERS, fullEntry);
}
