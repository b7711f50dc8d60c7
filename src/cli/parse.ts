/**
 * Table-driven argv parsing with the conventions runc's clients rely on (urfave/cli over Go's
 * flag package): `--flag value`, `--flag=value`, one or two dashes for any flag name, booleans as
 * `--flag` or `--flag=true|false`, `--` ends flags. Global flags come before the subcommand; after
 * it they are still accepted when the command has no flag of that name.
 */
import { UsageError } from '../errors';
import type { GlobalOptions } from '../container/options';
import { COMMANDS, CommandDef, FlagDef, FlagValue, GLOBAL_FLAGS, findCommand } from './commands';

/** A command-line mistake; `command` picks the help the hint points to. */
export class CliUsageError extends UsageError {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

export interface ParsedArgs {
  globals: GlobalOptions;
  /** Undefined when no subcommand was given. */
  command?: string;
  flags: Record<string, FlagValue>;
  args: string[];
  /** Flag names (global and command) present on the command line. */
  given: Set<string>;
  help: boolean;
  version: boolean;
}

// Go's strconv.ParseBool.
const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

const DURATION_UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go duration syntax ("5s", "1m30s", "250ms", "0") to milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNIT_MS[m[2]];
    pos = re.lastIndex;
  }
  return pos > 0 ? total : undefined;
}

export function defaultRoot(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  // Like runc: an unprivileged user keeps state under its own runtime dir.
  if (xdg && typeof process.geteuid === 'function' && process.geteuid() !== 0) return `${xdg}/tsrun`;
  return '/run/tsrun';
}

function lookup(defs: FlagDef[], name: string): FlagDef | undefined {
  return defs.find((f) => f.name === name || f.alias === name);
}

function spelled(def: FlagDef): string {
  return `--${def.name}`;
}

/**
 * Consume the flag at argv[i] (already known to start with '-'). Returns how many argv entries
 * it used, or 0 when the name is not in `defs`.
 */
function takeFlag(
  argv: string[],
  i: number,
  defs: FlagDef[],
  into: Record<string, FlagValue>,
  given: Set<string>,
  command: string | undefined,
): number {
  const arg = argv[i];
  const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
  const eq = body.indexOf('=');
  const name = eq < 0 ? body : body.slice(0, eq);
  const def = lookup(defs, name);
  if (!def) return 0;
  let used = 1;
  let raw: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
  if (def.kind === 'bool') {
    if (raw === undefined) into[def.name] = true;
    else if (TRUE_WORDS.has(raw)) into[def.name] = true;
    else if (FALSE_WORDS.has(raw)) into[def.name] = false;
    else throw new CliUsageError(`invalid boolean value "${raw}" for ${spelled(def)}`, command);
    given.add(def.name);
    return used;
  }
  if (raw === undefined) {
    if (i + 1 >= argv.length) throw new CliUsageError(`flag needs an argument: ${arg}`, command);
    raw = argv[i + 1];
    used = 2;
  }
  switch (def.kind) {
    case 'string':
      if (def.choices && !def.choices.includes(raw)) {
        throw new CliUsageError(`invalid value "${raw}" for ${spelled(def)}: choose ${def.choices.join(', ')}`, command);
      }
      into[def.name] = raw;
      break;
    case 'int':
      if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
        throw new CliUsageError(`invalid value "${raw}" for ${spelled(def)}: not an integer`, command);
      }
      into[def.name] = Number(raw);
      break;
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) throw new CliUsageError(`invalid value "${raw}" for ${spelled(def)}: not a duration (e.g. 5s, 500ms)`, command);
      into[def.name] = ms;
      break;
    }
    case 'list':
      (into[def.name] as string[]).push(raw);
      break;
  }
  given.add(def.name);
  return used;
}

function defaults(defs: FlagDef[]): Record<string, FlagValue> {
  const out: Record<string, FlagValue> = {};
  for (const d of defs) {
    if (d.kind === 'bool') out[d.name] = false;
    else if (d.kind === 'list') out[d.name] = [];
    else if (d.kind === 'int' || d.kind === 'duration') out[d.name] = (d.default as number | undefined) ?? 0;
    else out[d.name] = (d.default as string | undefined) ?? '';
  }
  return out;
}

