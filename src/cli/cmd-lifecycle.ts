/** create, start, run, kill, delete: option mapping onto src/container/lifecycle. */
import * as path from 'path';
import type { CreateOptions } from '../container/options';
import type { CommandContext } from './main';

type Lifecycle = typeof import('../container/lifecycle');

// Loaded only by the commands that need it, so `state` never pays for it.
function lifecycle(): Lifecycle {
  return require('../container/lifecycle') as Lifecycle;
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
  lifecycle().create(ctx.globals, createOptions(ctx));
}

export function startCommand(ctx: CommandContext): void {
  lifecycle().start(ctx.globals, ctx.args[0]);
}

export function runCommand(ctx: CommandContext): ReturnType<Lifecycle['run']> {
  const f = ctx.flags;
  return lifecycle().run(ctx.globals, {
    ...createOptions(ctx),
    detach: f.detach as boolean,
    keep: f.keep as boolean,
    noSubreaper: f['no-subreaper'] as boolean,
  });
}

export function killCommand(ctx: CommandContext): void {
  lifecycle().kill(ctx.globals, ctx.args[0], ctx.args[1] ?? 'SIGTERM', ctx.flags.all as boolean);
}

export function deleteCommand(ctx: CommandContext): void {
  lifecycle().deleteContainer(ctx.globals, ctx.args[0], ctx.flags.force as boolean);
}
