/** `exec`: the new process gets the container's seccomp profile, with its own notify listener fd. */
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox, startFixture } from '../harness';
import type { LinuxSeccomp } from '../../src/spec/types';
import { withProfile } from './util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('seccomp-exec');
});
afterAll(() => box.cleanup());

/** fixtures/seccomp-listener.py on socketPath, answering with `replies`. */
function agent(socketPath: string, stateFile: string, replies: string[]) {
  return startFixture('seccomp-listener.py', [socketPath, stateFile, ...replies]);
}

function started(profile: LinuxSeccomp): string {
  const c = box.create(box.bundle((s) => {
    withProfile(profile)(s);
    s.process!.args = ['sleep', '60'];
  }));
  expect(c.result.stderr).toBe('');
  expect(box.tsrun(['start', c.id]).status).toBe(0);
  return c.id;
}

test('an exec\'d process is filtered like the container process', () => {
  const id = started({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] });
  const r = box.tsrun(['exec', id, 'sh', '-c', 'mkdir /tmp/x; grep -E "^Seccomp:" /proc/self/status']);
  expect(r.stderr).toContain("mkdir: can't create directory '/tmp/x': Function not implemented");
  expect(r.stdout).toBe('Seccomp:\t2\n');
  // non-root, with and without no_new_privs
  for (const extra of [['-u', '1000'], ['-u', '1000', '--no-new-privs']]) {
    const e = box.tsrun(['exec', ...extra, id, 'sh', '-c', 'mkdir /tmp/y; grep -E "^(CapEff|Seccomp):" /proc/self/status']);
    expect(e.stderr).toContain('Function not implemented');
    expect(e.stdout).toBe('CapEff:\t0000000000000000\nSeccomp:\t2\n');
  }
  box.tsrun(['kill', id, 'KILL']);
});

test('with a notify rule each exec hands its own fd and state to the listener', async () => {
  const socketPath = path.join(box.dir, 'agent.sock');
  const first = agent(socketPath, path.join(box.dir, 'init-state.json'), []);
  await first.ready;
  const id = started({
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: socketPath,
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  });
  expect(await first.done).toContain('fds=1');
  const initPid = box.state(id).pid;
  expect(JSON.parse(fs.readFileSync(path.join(box.dir, 'init-state.json'), 'utf8'))).toMatchObject({ pid: initPid, state: { status: 'creating', pid: initPid } });

  const second = agent(socketPath, path.join(box.dir, 'exec-state.json'), ['errno:28']);
  await second.ready;
  const pidFile = path.join(box.dir, 'exec.pid');
  const r = box.tsrun(['exec', '--pid-file', pidFile, id, 'mkdir', '/tmp/x']);
  expect(r.stderr).toContain('No space left on device');
  expect(await second.done).toMatch(/notif nr=83 /);
  const execState = JSON.parse(fs.readFileSync(path.join(box.dir, 'exec-state.json'), 'utf8'));
  expect(execState).toMatchObject({ fds: ['seccompFd'], pid: Number(fs.readFileSync(pidFile, 'utf8')), state: { id, status: 'running', pid: initPid } });
  box.tsrun(['kill', id, 'KILL']);
});
