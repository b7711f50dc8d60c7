/** pause, resume, update, events, ps: option mapping onto the cgroup-backed container commands. */
import type { CommandContext } from './dispatch';

export function pauseCommand(ctx: CommandContext): void {
  (require('../container/pause') as typeof import('../container/pause')).pause(ctx.globals, ctx.args[0]);
}

export function resumeCommand(ctx: CommandContext): void {
  (require('../container/pause') as typeof import('../container/pause')).resume(ctx.globals, ctx.args[0]);
}

export function psCommand(ctx: CommandContext): void {
  const ps = require('../container/ps') as typeof import('../container/ps');
  ps.ps(ctx.globals, ctx.args[0], ctx.flags.format as string, ctx.args.slice(1));
}

export function eventsCommand(ctx: CommandContext): Promise<void> {
  const events = require('../container/events') as typeof import('../container/events');
  return events.events(ctx.globals, ctx.args[0], { stats: ctx.flags.stats as boolean, intervalMs: ctx.flags.interval as number });
}

export function updateCommand(ctx: CommandContext): void {
  const u = require('../container/update') as typeof import('../container/update');
  const f = ctx.flags;
  const str = (name: string): string | undefined => (f[name] as string) || undefined;
  const flags: import('../container/update').UpdateFlags = {
    blkioWeight: (f['blkio-weight'] as number) || undefined,
    cpuPeriod: str('cpu-period'),
    cpuQuota: str('cpu-quota'),
    cpuBurst: str('cpu-burst'),
    cpuShares: str('cpu-share'),
    cpuRtPeriod: str('cpu-rt-period'),
    cpuRtRuntime: str('cpu-rt-runtime'),
    cpuIdle: str('cpu-idle'),
    cpusetCpus: str('cpuset-cpus'),
    cpusetMems: str('cpuset-mems'),
    memory: str('memory'),
    memoryReservation: str('memory-reservation'),
    memorySwap: str('memory-swap'),
    kernelMemory: str('kernel-memory'),
    kernelMemoryTcp: str('kernel-memory-tcp'),
    pidsLimit: ctx.given.has('pids-limit') ? (f['pids-limit'] as number) : undefined,
    l3CacheSchema: str('l3-cache-schema'),
    memBwSchema: str('mem-bw-schema'),
  };
  // As runc: a resources document replaces every other flag.
  const source = str('resources');
  const resources = source ? u.readResources(source) : u.resourcesFromFlags(flags);
  u.update(ctx.globals, ctx.args[0], resources, source ? {} : flags);
}
