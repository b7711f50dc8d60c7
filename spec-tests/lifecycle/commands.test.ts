/** kill, delete and list as clients rely on them (clients.md). */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox, sh } from '../harness';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('cmds');
});
afterAll(() => box.cleanup());

function sleeper() {
  const bundle = box.bundle((s) => {
    s.process!.args = sh('trap "exit 42" TERM; sleep 30 & wait');
  });
  const c = box.create(bundle);
  expect(c.result.status).toBe(0);
  return c.id;
}

test('the pid file holds the init pid in decimal without a newline', () => {
  const bundle = box.bundle();
  const pidFile = path.join(box.dir, 'init.pid');
  const c = box.create(bundle, box.id(), ['--pid-file', pidFile]);
  expect(c.result.status).toBe(0);
  const text = fs.readFileSync(pidFile, 'utf8');
  expect(text).toMatch(/^\d+$/);
  expect(Number(text)).toBe(box.state(c.id).pid);
});

test('kill accepts names with and without SIG and numbers; default is TERM', () => {
  for (const sig of ['KILL', 'SIGKILL', '9']) {
    const id = sleeper();
    expect(box.tsrun(['start', id]).status).toBe(0);
    expect(box.tsrun(['kill', id, sig]).status).toBe(0);
    box.waitStatus(id, 'stopped');
  }
  // pid 1 of a pid namespace only gets signals it handles: the script traps TERM
  const id = sleeper();
  expect(box.tsrun(['start', id]).status).toBe(0);
  box.waitStatus(id, 'running');
  spawnSync('sleep', ['0.2']); // let sh install its trap
  expect(box.tsrun(['kill', id]).status).toBe(0);
  box.waitStatus(id, 'stopped');
  expect(box.tsrun(['kill', id, 'BOGUS']).status).not.toBe(0);
});

test('kill of a stopped container says "container not running"', () => {
  const id = sleeper();
  expect(box.tsrun(['kill', id, 'KILL']).status).toBe(0);
  box.waitStatus(id, 'stopped');
  const r = box.tsrun(['kill', id, 'KILL']);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('container not running');
});

test('kill --all signals every process in the container cgroup', () => {
  const id = sleeper();
  expect(box.tsrun(['start', id]).status).toBe(0);
  box.waitStatus(id, 'running');
  expect(box.tsrun(['kill', '--all', id, 'KILL']).status).toBe(0);
  box.waitStatus(id, 'stopped');
});

test('delete refuses a running container, --force kills it; --force of a missing one exits 0', () => {
  const id = sleeper();
  expect(box.tsrun(['start', id]).status).toBe(0);
  const r = box.tsrun(['delete', id]);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('running');
  const pid = box.state(id).pid;
  expect(box.tsrun(['delete', '--force', id]).status).toBe(0);
  expect(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')).toBe(false);
  expect(box.tsrun(['delete', '--force', id]).status).toBe(0);
  expect(box.tsrun(['delete', id]).stderr).toContain('does not exist');
});

test('delete of a created container kills its init (runc semantics)', () => {
  const id = sleeper();
  const pid = box.state(id).pid;
  expect(box.tsrun(['delete', id]).status).toBe(0);
  expect(fs.existsSync(path.join(box.root, id))).toBe(false);
  expect(fs.existsSync(`/proc/${pid}/cmdline`) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '').toBe(false);
});

test('list shows containers with their status, as a table, JSON and ids only', () => {
  const a = sleeper();
  const b = sleeper();
  expect(box.tsrun(['start', b]).status).toBe(0);
  const table = box.tsrun(['list']).stdout;
  expect(table.split('\n')[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER/);
  expect(table).toMatch(new RegExp(`${a}\\s+\\d+\\s+created`));
  expect(table).toMatch(new RegExp(`${b}\\s+\\d+\\s+running`));
  const json = JSON.parse(box.tsrun(['list', '--format', 'json']).stdout) as { id: string; status: string }[];
  expect(json.find((c) => c.id === a)?.status).toBe('created');
  expect(box.tsrun(['list', '-q']).stdout.split('\n')).toEqual(expect.arrayContaining([a, b]));
});

test('start twice: the second start fails', () => {
  const id = sleeper();
  expect(box.tsrun(['start', id]).status).toBe(0);
  const r = box.tsrun(['start', id]);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/cannot start/);
});
