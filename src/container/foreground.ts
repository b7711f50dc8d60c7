/** Waiting for a process in the foreground (`run`, `exec`): signals forwarded, a tty relayed. */
import { native } from '../native';
import { relayTerminal } from './tty';

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

/** Returns the exit status for tsrun: the process's own, or 128+n when signal n killed it. */
export async function waitInForeground(pid: number, ptyMaster: number | undefined): Promise<number> {
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* exited */
    }
  };
  for (const sig of FORWARDED_SIGNALS) process.on(sig, forward);
  try {
    const exited = native().waitpidAsync(pid);
    const status = ptyMaster !== undefined ? await relayTerminal(ptyMaster, exited) : await exited;
    return status.signal !== undefined ? 128 + status.signal : status.exitCode ?? 0;
  } finally {
    for (const sig of FORWARDED_SIGNALS) process.off(sig, forward);
  }
}
