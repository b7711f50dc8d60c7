/**
 * tsrun's entry point (bundled into dist/tsrun.js). Parses argv, loads only the handler module
 * the command needs, and turns any error into one line on stderr, an `error` line in the --log
 * file, and exit status 1.
 */
import { TsrunError } from '../errors';
import type { GlobalOptions } from '../container/options';
import { configureLogger, logger, reportFatal, writeAll } from '../log';
import { COMMIT, SPEC_VERSION, VERSION } from '../version';
import type { FlagValue } from './commands';
import { CliUsageError, parseArgs } from './parse';

export { parseArgs, CliUsageError } from './parse';
export type { ParsedArgs } from './parse';

export interface CommandContext {
  globals: GlobalOptions;
  flags: Record<string, FlagValue>;
  args: string[];
  given: Set<string>;
}

type Handler = (ctx: CommandContext) => number | void | Promise<number | void>;

let exitWhenDone = false;

// Each entry requires its module on call: `state` must not load what `create` needs.
const HANDLERS: Record<string, Handler> = {
  create: (c) => (require('./cmd-lifecycle') as typeof import('./cmd-lifecycle')).createCommand(c),
  start: (c) => (require('./cmd-lifecycle') as typeof import('./cmd-lifecycle')).startCommand(c),
  run: (c) => {
    // The container's status is ours, and the lifecycle may leave handles open: exit on return.
    exitWhenDone = true;
    return (require('./cmd-lifecycle') as typeof import('./cmd-lifecycle')).runCommand(c);
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

export function versionText(): string {
  return `tsrun version ${VERSION}\ncommit: ${COMMIT}\nspec: ${SPEC_VERSION}\nnode: ${process.version}\n`;
}

/** Best-effort --log/--log-format from a command line that failed to parse, so the error still reaches the log. */
function logConfigFromRawArgv(argv: string[]): void {
  let file: string | undefined;
  let format: 'text' | 'json' = 'text';
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?(log|log-format)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    const value = m[2] ?? argv[i + 1];
    if (m[1] === 'log') file = value;
    else if (value === 'json') format = 'json';
  }
  configureLogger({ file, format });
}

/** Run tsrun with argv (without node and script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let command: string | undefined;
  try {
    const parsed = parseArgs(argv);
    command = parsed.command;
    const g = parsed.globals;
    configureLogger({ file: g.log, format: g.logFormat, debug: g.debug });
    logger.debug(() => `tsrun ${JSON.stringify(argv)}`);
    if (parsed.version) {
      writeAll(1, versionText());
      return 0;
    }
    if (parsed.help || !command) {
      const help = require('./help') as typeof import('./help');
      const commands = require('./commands') as typeof import('./commands');
      const def = command ? commands.findCommand(command) : undefined;
      writeAll(1, def ? help.commandHelp(def) : help.globalHelp());
      return 0;
    }
    const handler = HANDLERS[command];
    const status = await handler({ globals: g, flags: parsed.flags, args: parsed.args, given: parsed.given });
    return typeof status === 'number' ? status : 0;
  } catch (err) {
    if (err instanceof CliUsageError) {
      logConfigFromRawArgv(argv);
      const hint = err.command ? `Run 'tsrun ${err.command} --help' for usage.` : `Run 'tsrun --help' for usage.`;
      reportFatal(err.message, `tsrun: ${err.message}\n${hint}\n`);
      return err.exitCode;
    }
    const full = err instanceof Error ? err.message : String(err);
    logger.debug(() => (err instanceof Error && err.stack ? err.stack : full));
    // One line: foreign errors (e.g. Node's module errors) append details on further lines.
    const message = err instanceof TsrunError ? full.replace(/\n/g, ' ') : full.split('\n')[0];
    reportFatal(message);
    return err instanceof TsrunError ? err.exitCode : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((status) => {
    // Output is written synchronously, so exiting at once loses nothing.
    if (exitWhenDone) process.exit(status);
    process.exitCode = status;
  });
}
