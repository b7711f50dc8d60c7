/** process.cwd is resolved inside the container: ".." and symlinks never lead to the host. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Sandbox, sh } from '../harness';

let box: Sandbox;
let hostDir: string;
beforeAll(() => {
  box = new Sandbox('h3sec-cwd');
  // a directory that exists on the host only, with a marker a container must never see
  hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-h3-hostonly-'));
  fs.writeFileSync(path.join(hostDir, 'HOST-MARKER'), '');
});
afterAll(() => {
  box.cleanup();
  fs.rmSync(hostDir, { recursive: true, force: true });
});

test('a cwd climbing with ".." stops at the container root', () => {
  const bundle = box.bundle((s) => {
    s.process!.cwd = '/../../../';
    s.process!.args = sh('pwd; ls /; test -e bin/busybox && echo rootfs');
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toBe('/');
  expect(lines[lines.length - 1]).toBe('rootfs');
});

test('a cwd through a symlink to an absolute path resolves inside the rootfs', () => {
  const bundle = box.bundle((s) => {
    s.process!.cwd = '/link';
    s.process!.args = sh('pwd -P; ls');
  });
  const rootfs = path.join(bundle, 'rootfs');
  // the same absolute path exists inside the rootfs, with different content
  fs.mkdirSync(path.join(rootfs, hostDir), { recursive: true });
  fs.writeFileSync(path.join(rootfs, hostDir, 'ROOTFS-MARKER'), '');
  fs.symlinkSync(hostDir, path.join(rootfs, 'link'));
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(`${hostDir}\nROOTFS-MARKER\n`);
});

test('a cwd symlink climbing with ".." resolves inside the rootfs', () => {
  const bundle = box.bundle((s) => {
    s.process!.cwd = '/up';
    s.process!.args = sh('pwd -P; test -e passwd && echo container-etc');
  });
  fs.symlinkSync('../../../../../../../etc', path.join(bundle, 'rootfs/up'));
  fs.writeFileSync(path.join(bundle, 'rootfs/etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('/etc\ncontainer-etc\n');
});

test('a cwd symlink to a host-only path fails create instead of reaching the host', () => {
  const bundle = box.bundle((s) => {
    s.process!.cwd = '/link';
    s.process!.args = sh('ls; touch ESCAPED');
  });
  fs.symlinkSync(hostDir, path.join(bundle, 'rootfs/link'));
  const id = box.id();
  const r = box.run(bundle, id);
  expect(r.status).not.toBe(0);
  expect(r.stdout).not.toContain('HOST-MARKER');
  expect(fs.existsSync(path.join(hostDir, 'ESCAPED'))).toBe(false);
  expect(fs.readdirSync(hostDir)).toEqual(['HOST-MARKER']);
  expect(box.tsrun(['state', id]).status).not.toBe(0);
});

test('without a mount namespace (chroot) a climbing cwd still stops at the container root', () => {
  const bundle = box.bundle((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    s.linux!.maskedPaths = [];
    s.linux!.readonlyPaths = [];
    s.mounts = [];
    s.process!.cwd = '/../../../';
    s.process!.args = sh('pwd; cd ..; test -e bin/busybox && echo rootfs');
  });
  const r = box.run(bundle);
  expect(r.stdout).toBe('/\nrootfs\n');
});
