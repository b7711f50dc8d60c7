/**
 * The waiting init (after create, before start): its executable is a sealed memfd that cannot be
 * written, and nothing it holds from the host is reachable from other processes in the container.
 */
import { createHash } from 'crypto';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO, Sandbox, sh } from '../harness';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('h3sec-init');
});
afterAll(() => box.cleanup());

const INIT_BINARY = path.join(REPO, 'build/Release/tsrun-init');
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function created(args: string[] = ['sleep', '30']): { id: string; pid: number } {
  const bundle = box.bundle((s) => {
    s.process!.args = args;
  });
  const c = box.create(bundle);
  expect(c.result.stderr).toBe('');
  expect(c.result.status).toBe(0);
  return { id: c.id, pid: box.state(c.id).pid };
}

test('the waiting init runs from a sealed memfd that cannot be opened for writing', () => {
  const before = sha256(INIT_BINARY);
  const { id, pid } = created();
  expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe('/memfd:tsrun-init (deleted)');
  for (const flags of ['w', 'r+', 'a']) {
    let code = '';
    try {
      fs.closeSync(fs.openSync(`/proc/${pid}/exe`, flags));
    } catch (err) {
      code = (err as NodeJS.ErrnoException).code ?? '';
    }
    expect(['ETXTBSY', 'EPERM', 'EACCES']).toContain(code);
  }
  // the seals themselves: F_GET_SEALS (1034) on a read-only open of the same file
  const seals = spawnSync('python3', ['-c', `import os,fcntl;print(fcntl.fcntl(os.open('/proc/${pid}/exe',os.O_RDONLY),1034))`], { encoding: 'utf8' });
  if (seals.status === 0) {
    const F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;
    expect(Number(seals.stdout) & (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)).toBe(15);
  }
  // a shell redirect (O_WRONLY|O_CREAT|O_TRUNC) from the host fails too
  const write = spawnSync('sh', ['-c', `echo x > /proc/${pid}/exe`], { encoding: 'utf8' });
  expect(write.status).not.toBe(0);
  expect(write.stderr).toMatch(/busy|not permitted|denied/i);
  expect(box.tsrun(['start', id]).status).toBe(0);
  box.waitStatus(id, 'running');
  expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe('/bin/sleep');
  expect(sha256(INIT_BINARY)).toBe(before);
});

test('a process exec\'d into a created container cannot reach the init\'s fds or exe', () => {
  const { id } = created();
  const r = box.tsrun([
    'exec',
    id,
    'sh',
    '-c',
    // every fd of the waiting init, then a walk out of whatever directory fd it may hold
    'for f in /proc/1/fd/*; do readlink $f && echo LINK-READ; done; ls /proc/1/fd/*/../.. 2>/dev/null && echo ESCAPED; readlink /proc/1/exe && echo EXE-READ; echo x >>/proc/1/exe && echo EXE-WRITTEN; true',
  ]);
  expect(r.stdout).not.toMatch(/LINK-READ|ESCAPED|EXE-READ|EXE-WRITTEN/);
  expect(r.stderr).toMatch(/Permission denied/);
});

test('the waiting init holds only stdio, the exec fifo and a /proc directory of its own', () => {
  const { id, pid } = created();
  const fds = fs.readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
  const targets = fds.map((fd) => [fd, fs.readlinkSync(`/proc/${pid}/fd/${fd}`)] as const);
  for (const [fd, target] of targets) {
    if (fd <= 2) continue;
    const ok = target === path.join(box.root, id, 'exec.fifo') || target === `/${pid}/fd`;
    if (!ok) throw new Error(`unexpected fd ${fd} -> ${target} in the waiting init`);
  }
});

test('after start, a second process in the container sees no host fd in the container process', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = ['sleep', '30'];
  });
  const id = box.id();
  const c = box.create(bundle, id);
  expect(c.result.status).toBe(0);
  expect(box.tsrun(['start', id]).status).toBe(0);
  const r = box.tsrun(['exec', id, 'sh', '-c', 'ls /proc/1/fd; echo --; ls /proc/self/fd']);
  expect(r.stderr).toBe('');
  const [init, self] = r.stdout.split('--\n');
  expect(init.trim().split('\n')).toEqual(['0', '1', '2']);
  expect(self.trim().split('\n')).toEqual(['0', '1', '2', '3']); // 3: ls's own directory
});

test('the container process cannot see tsrun\'s own files through /proc/1 (its parent is outside)', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = sh('cat /proc/1/status | grep -E "^(PPid|NSpid)"');
  });
  const r = box.run(bundle);
  expect(r.stdout).toMatch(/^PPid:\s+0$/m);
  expect(r.stdout).toMatch(/^NSpid:\s+1$/m);
});
