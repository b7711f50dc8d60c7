/**
 * The entry of dist/tsrun-exec.js: exec alone, which needs neither the config validator nor the
 * container-making code. Any other command line goes to the full bundle.
 */
import { dispatch, fullEntry, type Handler } from './dispatch';

export { exitProcess } from '../native';

// Its own table, repeating main.ts's lines: esbuild bundles every module a table requires, so a
// shared table would put every command into every bundle.
const HANDLERS: Record<string, Handler> = {
  exec: (c) => (require('./cmd-exec') as typeof import('./cmd-exec')).execCommand(c),
};

export function main(argv: string[]): Promise<number> {
  return dispatch(argv, HANDLERS, fullEntry);
}
