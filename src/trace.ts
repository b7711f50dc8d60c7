/**
 * Phase timing, to see where a command spends its time. With TSRUN_TRACE=1 each mark prints one
 * line on stderr; with --debug it goes to the debug log. A line gives the time since the
 * previous mark (the phase that just ended), the CPU time tsrun itself used in it (what matters
 * on a loaded machine, where wall time includes waiting for a core), and the time since the
 * process started, so the first mark also shows what Node's boot and loading tsrun cost. Off, a
 * mark costs one comparison.
 */
import { logger, writeAll } from './log';

const toStderr = process.env.TSRUN_TRACE === '1';
let lastMs: number | undefined;
let lastCpu: NodeJS.CpuUsage | undefined;

/**
 * V8's young generation, used/size: when it fills, a scavenge copies everything live (nearly all
 * of a short command's objects) and costs milliseconds, so what a phase allocates shows here.
 */
function youngGeneration(): string {
  const v8 = require('v8') as typeof import('v8');
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return young ? `young ${Math.round(young.space_used_size / 1024)}/${Math.round(young.space_size / 1024)} KiB` : 'young ?';
}

/** The phase named here has just ended. */
export function trace(phase: string): void {
  if (!toStderr && !logger.debugEnabled) return;
  // process.uptime() counts from the process's start, with sub-millisecond resolution
  const now = process.uptime() * 1000;
  const cpu = process.cpuUsage();
  const previous = lastMs ?? 0;
  const cpuMs = (cpu.user + cpu.system - (lastCpu ? lastCpu.user + lastCpu.system : 0)) / 1000;
  if (lastMs === undefined) process.once('exit', () => trace('rest of the command, until exit'));
  const text = `trace: ${(now - previous).toFixed(2).padStart(7)} ms (cpu ${cpuMs.toFixed(2).padStart(6)})  ${phase}  (at ${now.toFixed(1)} ms, ${youngGeneration()})`;
  if (toStderr) writeAll(2, text + '\n');
  else logger.debug(text);
  // The next phase starts now: the trace's own cost (loading the v8 module first) is no phase's.
  lastMs = process.uptime() * 1000;
  lastCpu = process.cpuUsage();
}
