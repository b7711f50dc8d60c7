/** exec: a second process in a running container, in its namespaces and cgroup. */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CLI, REPO, Sandbox, sh } from '../harness';

let box: Sandbox;
let id: string;
let initPid: number;

beforeAll(() => {
  box = new Sandbox('exec');
  const bundle = box.bundle((s) => {
    s.process!.args = ['sleep', '300'];
    s.process!.env = ['PATH=/bin', 'BASE=from-config'];
  });
  id = box.id();
  // detached: the container must not hold our output pipes open
  expect(box.tsrun(['run', '-d', '--bundle', bundle, id], { stdio: 'ignore' }).status).toBe(0);
  initPid = box.state(id).pid;
});
afterAll(() => box.cleanup());

test('exec prints the process output and exits with its status', () => {
  const r = box.tsrun(['exec', id, 'sh', '-c', 'echo from-exec; exit 5']);
  expect(r.stdout).toBe('from-exec\n');
  expect(r.status).toBe(5);
});

test('the exec process joins every namespace and the cgroup of the init', () => {
  const pidFile = path.join(box.dir, 'exec.pid');
  expect(box.tsrun(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '5'], { stdio: 'ignore' }).status).toBe(0);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  for (const ns of ['ipc', 'uts', 'net', 'pid', 'mnt', 'cgroup']) {
    expect(`${ns}: ${fs.readlinkSync(`/proc/${pid}/ns/${ns}`)}`).toBe(`${ns}: ${fs.readlinkSync(`/proc/${initPid}/ns/${ns}`)}`);
  }
  expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toBe(fs.readFileSync(`/proc/${initPid}/cgroup`, 'utf8'));
  // same root: the container's, not the host's
  expect(fs.readlinkSync(`/proc/${pid}/root`)).toBe(fs.readlinkSync(`/proc/${initPid}/root`));
  process.kill(pid, 'SIGKILL');
});

test('the container process list shows the init as pid 1', () => {
  const r = box.tsrun(['exec', id, 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; echo $$']);
  const [cmd, self] = r.stdout.trim().split('\n');
  expect(cmd.trim()).toBe('sleep 300');
  expect(Number(self)).toBeGreaterThan(1);
});

test('--user, --additional-gids, --env and --cwd apply; env extends the container env', () => {
  const r = box.tsrun(['exec', '-u', '1000:1001', '-g', '7', '-e', 'EXTRA=1', '--cwd', '/tmp', id, 'sh', '-c', 'id -u; id -g; id -G; echo $BASE $EXTRA; pwd']);
  expect(r.stderr).toBe('');
  expect(r.stdout.split('\n').slice(0, 5)).toEqual(['1000', '1001', '1001 7', 'from-config 1', '/tmp']);
});

test('--process runs a full OCI process description', () => {
  const file = path.join(box.dir, 'process.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      args: ['sh', '-c', 'echo $ONLY; grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status'],
      env: ['PATH=/bin', 'ONLY=process-json'],
      cwd: '/',
      user: { uid: 0, gid: 0 },
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      noNewPrivileges: true,
    }),
  );
  const r = box.tsrun(['exec', '--process', file, id]);
  expect(r.stdout).toBe('process-json\nCapEff:\t0000000000000020\nNoNewPrivs:\t1\n');
});

test('--cap adds a capability to the container process settings', () => {
  const r = box.tsrun(['exec', '--cap', 'CAP_SYS_ADMIN', id, 'grep', 'CapEff', '/proc/self/status']);
  const mask = BigInt('0x' + r.stdout.split('\t')[1].trim());
  expect(mask & (1n << 21n)).toBe(1n << 21n);
});

// a background child inherits every fd the exec'd shell has (ls's and sh's own helpers aside)
test('--preserve-fds passes extra fds, and no other fd leaks in', () => {
  const file = path.join(box.dir, 'extra.txt');
  fs.writeFileSync(file, 'extra-fd-content');
  const fd = fs.openSync(file, 'r');
  const leak = fs.openSync(file, 'r');
  const r = spawnSync(process.execPath, [CLI, '--root', box.root, 'exec', '--preserve-fds', '1', id, 'sh', '-c', 'cat <&3; echo; sleep 2 & ls /proc/$!/fd | tr "\\n" " "'], {
    stdio: ['ignore', 'pipe', 'pipe', fd, leak],
    encoding: 'utf8',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
  });
  fs.closeSync(fd);
  fs.closeSync(leak);
  const [content, fds] = r.stdout.split('\n');
  expect(r.stderr).toBe('');
  expect(content).toBe('extra-fd-content');
  expect(fds.trim().split(' ').map(Number).filter((n) => n > 3)).toEqual([]);
});

test('a tty exec gives an interactive shell (scripted session)', () => {
  // `script` gives tsrun a real terminal; the shell reads what we type and answers
  const cmd = `stty rows 24 cols 80; node ${CLI} --root ${box.root} exec -t ${id} sh -i`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    input: 'echo typed-$((6*7)); tty; exit 3\n',
    encoding: 'utf8',
    timeout: 20000,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '', PS1: '$ ' },
  });
  expect(r.stdout).toContain('typed-42');
  expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
  expect(r.status).toBe(3);
});

test('a detached tty exec sends the pty master to the console socket', async () => {
  const socketPath = path.join(box.dir, 'exec-console.sock');
  const rx = spawn('python3', [path.join(REPO, 'spec-tests/fixtures/console-receiver.py'), socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  rx.stdout.on('data', (d) => (out += d));
  const done = new Promise<void>((resolve) => rx.on('exit', () => resolve()));
  while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 10));
  const r = box.tsrun(['exec', '-t', '-d', '--console-socket', socketPath, id, 'sh', '-c', 'tty; echo exec-tty-ok']);
  expect(r.status).toBe(0);
  await done;
  expect(out).toContain('payload=/dev/ptmx fds=1');
  expect(out).toContain('exec-tty-ok');
});

test('exec into a stopped container fails clearly', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = sh('exit 0');
  });
  const other = box.id();
  expect(box.tsrun(['run', '-d', '--bundle', bundle, other], { stdio: 'ignore' }).status).toBe(0);
  box.waitStatus(other, 'stopped');
  const r = box.tsrun(['exec', other, 'true']);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('cannot exec in a stopped container');
});
