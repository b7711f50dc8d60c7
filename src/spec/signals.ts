import { constants } from 'node:os';
import { TsrunError } from '../errors';

// glibc reserves the first two kernel real-time signals for itself, so user-visible SIGRTMIN is
// 34; runc and the tools clients use agree on that numbering.
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

/**
 * A signal given by name ("KILL", "SIGKILL", "sigterm"), number ("9") or real-time offset
 * ("RTMIN+3", "SIGRTMAX-1"), as `kill` accepts it. Names come from the platform's own table,
 * which is right on architectures whose numbering differs from x86.
 */
export function parseSignal(input: string): number {
  const text = input.trim();
  if (/^[0-9]+$/.test(text)) {
    const num = Number(text);
    if (num >= 1 && num <= SIGRTMAX) return num;
    throw new TsrunError(`invalid signal number: ${input}`);
  }
  let name = text.toUpperCase();
  if (name.startsWith('SIG')) name = name.slice(3);
  const realtime = /^RT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(name);
  if (realtime) {
    const base = realtime[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const offset = realtime[3] === undefined ? 0 : Number(realtime[3]) * (realtime[2] === '-' ? -1 : 1);
    const num = base + offset;
    // RTMIN counts up and RTMAX down; going the other way leaves the real-time range.
    const wrongDirection = (realtime[1] === 'MIN' && offset < 0) || (realtime[1] === 'MAX' && offset > 0);
    if (!wrongDirection && num >= SIGRTMIN && num <= SIGRTMAX) return num;
    throw new TsrunError(`invalid signal: ${input}`);
  }
  const signals = constants.signals as Record<string, number | undefined>;
  const num = name.length > 0 ? signals[`SIG${name}`] : undefined;
  if (num === undefined) throw new TsrunError(`unknown signal: ${input}`);
  return num;
}
