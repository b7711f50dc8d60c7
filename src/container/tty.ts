/**
 * The foreground terminal relay (`run` and `exec -t` without --console-socket): tsrun's own
 * terminal in raw mode, bytes copied both ways, window size followed.
 */
import * as fs from 'fs';
import { native, type WaitStatus } from '../native';

/** Relays until the process exits and its output is drained; returns the process's status. */
export async function relayTerminal(master: number, exited: Promise<WaitStatus>): Promise<WaitStatus> {
  const n = native();
  const stdin = process.stdin;
  const stdout = process.stdout;
  const resize = () => {
    if (stdout.isTTY) n.setWinsize(master, stdout.rows, stdout.columns);
  };
  resize();
  stdout.on('resize', resize);
  if (stdin.isTTY) stdin.setRawMode(true);
  const onInput = (chunk: Buffer) => {
    try {
      fs.writeSync(master, chunk);
    } catch {
      /* the process is gone */
    }
  };
  stdin.on('data', onInput);

  const drained = new Promise<void>((resolve) => {
    const out = fs.createReadStream('', { fd: master, autoClose: false });
    out.on('data', (d) => stdout.write(d));
    // EIO once the last slave fd is closed: the normal end of a pty
    out.on('error', () => resolve());
    out.on('end', () => resolve());
  });
  const status = await exited;
  await drained;
  stdin.off('data', onInput);
  stdout.off('resize', resize);
  if (stdin.isTTY) stdin.setRawMode(false);
  stdin.pause();
  n.close(master);
  return status;
}
