/** Help text for tsrun and each command, built from the command table. */
import { COMMANDS, CommandDef, FlagDef, GLOBAL_FLAGS } from './commands';

function flagLabel(f: FlagDef): string {
  const value = f.kind === 'bool' ? '' : ` ${f.valueName ?? 'value'}`;
  return `--${f.name}${value}` + (f.alias ? `, ${f.alias.length === 1 ? '-' : '--'}${f.alias}${value}` : '');
}

function flagTable(flags: FlagDef[]): string {
  const labels = flags.map(flagLabel);
  const width = Math.max(...labels.map((l) => l.length));
  return flags.map((f, i) => `   ${labels[i].padEnd(width)}   ${f.help}`).join('\n');
}

export function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `tsrun: an Open Container Initiative runtime

Runs containers from OCI bundles: a directory with a config.json and a root filesystem.
tsrun is command-line compatible with runc.

Usage: tsrun [global options] <command> [command options] [arguments...]

Commands:
${COMMANDS.map((c) => `   ${c.name.padEnd(width)}   ${c.summary}`).join('\n')}

Global options (before the command):
${flagTable(GLOBAL_FLAGS)}

Run 'tsrun <command> --help' for the options of a command.
`;
}

export function commandHelp(cmd: CommandDef): string {
  const usage = `tsrun ${cmd.name}${cmd.flags.length > 1 ? ' [options]' : ''}${cmd.argsUsage ? ' ' + cmd.argsUsage : ''}`;
  let text = `Usage: ${usage}\n\n${cmd.summary}\n`;
  if (cmd.description) text += `\n${cmd.description}\n`;
  text += `\nOptions:\n${flagTable(cmd.flags)}\n`;
  return text;
}
