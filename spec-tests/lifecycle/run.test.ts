import { spawn, spawnSync } from 'child_process';
import { CLI, Sandbox, sh } from '../harness';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('run');
});
afterAll(() => box.cleanup());

test('run prints the container output and exits with its status', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = sh('echo hello; exit 7');
  });
  const r = box.run(bundle);
  expect(r.stdout).toBe('hello\n');
  expect(r.status).toBe(7);
});

test('run exits 128+n when the container is killed by signal n', async () => {
  const bundle = box.bundle((s) => {
    s.process!.args = ['sleep', '30'];
  });
  const id = box.id();
  const child = spawn(process.execPath, [CLI, '--root', box.root, 'run', '--bundle', bundle, id], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  box.waitStatus(id, 'running');
  expect(box.tsrun(['kill', id, 'KILL']).status).toBe(0);
  expect(await exited).toBe(137);
});

test('run forwards SIGTERM to the container', async () => {
  const bundle = box.bundle((s) => {
    s.process!.args = sh('trap "echo got-term; exit 3" TERM; while true; do sleep 0.05; done');
  });
  const id = box.id();
  const child = spawn(process.execPath, [CLI, '--root', box.root, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  box.waitStatus(id, 'running');
  spawnSync('sleep', ['0.2']);
  child.kill('SIGTERM');
  expect(await exited).toBe(3);
  expect(out).toContain('got-term');
});

test('create, state, start, state, delete follow runc statuses', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = sh('echo started; sleep 0.3');
  });
  const c = box.create(bundle);
  expect(c.result.status).toBe(0);
  const st = box.state(c.id);
  expect(st.status).toBe('created');
  expect(st.pid).toBeGreaterThan(0);
  expect(box.tsrun(['start', c.id]).status).toBe(0);
  expect(['running', 'stopped']).toContain(box.state(c.id).status);
  box.waitStatus(c.id, 'stopped');
  expect(box.state(c.id).pid).toBe(0);
  expect(box.tsrun(['delete', c.id]).status).toBe(0);
  expect(box.tsrun(['state', c.id]).stderr).toContain('does not exist');
});
