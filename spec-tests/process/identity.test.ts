/** process.args, env, cwd, user and umask as the container process sees them. */
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox, sh } from '../harness';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('h3proc-id');
});
afterAll(() => box.cleanup());

test('args reach the process verbatim: spaces, empty strings, no shell expansion', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = ['sh', '-c', 'printf "%s|" "$0" "$@"', 'zero', 'a b', '', '$HOME', '*', 'ünï'];
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('zero|a b||$HOME|*|ünï|');
  expect(r.status).toBe(0);
});

test('env is exactly process.env plus HOME from the container /etc/passwd', () => {
  const env = ['PATH=/bin:/usr/bin', 'A=1', 'WITH_SPACE=a b', 'EMPTY=', 'NESTED=x=y'];
  const bundle = box.bundle((s) => {
    s.process!.env = env;
    s.process!.args = ['env'];
  });
  const r = box.run(bundle);
  expect(r.status).toBe(0);
  // runc adds HOME (the user's passwd entry, "/" when there is none) when the config has none
  expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([...env, 'HOME=/root'].sort());
});

test('HOME from the config wins; a user without a passwd entry gets HOME=/', () => {
  const withHome = box.bundle((s) => {
    s.process!.env = ['PATH=/bin', 'HOME=/custom'];
    s.process!.args = sh('echo "$HOME"');
  });
  expect(box.run(withHome).stdout).toBe('/custom\n');
  const noEntry = box.bundle((s) => {
    s.process!.env = ['PATH=/bin'];
    s.process!.user = { uid: 4242, gid: 4242 };
    s.process!.args = sh('echo "$HOME"');
  });
  const r = box.run(noEntry);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('/\n');
});

test('a variable given twice keeps its first place and its last value; an empty HOME is replaced', () => {
  const bundle = box.bundle((s) => {
    s.process!.env = ['HOME=', 'A=1', 'PATH=/bin', 'AB=2', 'A=3'];
    s.process!.args = ['env'];
  });
  expect(box.run(bundle).stdout).toBe('HOME=/root\nA=3\nPATH=/bin\nAB=2\n');
});

test('an empty env still finds the binary through the default PATH', () => {
  const bundle = box.bundle((s) => {
    s.process!.env = [];
    s.process!.args = ['echo', 'found'];
  });
  const r = box.run(bundle);
  expect(r.stdout).toBe('found\n');
});

test('cwd is the working directory', () => {
  const bundle = box.bundle((s) => {
    s.process!.cwd = '/tmp';
    s.process!.args = ['pwd'];
  });
  expect(box.run(bundle).stdout).toBe('/tmp\n');
});

test('a cwd that does not exist is created inside the rootfs (as runc does)', () => {
  const bundle = box.bundle((s) => {
    s.process!.cwd = '/no/such/dir';
    s.process!.args = sh('pwd; stat -c %F /no/such/dir');
  });
  const r = box.run(bundle);
  expect(r.stdout).toBe('/no/such/dir\ndirectory\n');
  expect(r.status).toBe(0);
  expect(fs.statSync(path.join(bundle, 'rootfs/no/such/dir')).isDirectory()).toBe(true);
});

test('a cwd that is a file fails create with the runc message', () => {
  const bundle = box.bundle((s) => {
    s.process!.cwd = '/etc/passwd';
    s.process!.args = ['true'];
  });
  const id = box.id();
  const r = box.run(bundle, id);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('/etc/passwd');
  expect(fs.existsSync(path.join(box.root, id))).toBe(false);
});

test('a cwd only root can search is still entered for a non-root user (as runc)', () => {
  const bundle = box.bundle((s) => {
    s.process!.user = { uid: 1000, gid: 1000 };
    s.process!.cwd = '/root';
    s.process!.args = sh('pwd; ls 2>/dev/null || echo no-read');
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('/root\nno-read\n');
});

test('user uid, gid and additionalGids are what `id` prints', () => {
  const bundle = box.bundle((s) => {
    s.process!.user = { uid: 1000, gid: 1001, additionalGids: [20, 30, 1001] };
    s.process!.args = sh('id -u; id -g; id -G');
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  const [uid, gid, groups] = r.stdout.trim().split('\n');
  expect(uid).toBe('1000');
  expect(gid).toBe('1001');
  expect(groups.split(' ').map(Number).sort((a, b) => a - b)).toEqual([20, 30, 1001]);
  expect(r.status).toBe(0);
});

test('a non-root user without additionalGids has no supplementary groups', () => {
  const bundle = box.bundle((s) => {
    s.process!.user = { uid: 1000, gid: 1000 };
    s.process!.args = sh('grep -E "^(Uid|Gid|Groups):" /proc/self/status');
  });
  const r = box.run(bundle);
  expect(r.stdout).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
  expect(r.stdout).toMatch(/^Gid:\s+1000\s+1000\s+1000\s+1000$/m);
  expect(r.stdout).toMatch(/^Groups:\s*$/m);
});

test('umask is applied', () => {
  const bundle = box.bundle((s) => {
    s.process!.user.umask = 0o027;
    s.process!.args = sh('umask; touch /tmp/f; stat -c %a /tmp/f');
  });
  expect(box.run(bundle).stdout).toBe('0027\n640\n');
});

test('without user.umask the process gets 0022, not the umask tsrun runs with', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = ['sh', '-c', 'umask'];
  });
  const old = process.umask(0o077);
  try {
    expect(box.run(bundle).stdout).toBe('0022\n');
  } finally {
    process.umask(old);
  }
});

test('a non-root user can be started (the exec fifo is writable for it even under umask 077)', () => {
  const bundle = box.bundle((s) => {
    s.process!.user = { uid: 1000, gid: 1000 };
    s.process!.args = ['id', '-u'];
  });
  const old = process.umask(0o077);
  try {
    const r = box.run(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1000\n');
  } finally {
    process.umask(old);
  }
});

test('a missing cwd is created before a read-only root is sealed', () => {
  const bundle = box.bundle((s) => {
    s.root!.readonly = true;
    s.process!.cwd = '/made/here';
    s.process!.args = sh('pwd; touch x 2>/dev/null || echo read-only');
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('/made/here\nread-only\n');
});
