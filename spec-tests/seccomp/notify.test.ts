/**
 * SCMP_ACT_NOTIFY: the notify fd and runtime-spec's containerProcessState reach the listener at
 * linux.seccomp.listenerPath, and the listener answers syscalls on the container's behalf.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox, sh, startFixture } from '../harness';
import type { LinuxSeccomp } from '../../src/spec/types';
import { withProfile } from './util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('seccomp-notify');
});
afterAll(() => box.cleanup());

/** fixtures/seccomp-listener.py on socketPath, answering with `replies`. */
function listener(socketPath: string, stateFile: string, replies: string[]) {
  return startFixture('seccomp-listener.py', [socketPath, stateFile, ...replies]);
}

const notifyMkdir = (listenerPath: string): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  listenerPath,
  listenerMetadata: 'test-agent;answers=mkdir',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
});

test('the listener gets the fd with the container process state and answers mkdir', async () => {
  const socketPath = path.join(box.dir, 'agent.sock');
  const stateFile = path.join(box.dir, 'agent-state.json');
  // first mkdir: "succeeds" without a directory; second: EXDEV; third: run by the kernel
  const agent = listener(socketPath, stateFile, ['ok', 'errno:18', 'continue']);
  await agent.ready;
  const bundle = box.bundle((s) => {
    withProfile(notifyMkdir(socketPath))(s);
    s.process!.args = sh('mkdir /tmp/a; echo a=$?; test -d /tmp/a || echo a-absent; mkdir /tmp/b; echo b=$?; mkdir /tmp/c; test -d /tmp/c && echo c-made');
    s.annotations = { 'org.example.key': 'value' };
  });
  const c = box.create(bundle);
  expect(c.result.stderr).toBe('');
  expect(c.result.status).toBe(0);
  const pid = box.state(c.id).pid;
  expect(box.tsrun(['start', c.id]).status).toBe(0);
  const out = await agent.done;
  box.waitStatus(c.id, 'stopped');

  expect(out).toContain('fds=1');
  expect(out.match(/^notif nr=83 /gm)).toHaveLength(3); // x86_64 mkdir, three times
  expect(out).toContain('done');
  expect(fs.readFileSync(c.out, 'utf8')).toBe('a=0\na-absent\nb=1\nc-made\n');
  expect(fs.readFileSync(c.err, 'utf8')).toContain("can't create directory '/tmp/b': Invalid cross-device link");

  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  expect(state).toEqual({
    ociVersion: expect.stringMatching(/^1\.\d+\.\d+/),
    fds: ['seccompFd'],
    pid,
    metadata: 'test-agent;answers=mkdir',
    state: {
      ociVersion: expect.any(String),
      id: c.id,
      status: 'creating',
      pid,
      bundle,
      annotations: { 'org.example.key': 'value' },
    },
  });
});

test('run in the foreground: the listener answers before the process goes on', async () => {
  const socketPath = path.join(box.dir, 'agent-run.sock');
  const agent = listener(socketPath, path.join(box.dir, 'run-state.json'), ['errno:28']);
  await agent.ready;
  const bundle = box.bundle((s) => {
    withProfile(notifyMkdir(socketPath))(s);
    s.process!.args = sh('mkdir /tmp/x');
  });
  const r = box.run(bundle);
  expect(r.stderr).toContain('No space left on device');
  expect(r.status).toBe(1);
  expect(await agent.done).toContain('notif nr=83');
});

test('a listener that is not there fails create clearly and leaves nothing', () => {
  const bundle = box.bundle((s) => {
    withProfile(notifyMkdir(path.join(box.dir, 'nobody-listens.sock')))(s);
  });
  const c = box.create(bundle);
  expect(c.result.status).toBe(1);
  expect(c.result.stderr).toMatch(/connect to the seccomp listener \(linux\.seccomp\.listenerPath\): connect .*nobody-listens\.sock: No such file or directory/);
  expect(box.tsrun(['state', c.id]).status).not.toBe(0);
});
