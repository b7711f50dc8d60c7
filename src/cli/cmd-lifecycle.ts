/** start, kill, delete: option mapping onto src/container/lifecycle. */
import type { CommandContext } from './dispatch';

type Lifecycle = typeof import('../container/lifecycle');

// Loaded only by the commands that need it, so `state` never pays for it.
function lifecycle(): Lifecycle {
  return require('../container/lifecycle') as Lifecycle;
}

export function startCommand(ctx: CommandContext): void {
  lifecycle().start(ctx.globals, ctx.args[0]);
}

export function killCommand(ctx: CommandContext): void {
  lifecycle().kill(ctx.globals, ctx.args[0], ctx.args[1] ?? 'SIGTERM', ctx.flags.all as boolean);
}

export function deleteCommand(ctx: CommandContext): void {
  lifecycle().deleteContainer(ctx.globals, ctx.args[0], ctx.flags.force as boolean);
}
