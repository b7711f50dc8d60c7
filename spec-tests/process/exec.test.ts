/** Finding the executable at create time, and stdio passing straight through to the process. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CLI, Sandbox, sh } from '../harness';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('h3proc-exec');
});
afterAll(() => box.cleanup());

function failsCreate(args: string[], message: string | RegExp): void {
  const bundle = box.bundle((s) => {
    s.process!.args = args;
  });
  const id = box.id();
  const r = box.tsrun(['create', '--bundle', bundle, id]);
  expect(r.status).not.toBe(0);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
  expect(fs.existsSync(path.join(box.root, id))).toBe(false);
}

test('a binary missing from $PATH fails create with runc\'s message and leaves no state dir', () => {
  failsCreate(['nosuch'], 'exec: "nosuch": executable file not found in $PATH');
});

test('a missing absolute path fails create (runc\'s wording)', () => {
  failsCreate(['/bin/nosuch'], 'exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory');
});

test('a file that is not executable fails create', () => {
  failsCreate(['/etc/passwd'], 'exec: "/etc/passwd": permission denied');
});

test('a directory is not an executable', () => {
  failsCreate(['/bin'], 'exec: "/bin": permission denied');
});

test('the executable is looked up in the config PATH, in order', () => {
  const bundle = box.bundle((s) => {
    s.process!.env = ['PATH=/opt/first:/bin'];
    s.process!.args = ['hello'];
  });
  fs.mkdirSync(path.join(bundle, 'rootfs/opt/first'), { recursive: true });
  fs.writeFileSync(path.join(bundle, 'rootfs/opt/first/hello'), '#!/bin/sh\necho from-opt\n', { mode: 0o755 });
  fs.writeFileSync(path.join(bundle, 'rootfs/bin/hello'), '#!/bin/sh\necho from-bin\n', { mode: 0o755 });
  expect(box.run(bundle).stdout).toBe('from-opt\n');
});

test('a relative path with a slash resolves against cwd', () => {
  const bundle = box.bundle((s) => {
    s.process!.cwd = '/opt';
    s.process!.args = ['./tool'];
  });
  fs.mkdirSync(path.join(bundle, 'rootfs/opt'), { recursive: true });
  fs.writeFileSync(path.join(bundle, 'rootfs/opt/tool'), '#!/bin/sh\necho tool-ran\n', { mode: 0o755 });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('tool-ran\n');
});

test('stdin is passed through: a pipe is read by cat', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = ['cat'];
  });
  const r = spawnSync(process.execPath, [CLI, '--root', box.root, 'run', '--bundle', bundle, box.id()], {
    input: 'line one\nline two\n',
    encoding: 'utf8',
    timeout: 30000,
  });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('line one\nline two\n');
  expect(r.status).toBe(0);
});

test('stdout and stderr are the very files tsrun was given (no copying through a pipe)', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = sh('echo to-out; echo to-err >&2; readlink /proc/$$/fd/1; readlink /proc/$$/fd/2');
  });
  const out = path.join(box.dir, 'stdout.txt');
  const err = path.join(box.dir, 'stderr.txt');
  const outFd = fs.openSync(out, 'w');
  const errFd = fs.openSync(err, 'w');
  const r = spawnSync(process.execPath, [CLI, '--root', box.root, 'run', '--bundle', bundle, box.id()], {
    stdio: ['ignore', outFd, errFd],
    timeout: 30000,
  });
  fs.closeSync(outFd);
  fs.closeSync(errFd);
  expect(r.status).toBe(0);
  const lines = fs.readFileSync(out, 'utf8').split('\n');
  expect(lines[0]).toBe('to-out');
  // the host file, seen from inside the container's mount namespace (outside its root)
  expect(lines[1]).toContain('stdout.txt');
  expect(lines[2]).toContain('stderr.txt');
  expect(fs.readFileSync(err, 'utf8')).toBe('to-err\n');
});

test('create keeps stdio for the process: output written after start lands in create\'s stdout file', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = sh('echo after-start');
  });
  const c = box.create(bundle);
  expect(c.result.status).toBe(0);
  expect(fs.readFileSync(c.out, 'utf8')).toBe('');
  expect(box.tsrun(['start', c.id]).status).toBe(0);
  box.waitStatus(c.id, 'stopped');
  expect(fs.readFileSync(c.out, 'utf8')).toBe('after-start\n');
});
