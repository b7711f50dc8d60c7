/** File descriptors: nothing leaks into the container but stdio, --preserve-fds and LISTEN_FDS. */
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox, sh } from '../harness';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('h3proc-fds');
});
afterAll(() => box.cleanup());

function fileWith(name: string, content: string): number {
  const p = path.join(box.dir, name);
  fs.writeFileSync(p, content);
  return fs.openSync(p, 'r');
}

/** `run` with extra fds at 3, 4, ... of the tsrun process (null = closed). */
function runWithFds(bundle: string, extra: (number | null)[], args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const stdio = ['ignore', 'pipe', 'pipe', ...extra.map((fd) => (fd === null ? 'ignore' : fd))] as ('ignore' | 'pipe' | number)[];
  return box.tsrun(['run', '--bundle', bundle, ...args, box.id()], { stdio, env });
}

/** Lists the shell's own fds then "END". ls must write straight to stdout: a pipe, $(...) or a
 * redirection would add fds of the shell's own, and as the last command busybox sh would
 * exec ls in its place. */
const LIST_FDS = 'ls /proc/$$/fd; echo END';

/** "0 1 2" from LIST_FDS output, and the lines after it. */
function fdsAndRest(out: string): [string, string] {
  const [list, rest] = out.split('END\n');
  return [list.split('\n').filter(Boolean).join(' '), rest ?? ''];
}

test('the process has exactly fds 0, 1 and 2', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = sh(LIST_FDS);
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(fdsAndRest(r.stdout)).toEqual(['0 1 2', '']);
});

test('an fd tsrun inherits (fd 5) does not reach the container', () => {
  const leaked = fileWith('leak.txt', 'secret\n');
  try {
    const bundle = box.bundle((s) => {
      s.process!.args = sh(`${LIST_FDS}; { cat <&5; } 2>/dev/null && echo LEAKED`);
    });
    const r = runWithFds(bundle, [null, null, leaked]);
    expect(r.stderr).toBe('');
    expect(fdsAndRest(r.stdout)).toEqual(['0 1 2', '']);
  } finally {
    fs.closeSync(leaked);
  }
});

test('--preserve-fds 2 passes fds 3 and 4, readable, and nothing above them', () => {
  const three = fileWith('three.txt', 'from fd 3\n');
  const four = fileWith('four.txt', 'from fd 4\n');
  const five = fileWith('five.txt', 'from fd 5\n');
  try {
    const bundle = box.bundle((s) => {
      s.process!.args = sh(`${LIST_FDS}; cat <&3; cat <&4`);
    });
    const r = runWithFds(bundle, [three, four, five], ['--preserve-fds', '2']);
    expect(r.stderr).toBe('');
    expect(fdsAndRest(r.stdout)).toEqual(['0 1 2 3 4', 'from fd 3\nfrom fd 4\n']);
    expect(r.status).toBe(0);
  } finally {
    [three, four, five].forEach((fd) => fs.closeSync(fd));
  }
});

test('LISTEN_FDS=1 passes fd 3 and sets LISTEN_FDS=1, LISTEN_PID=1 in the container', () => {
  const socketish = fileWith('listen.txt', 'activated\n');
  try {
    const bundle = box.bundle((s) => {
      s.process!.args = sh(`echo "$LISTEN_FDS $LISTEN_PID"; ${LIST_FDS}; cat <&3`);
    });
    const r = runWithFds(bundle, [socketish], [], { LISTEN_FDS: '1', LISTEN_PID: String(process.pid) });
    expect(r.stderr).toBe('');
    expect(fdsAndRest(r.stdout.replace(/^1 1\n/, ''))).toEqual(['0 1 2 3', 'activated\n']);
    expect(r.stdout.startsWith('1 1\n')).toBe(true);
  } finally {
    fs.closeSync(socketish);
  }
});

test('LISTEN_FDS and --preserve-fds add up', () => {
  const fds = ['a', 'b', 'c'].map((n) => fileWith(`${n}.txt`, `${n}\n`));
  try {
    const bundle = box.bundle((s) => {
      s.process!.args = sh('cat <&3; cat <&4; cat <&5');
    });
    const r = runWithFds(bundle, fds, ['--preserve-fds', '2'], { LISTEN_FDS: '1' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('a\nb\nc\n');
  } finally {
    fds.forEach((fd) => fs.closeSync(fd));
  }
});

test('a preserved fd survives create until start', () => {
  const three = fileWith('later.txt', 'kept\n');
  const bundle = box.bundle((s) => {
    s.process!.args = sh('cat <&3');
  });
  const id = box.id();
  const out = path.join(box.dir, 'later.out');
  const err = path.join(box.dir, 'later.err');
  const outFd = fs.openSync(out, 'w');
  const errFd = fs.openSync(err, 'w');
  let r;
  try {
    // files, not pipes: the created container keeps them open after create returns
    r = box.tsrun(['create', '--bundle', bundle, '--preserve-fds', '1', id], { stdio: ['ignore', outFd, errFd, three] });
  } finally {
    [outFd, errFd, three].forEach((fd) => fs.closeSync(fd));
  }
  expect(fs.readFileSync(err, 'utf8')).toBe('');
  expect(r.status).toBe(0);
  expect(box.tsrun(['start', id]).status).toBe(0);
  box.waitStatus(id, 'stopped');
  expect(fs.readFileSync(out, 'utf8')).toBe('kept\n');
});
