/**
 * What every tsrun entry shares: parse argv, hand the command to its handler, and turn any error
 * into one line on stderr, an `error` line in the --log file, and exit status 1. The entries
 * (main.ts: every command; entry-quick.ts, entry-create.ts: some) differ only in their handler
 * tables.
 */
import { TsrunError } from '../errors';
import type { GlobalOptions } from '../container/options';
import { configureLogger, logger, reportFatal, writeAll } from '../log';
import { COMMIT, SPEC_VERSION, VERSION } from '../version';
import type { FlagValue } from './commands';
import { CliUsageError, parseArgs } from './parse';

export interface CommandContext {
  globals: GlobalOptions;
  flags: Record<string, FlagValue>;
  args: string[];
  given: Set<string>;
}

export type Handler = (ctx: CommandContext) => number | void | Promise<number | void>;

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

/** For the small entries: a command line they do not handle, run by dist/tsrun.js. */
export function fullEntry(argv: string[]): Promise<number> {
  // Resolved by boot.ts's loader to dist/tsrun.js (and its code cache).
  return (require('./tsrun.js') as typeof import('./main')).main(argv);
}

/**
 * Run argv (without node and script) with these handlers; resolves to the exit status. A command
 * missing from `handlers` goes whole to `elsewhere` (the quick entry hands it to the full one).
 */
export async function dispatch(
  argv: string[],
  handlers: Record<string, Handler>,
  elsewhere?: (argv: string[]) => Promise<number>,
): Promise<number> {
  try {
    const parsed = parseArgs(argv);
    const command = parsed.command;
    const g = parsed.globals;
    if (command && !parsed.help && !parsed.version && !Object.hasOwn(handlers, command) && elsewhere) return elsewhere(argv);
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
    const status = await handlers[command]({ globals: g, flags: parsed.flags, args: parsed.args, given: parsed.given });
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
