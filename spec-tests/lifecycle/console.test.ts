/** process.terminal with --console-socket: the pty master reaches the socket as conmon expects. */
import * as path from 'path';
import { Sandbox, sh, startFixture } from '../harness';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('console');
});
afterAll(() => box.cleanup());

/** fixtures/console-receiver.py on socketPath; it types `input` into the terminal when given. */
function receiver(socketPath: string, input?: string) {
  return startFixture('console-receiver.py', input ? [socketPath, input] : [socketPath]);
}

test('the pty master is sent with the payload /dev/ptmx and the process sees a tty', async () => {
  const socketPath = path.join(box.dir, 'console.sock');
  const r = receiver(socketPath);
  await r.ready;
  const bundle = box.bundle((s) => {
    s.process!.terminal = true;
    s.process!.consoleSize = { height: 33, width: 101 };
    s.process!.args = sh('tty; stty size; test -t 0 && echo stdin-is-tty');
  });
  const c = box.create(bundle, box.id(), ['--console-socket', socketPath]);
  expect(c.result.stderr).toBe('');
  expect(c.result.status).toBe(0);
  expect(box.tsrun(['start', c.id]).status).toBe(0);
  const out = await r.done;
  expect(out).toContain('payload=/dev/ptmx fds=1');
  expect(out).toMatch(/\/dev\/pts\/\d+/);
  expect(out).toContain('33 101');
  expect(out).toContain('stdin-is-tty');
});

test('input typed on the master reaches the container process', async () => {
  const socketPath = path.join(box.dir, 'console2.sock');
  const r = receiver(socketPath, 'echo typed-$((6*7))\n');
  await r.ready;
  const bundle = box.bundle((s) => {
    s.process!.terminal = true;
    s.process!.args = sh('read line; eval "$line"');
  });
  const c = box.create(bundle, box.id(), ['--console-socket', socketPath]);
  expect(c.result.status).toBe(0);
  expect(box.tsrun(['start', c.id]).status).toBe(0);
  expect(await r.done).toContain('typed-42');
});

test('terminal: true without --console-socket fails create clearly and leaves nothing', () => {
  const bundle = box.bundle((s) => {
    s.process!.terminal = true;
  });
  const c = box.create(bundle);
  expect(c.result.status).toBe(1);
  expect(c.result.stderr).toContain('--console-socket');
  expect(box.tsrun(['state', c.id]).stderr).toContain('does not exist');
});
