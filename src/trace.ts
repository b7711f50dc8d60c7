/**
 * Phase timing, to see where a command spends its time. With TSRUN_TRACE=1 each mark prints one
 * line on stderr; with --debug it goes to the debug log. A line gives the time since the
 * previous mark (the phase that just ended) and since the process started, so the first mark
 * also shows what Node's boot and loading tsrun cost. Off, a mark costs one comparison.
 */
import { logger, writeAll } from './log';

const toStderr = process.env.TSRUN_TRACE === '1';
let lastMs: number | undefined;

/** Milliseconds since the process started (process.uptime() has sub-millisecond resolution). */
function sinceStart(): number {
  return process.uptime() * 1000;
}

function line(phase: string, now: number, previous: number): string {
  return `trace: ${(now - previous).toFixed(2).padStart(7)} ms  ${phase}  (at ${now.toFixed(1)} ms)`;
}

/** The phase named here has just ended. */
export function trace(phase: string): void {
  if (!toStderr && !logger.debugEnabled) return;
  const now = sinceStart();
  const previous = lastMs ?? 0;
  if (lastMs === undefined) process.once('exit', () => trace('rest of the command, until exit'));
  lastMs = now;
  const text = line(phase, now, previous);
  if (toStderr) writeAll(2, text + '\n');
  else logger.debug(text);
}
