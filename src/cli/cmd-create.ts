/** create and run: option mapping onto src/container/run. */
import * as path from 'path';
import type { CreateOptions } from '../container/options';
import type { CommandContext } from './dispatch';

type Run = typeof import('../container/run');

function containerRun(): Run {
  return require('../container/run') as Run;
}

function absolute(p: string): string | undefined {
  return p ? path.resolve(p) : undefined;
}

function createOptions(ctx: CommandContext): CreateOptions {
  const f = ctx.flags;
  return {
    id: ctx.args[0],
    bundle: path.resolve((f.bundle as string) || '.'),
    pidFile: absolute(f['pid-file'] as string),
    consoleSocket: absolute(f['console-socket'] as string),
    noPivot: f['no-pivot'] as boolean,
    noNewKeyring: f['no-new-keyring'] as boolean,
    preserveFds: f['preserve-fds'] as number,
  };
}

export function createCommand(ctx: CommandContext): void {
  containerRun().create(ctx.globals, createOptions(ctx));
}

export function runCommand(ctx: CommandContext): ReturnType<Run['run']> {
  const f = ctx.flags;
  return containerRun().run(ctx.globals, {
    ...createOptions(ctx),
    detach: f.detach as boolean,
    keep: f.keep as boolean,
    noSubreaper: f['no-subreaper'] as boolean,
  });
}