function isFlagLike(arg: string): boolean {
  return arg.length > 1 && arg[0] === '-';
}

function toGlobals(g: Record<string, FlagValue>): GlobalOptions {
  return {
    root: (g.root as string) || defaultRoot(),
    log: (g.log as string) || undefined,
    logFormat: g['log-format'] as 'text' | 'json',
    debug: g.debug as boolean,
    systemdCgroup: g['systemd-cgroup'] as boolean,
    rootless: g.rootless as string,
  };
}

/**
 * Parse a command line (without the node and script entries). Throws CliUsageError on any
 * mistake; with help or version set, the caller prints and ignores the rest.
 */
export function parseArgs(argv: string[]): ParsedArgs {
  const given = new Set<string>();
  const g = defaults(GLOBAL_FLAGS);
  let i = 0;
  // Global flags, up to the subcommand.
  while (i < argv.length && isFlagLike(argv[i])) {
    if (argv[i] === '--') {
      i++;
      break;
    }
    const used = takeFlag(argv, i, GLOBAL_FLAGS, g, given, undefined);
    if (!used) throw new CliUsageError(`unknown flag: ${argv[i].split('=')[0]}`);
    i += used;
  }
  const result: ParsedArgs = { globals: toGlobals(g), flags: {}, args: [], given, help: g.help as boolean, version: g.version as boolean };
  if (result.help || result.version || i >= argv.length) return result;

  const name = argv[i++];
  const cmd = findCommand(name);
  if (!cmd) {
    if (name === 'help') {
      // `tsrun help [command]`, as urfave/cli offers.
      result.help = true;
      const topic = argv[i];
      if (topic !== undefined) {
        if (!findCommand(topic)) throw new CliUsageError(`unknown command "${topic}"`);
        result.command = topic;
      }
      return result;
    }
    throw new CliUsageError(`unknown command "${name}"`);
  }
  result.command = cmd.name;
  const flags = defaults(cmd.flags);
  const globalsAfter = GLOBAL_FLAGS.filter((f) => f.name !== 'help' && f.name !== 'version');
  const args: string[] = [];
  let flagsDone = false;
  while (i < argv.length) {
    const arg = argv[i];
    if (flagsDone || !isFlagLike(arg)) {
      args.push(arg);
      i++;
      if (cmd.flagsEndAtPositional) flagsDone = true;
      continue;
    }
    if (arg === '--') {
      flagsDone = true;
      i++;
      continue;
    }
    let used = takeFlag(argv, i, cmd.flags, flags, given, cmd.name);
    if (!used) used = takeFlag(argv, i, globalsAfter, g, given, cmd.name);
    if (!used) throw new CliUsageError(`unknown flag: ${arg.split('=')[0]}`, cmd.name);
    if (flags.help) {
      result.help = true;
      return result;
    }
    i += used;
  }
  result.globals = toGlobals(g);
  result.flags = flags;
  result.args = args;
  checkArgCount(cmd, args);
  return result;
}

function checkArgCount(cmd: CommandDef, args: string[]): void {
  if (args.length < cmd.minArgs) {
    if (cmd.takesId && args.length === 0) throw new CliUsageError('missing container id', cmd.name);
    throw new CliUsageError(`"${cmd.name}" needs at least ${cmd.minArgs} arguments`, cmd.name);
  }
  if (args.length > cmd.maxArgs) {
    const expected =
      cmd.maxArgs === 0 ? 'takes no arguments' : cmd.minArgs === cmd.maxArgs ? `takes exactly ${cmd.maxArgs} argument${cmd.maxArgs > 1 ? 's' : ''}` : `takes at most ${cmd.maxArgs} arguments`;
    throw new CliUsageError(`"${cmd.name}" ${expected}, got ${args.length}: ${args.join(' ')}`, cmd.name);
  }
}

export { COMMANDS };
