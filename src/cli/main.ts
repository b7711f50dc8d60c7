/**
 * tsrun's entry point for every command (bundled into dist/tsrun.js; bin/tsrun runs some
 * commands from smaller bundles instead: entry-quick.ts, entry-create.ts). Loads only the
 * handler module the command needs.
 */
import { dispatch, type Handler } from './dispatch';

export { parseArgs, CliUsageError } from './parse';
export type { ParsedArgs } from './parse';
export { versionText, type CommandContext } from './dispatch';
export { exitProcess } from '../native';

let exitWhenDone = false;

// Each entry requires its module on call: `state` must not load what `create` needs.
const HANDLERS: Record<string, Handler> = {
  create: (c) => (require('./cmd-create') as typeof import('./cmd-create')).createCommand(c),
  start: (c) => (require('./cmd-lifecycle') as typeof import('./cmd-lifecycle')).startCommand(c),
  run: (c) => {
    // The container's status is ours, and the lifecycle may leave handles open: exit on return.
    exitWhenDone = true;
    return (require('./cmd-create') as typeof import('./cmd-create')).runCommand(c);
  },
  exec: (c) => {
    exitWhenDone = true;
    return (require('./cmd-exec') as typeof import('./cmd-exec')).execCommand(c);
  },
  kill: (c) => (require('./cmd-lifecycle') as typeof import('./cmd-lifecycle')).killCommand(c),
  delete: (c) => (require('./cmd-lifecycle') as typeof import('./cmd-lifecycle')).deleteCommand(c),
  checkpoint: (c) => (require('./cmd-criu') as typeof import('./cmd-criu')).criuCommand(c, 'checkpoint'),
  restore: (c) => (require('./cmd-criu') as typeof import('./cmd-criu')).criuCommand(c, 'restore'),
  state: (c) => (require('./cmd-state') as typeof import('./cmd-state')).stateCommand(c),
  list: (c) => (require('./cmd-state') as typeof import('./cmd-state')).listCommand(c),
  ps: (c) => (require('./cmd-cgroups') as typeof import('./cmd-cgroups')).psCommand(c),
  pause: (c) => (require('./cmd-cgroups') as typeof import('./cmd-cgroups')).pauseCommand(c),
  resume: (c) => (require('./cmd-cgroups') as typeof import('./cmd-cgroups')).resumeCommand(c),
  events: (c) => (require('./cmd-cgroups') as typeof import('./cmd-cgroups')).eventsCommand(c),
  update: (c) => (require('./cmd-cgroups') as typeof import('./cmd-cgroups')).updateCommand(c),
  spec: (c) => (require('./cmd-spec') as typeof import('./cmd-spec')).specCommand(c),
  features: (c) => (require('./cmd-spec') as typeof import('./cmd-spec')).featuresCommand(c),
};

/** Run tsrun with argv (without node and script); resolves to the exit status. */
export function main(argv: string[]): Promise<number> {
  return dispatch(argv, HANDLERS);
}

if (require.main === module) {
  main(process.argv.slice(2)).then((status) => {
    // Output is written synchronously, so exiting at once loses nothing.
    if (exitWhenDone) process.exit(status);
    process.exitCode = status;
  });
}
