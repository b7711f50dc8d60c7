/** Waiting for a process in the foreground (`run`, `exec`): signals forwarded, a tty relayed. */
import * as os from 'os';
import { native, type WaitStatus } from '../native';
import { relayTerminal } from './tty';

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

/** tsrun's exit status for a process's wait status: its own, or 128+n when signal n killed it. */
function exitStatus(status: WaitStatus): number {
  return status.signal !== undefined ? 128 + status.signal : status.exitCode ?? 0;
}

/** Returns the exit status for tsrun: the process's own, or 128+n when signal n killed it. */
export async function waitInForeground(pid: number, ptyMaster: number | undefined): Promise<number> {
  // Without a terminal to relay the addon waits and forwards by itself: no worker thread, no
  // JavaScript signal listeners (together ~3 ms of a `run`).
  if (ptyMaster === undefined) return exitStatus(native().waitForwarding(pid, FORWARDED_SIGNALS.map((s) => os.constants.signals[s])));
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* exited */
    }
  };
  for (const sig of FORWARDED_SIGNALS) process.on(sig, forward);
  try {
    return exitStatus(await relayTerminal(ptyMaster, native().waitpidAsync(pid)));
  } finally {
    for (const sig of FORWARDED_SIGNALS) process.off(sig, forward);
  }
}
