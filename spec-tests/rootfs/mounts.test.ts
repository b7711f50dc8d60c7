/**
 * config.json mounts as the container sees them: every OCI mount type, the mount options and
 * how /proc/self/mountinfo shows them, propagation, recursive attributes, tmpcopyup, and
 * destinations that are created on demand and can never leave the rootfs.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Mount } from '../../src/spec/types';
import { Sandbox } from '../harness';
import { addCapability, hostMountsUnder, inside, leftovers, mountAt, NOTHING_LEFT, parseMountinfo, runScript, sections } from './util';

let box: Sandbox;
let hostDir: string;
let hostFile: string;
beforeAll(() => {
  box = new Sandbox('rootfs-mounts');
  hostDir = path.join(box.dir, 'host-dir');
  fs.mkdirSync(hostDir);
  fs.writeFileSync(path.join(hostDir, 'in-dir'), 'from host dir');
  hostFile = path.join(box.dir, 'host-file');
  fs.writeFileSync(hostFile, 'from host file');
});
afterAll(() => box.cleanup());

/** Runs the script with extra mounts and returns the mountinfo printed at its end, plus the output. */
function withMounts(mounts: Mount[], script = 'true', edit: Parameters<typeof inside>[2] = () => {}) {
  const out = inside(box, `${script}; echo '== mountinfo'; cat /proc/self/mountinfo`, (s) => {
    s.mounts!.push(...mounts);
    edit(s);
  });
  return { out, mounts: parseMountinfo(sections(out).mountinfo), before: out.split('== mountinfo')[0] };
}

describe('bind mounts', () => {
  test('bind and rbind of a host directory, and a host file onto a new file', () => {
    const { before, mounts } = withMounts(
      [
        { destination: '/b/dir', type: 'bind', source: hostDir, options: ['bind'] },
        { destination: '/b/rdir', type: 'none', source: hostDir, options: ['rbind'] },
        { destination: '/etc/made/by/bind', type: 'bind', source: hostFile, options: ['bind'] },
      ],
      'cat /b/dir/in-dir; echo; cat /b/rdir/in-dir; echo; cat /etc/made/by/bind; echo; ls -l /etc/made/by/bind; echo changed > /b/dir/from-container',
    );
    expect(before).toContain('from host dir\nfrom host dir\nfrom host file\n');
    expect(before).toMatch(/^-rw.* \/etc\/made\/by\/bind$/m); // a regular file was created for it
    expect(mountAt(mounts, '/b/dir')!.root).toBe(hostDir);
    expect(mountAt(mounts, '/etc/made/by/bind')!.root).toBe(hostFile);
    expect(fs.readFileSync(path.join(hostDir, 'from-container'), 'utf8')).toBe('changed\n');
  });

  test('a ro bind cannot be written, the host copy stays writable', () => {
    const { before, mounts } = withMounts(
      [{ destination: '/ro', type: 'bind', source: hostDir, options: ['bind', 'ro'] }],
      'touch /ro/x 2>&1; echo rc=$?',
    );
    expect(before).toContain('Read-only file system');
    expect(mountAt(mounts, '/ro')!.options).toContain('ro');
    fs.writeFileSync(path.join(hostDir, 'still-writable'), '');
  });

  test('a relative bind source is resolved against the bundle', () => {
    const { before } = withMounts([{ destination: '/rel', type: 'bind', source: 'rootfs/etc', options: ['bind'] }], 'cat /rel/hostname');
    expect(before).toContain('tsrun');
  });

  test('a missing bind source fails create, naming it', () => {
    const r = runScript(box, 'true', (s) => {
      s.mounts!.push({ destination: '/x', type: 'bind', source: '/no/such/source', options: ['bind'] });
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/no/such/source');
  });
});

describe('filesystem types', () => {
  test('tmpfs size and mode are applied and shown', () => {
    const { before, mounts } = withMounts(
      [{ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['size=2m', 'mode=0711', 'uid=12', 'gid=34'] }],
      'stat -c "%a %u %g" /t',
    );
    expect(before).toContain('711 12 34');
    const t = mountAt(mounts, '/t')!;
    expect(t.fsType).toBe('tmpfs');
    expect(t.superOptions).toEqual(expect.arrayContaining(['size=2048k', 'mode=711', 'uid=12', 'gid=34']));
  });

  test('proc, sysfs read-only, devpts newinstance, mqueue', () => {
    const { before, mounts } = withMounts([], 'echo pid=$$; ls /proc/1/ >/dev/null && echo proc-ok; touch /sys/x 2>&1; ls /dev/pts');
    expect(before).toContain('pid=1');
    expect(before).toContain('proc-ok');
    expect(before).toContain('Read-only file system');
    expect(mountAt(mounts, '/proc')!.fsType).toBe('proc');
    const sys = mountAt(mounts, '/sys')!;
    expect(sys.fsType).toBe('sysfs');
    expect(sys.options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
    const pts = mountAt(mounts, '/dev/pts')!;
    expect(pts.fsType).toBe('devpts');
    expect(pts.superOptions).toEqual(expect.arrayContaining(['ptmxmode=666', 'mode=620', 'gid=5']));
    // a new instance: only its own ptmx, none of the host's ptys
    expect(before.trim().split('\n').pop()).toBe('ptmx');
    const mq = mountAt(mounts, '/dev/mqueue')!;
    expect(mq.fsType).toBe('mqueue');
    expect(mq.options).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec']));
  });

  test('an unknown filesystem type fails create with the mount in the message', () => {
    const r = runScript(box, 'true', (s) => {
      s.mounts!.push({ destination: '/x', type: 'nosuchfs', source: 'none' });
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/x');
    expect(r.stderr).toContain('nosuchfs');
  });
});

describe('mount options', () => {
  test('nosuid, nodev, noexec show in mountinfo; executing from a noexec tmpfs fails', () => {
    const { before, mounts } = withMounts(
      [
        { destination: '/ne', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=4m'] },
        { destination: '/ex', type: 'tmpfs', source: 'tmpfs', options: ['exec', 'size=4m'] },
      ],
      'cp /bin/busybox /ne/true; cp /bin/busybox /ex/true; /ne/true 2>&1; echo noexec-rc=$?; /ex/true; echo exec-rc=$?',
    );
    expect(before).toContain('Permission denied');
    expect(before).toContain('noexec-rc=126');
    expect(before).toContain('exec-rc=0');
    expect(mountAt(mounts, '/ne')!.options).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec']));
    expect(mountAt(mounts, '/ex')!.options).not.toContain('noexec');
  });

  test('atime family: noatime, strictatime, relatime, nodiratime', () => {
    const { mounts } = withMounts([
      { destination: '/a/noatime', type: 'tmpfs', source: 'tmpfs', options: ['noatime'] },
      { destination: '/a/strict', type: 'tmpfs', source: 'tmpfs', options: ['strictatime'] },
      { destination: '/a/relatime', type: 'tmpfs', source: 'tmpfs', options: ['relatime'] },
      { destination: '/a/nodiratime', type: 'tmpfs', source: 'tmpfs', options: ['nodiratime'] },
    ]);
    expect(mountAt(mounts, '/a/noatime')!.options).toContain('noatime');
    const strict = mountAt(mounts, '/a/strict')!.options;
    // strictatime is the absence of the others
    expect(strict).not.toContain('relatime');
    expect(strict).not.toContain('noatime');
    expect(mountAt(mounts, '/a/relatime')!.options).toContain('relatime');
    expect(mountAt(mounts, '/a/nodiratime')!.options).toContain('nodiratime');
  });

  test('sync and dirsync reach the superblock', () => {
    const { mounts } = withMounts([{ destination: '/s', type: 'tmpfs', source: 'tmpfs', options: ['sync', 'dirsync'] }]);
    expect(mountAt(mounts, '/s')!.superOptions).toEqual(expect.arrayContaining(['sync', 'dirsync']));
  });

  test('remount changes an earlier mount in place', () => {
    const { before, mounts } = withMounts(
      [
        { destination: '/r', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { destination: '/r', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro', 'size=2m'] },
      ],
      'touch /r/x 2>&1',
    );
    expect(before).toContain('Read-only file system');
    expect(mounts.filter((m) => m.mountPoint === '/r')).toHaveLength(1);
    expect(mountAt(mounts, '/r')!.superOptions).toContain('size=2048k');
  });

  test('nosymfollow: symlinks on the mount are not followed', () => {
    const { before, mounts } = withMounts(
      [{ destination: '/nf', type: 'tmpfs', source: 'tmpfs', options: ['nosymfollow'] }],
      'echo data > /nf/file; ln -s file /nf/link; cat /nf/link 2>&1; echo rc=$?',
    );
    expect(before).toContain('rc=1');
    expect(before).not.toMatch(/^data$/m);
    expect(mountAt(mounts, '/nf')!.options).toContain('nosymfollow');
  });

  test('idmap without any user namespace is refused by validation', () => {
    const r = runScript(box, 'true', (s) => {
      s.mounts!.push({ destination: '/idm', type: 'bind', source: hostDir, options: ['bind', 'idmap'] });
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('mounts[7].options: "idmap" needs uidMappings/gidMappings on the mount or a user namespace');
  });

  test('an id-mapped bind is attached as such (more in idmap.test.ts), and nothing is left', () => {
    const id = box.id();
    const bundle = box.bundle((s) => {
      s.process!.args = ['sh', '-c', 'cat /idm/in-dir; echo; stat -c %u:%g /idm/in-dir; grep " /idm " /proc/self/mountinfo'];
      // on-disk 0 is seen as 1234
      const map = [{ containerID: 0, hostID: 1234, size: 1 }];
      s.mounts!.push({ destination: '/idm', type: 'bind', source: hostDir, options: ['bind', 'idmap'], uidMappings: map, gidMappings: map });
    });
    const r = box.run(bundle, id);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [content, owner, info] = r.stdout.split('\n');
    expect([content, owner]).toEqual(['from host dir', '1234:1234']);
    expect(parseMountinfo(info)[0].options).toContain('idmapped');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });
});

describe('propagation', () => {
  let shared: string;
  beforeAll(() => {
    // a host mount in a peer group, with a submount, to bind into containers
    shared = path.join(box.dir, 'prop');
    fs.mkdirSync(shared);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', shared]).status).toBe(0);
    expect(spawnSync('mount', ['--make-shared', shared]).status).toBe(0);
    fs.mkdirSync(path.join(shared, 'sub'));
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(shared, 'sub')]).status).toBe(0);
  });
  afterAll(() => {
    spawnSync('umount', ['-R', shared]);
  });

  const bind = (dest: string, ...options: string[]): Mount => ({ destination: dest, type: 'bind', source: shared, options: ['rbind', ...options] });

  test('private, shared, slave, unbindable and the r- forms show as optional fields', () => {
    const { mounts } = withMounts([
      bind('/p/private', 'private'),
      bind('/p/shared', 'shared'),
      bind('/p/slave', 'slave'),
      bind('/p/unbindable', 'unbindable'),
      bind('/p/rprivate', 'rprivate'),
      bind('/p/rslave', 'rslave'),
      bind('/p/rshared', 'rshared'),
      bind('/p/runbindable', 'runbindable'),
    ]);
    const opt = (p: string) => mountAt(mounts, p)!.optional.map((o) => o.replace(/:\d+$/, ''));
    expect(opt('/p/private')).toEqual([]);
    // the source is a slave copy in the container's namespace, so it stays one while also shared
    expect(opt('/p/shared')).toContain('shared');
    expect(opt('/p/slave')).toEqual(['master']);
    expect(opt('/p/unbindable')).toEqual(['unbindable']);
    expect(opt('/p/rprivate')).toEqual([]);
    expect(opt('/p/rprivate/sub')).toEqual([]);
    expect(opt('/p/rslave/sub')).toEqual(['master']);
    expect(opt('/p/rshared/sub')).toContain('shared');
    expect(opt('/p/runbindable/sub')).toEqual(['unbindable']);
    // non-recursive forms leave the submount as the container's root propagation made it (slave)
    expect(opt('/p/private/sub')).toEqual(['master']);
  });

  test('rslave: a mount made on the host later appears inside, nothing goes back', () => {
    const late = path.join(shared, 'late');
    fs.mkdirSync(late);
    const bundleDir = box.bundle((s) => {
      s.mounts!.push(bind('/p', 'rslave'));
      s.process!.args = ['sh', '-c', 'while [ ! -e /p/late/ready ]; do sleep 0.05; done; cat /p/late/ready'];
      addCapability(s, 'CAP_SYS_ADMIN');
    });
    const id = box.id();
    const c = box.create(bundleDir, id);
    expect(c.result.stderr).toBe('');
    expect(box.tsrun(['start', id]).status).toBe(0);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', late]).status).toBe(0);
    fs.writeFileSync(path.join(late, 'ready'), 'seen-inside');
    box.waitStatus(id, 'stopped');
    spawnSync('umount', [late]);
    expect(fs.readFileSync(c.out, 'utf8')).toBe('seen-inside');
  });
});

describe('recursive attributes (mount_setattr)', () => {
  let tree: string;
  beforeAll(() => {
    tree = path.join(box.dir, 'tree');
    fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(tree, 'sub')]).status).toBe(0);
  });
  afterAll(() => {
    spawnSync('umount', [path.join(tree, 'sub')]);
  });

  test('rro makes submounts read-only too; plain ro only the top', () => {
    const { before, mounts } = withMounts(
      [
        { destination: '/rro', type: 'bind', source: tree, options: ['rbind', 'rro'] },
        { destination: '/ro', type: 'bind', source: tree, options: ['rbind', 'ro'] },
      ],
      'touch /rro/sub/x 2>&1; echo rro-rc=$?; touch /ro/sub/x && echo ro-sub-writable; touch /ro/x 2>&1; echo ro-rc=$?',
    );
    expect(before).toContain('rro-rc=1');
    expect(before).toContain('ro-sub-writable');
    expect(before).toContain('ro-rc=1');
    expect(mountAt(mounts, '/rro')!.options).toContain('ro');
    expect(mountAt(mounts, '/rro/sub')!.options).toContain('ro');
    expect(mountAt(mounts, '/ro/sub')!.options).toContain('rw');
  });

  test('rnosuid, rnodev, rnoexec reach submounts', () => {
    const { mounts } = withMounts([{ destination: '/rn', type: 'bind', source: tree, options: ['rbind', 'rnosuid', 'rnodev', 'rnoexec'] }]);
    expect(mountAt(mounts, '/rn/sub')!.options).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec']));
  });
});

/** A bundle whose rootfs is prepared by `prepare` before the run. */
function runPrepared(prepare: (rootfs: string) => void, script: string, mounts: Mount[]) {
  const bundleDir = box.bundle((s) => {
    s.mounts!.push(...mounts);
    addCapability(s, 'CAP_DAC_OVERRIDE'); // to read what the test made with other owners
    s.process!.args = ['sh', '-c', `${script}; echo '== mountinfo'; cat /proc/self/mountinfo`];
  });
  prepare(path.join(bundleDir, 'rootfs'));
  const r = box.run(bundleDir);
  return { ...r, bundleDir, mounts: parseMountinfo(sections(r.stdout).mountinfo ?? ''), before: r.stdout.split('== mountinfo')[0] };
}

describe('tmpcopyup', () => {
  function populate(rootfs: string) {
    const d = path.join(rootfs, 'data');
    fs.mkdirSync(path.join(d, 'sub', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(d, 'a'), 'alpha');
    fs.writeFileSync(path.join(d, 'sub', 'deeper', 'b'), 'beta');
    fs.chmodSync(path.join(d, 'a'), 0o640);
    fs.chownSync(path.join(d, 'a'), 1000, 1001);
    fs.chmodSync(path.join(d, 'sub'), 0o751);
    fs.chownSync(path.join(d, 'sub'), 12, 13);
    fs.symlinkSync('sub/deeper/b', path.join(d, 'lnk'));
    spawnSync('mkfifo', [path.join(d, 'fifo')]);
    fs.utimesSync(path.join(d, 'a'), 1000000000, 1000000000);
  }
  const show = 'cd /data && find . | sort && stat -c "%n %a %u:%g %F" a sub sub/deeper/b fifo lnk && stat -c "%Y" a && readlink lnk && cat a sub/deeper/b; echo';

  test('a tmpfs over a non-empty directory starts with a copy of it: contents, modes, owners, times, links', () => {
    const r = runPrepared(populate, `${show}; touch /data/new && echo writable`, [
      { destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] },
    ]);
    expect(r.stderr).toBe('');
    expect(r.before).toContain(['.', './a', './fifo', './lnk', './sub', './sub/deeper', './sub/deeper/b'].join('\n'));
    expect(r.before).toContain('a 640 1000:1001 regular file');
    expect(r.before).toContain('sub 751 12:13 directory');
    expect(r.before).toContain('fifo 644 0:0 fifo');
    expect(r.before).toContain('lnk 777 0:0 symbolic link');
    expect(r.before).toContain('\n1000000000\n');
    expect(r.before).toContain('sub/deeper/b\nalphabeta');
    expect(r.before).toContain('writable');
    expect(mountAt(r.mounts, '/data')!.fsType).toBe('tmpfs');
    // the copy went to the tmpfs, the directory underneath is untouched
    expect(fs.existsSync(path.join(r.bundleDir, 'rootfs', 'data', 'new'))).toBe(false);
  });

  test('tmpcopyup with ro: copied first, then read-only', () => {
    const r = runPrepared(populate, 'cat /data/a; echo; touch /data/x 2>&1', [
      { destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'ro'] },
    ]);
    expect(r.before).toContain('alpha');
    expect(r.before).toContain('Read-only file system');
    expect(mountAt(r.mounts, '/data')!.options).toContain('ro');
  });

  test('without tmpcopyup the tmpfs starts empty', () => {
    const r = runPrepared(populate, 'ls -A /data | wc -l', [{ destination: '/data', type: 'tmpfs', source: 'tmpfs' }]);
    expect(r.before.trim()).toBe('0');
  });
});

describe('destinations', () => {
  test('missing destination directories are created, nested', () => {
    const r = runPrepared(() => {}, 'ls -d /new/deep/er/dir', [{ destination: '/new/deep/er/dir', type: 'tmpfs', source: 'tmpfs' }]);
    expect(r.before).toContain('/new/deep/er/dir');
    expect(mountAt(r.mounts, '/new/deep/er/dir')).toBeDefined();
  });

  test('a destination with .. and // is cleaned and stays inside', () => {
    const r = runPrepared(() => {}, 'true', [{ destination: '//x/../../../y//z', type: 'tmpfs', source: 'tmpfs' }]);
    expect(r.status).toBe(0);
    expect(mountAt(r.mounts, '/y/z')).toBeDefined();
  });

  describe('symlinks in the rootfs cannot point a mount at the host', () => {
    let target: string;
    beforeEach(() => {
      // a host directory the rootfs's symlinks name; it must never receive anything
      target = fs.mkdtempSync('/tmp/tsrun-spec-evil-');
    });
    afterEach(() => {
      spawnSync('umount', ['-R', target]);
      fs.rmSync(target, { recursive: true, force: true });
    });

    test.each([
      ['absolute', (t: string) => t],
      ['relative with ..', (t: string) => `../../../../../../..${t}`],
    ])('%s symlink: tmpfs and bind land inside the rootfs', (_, linkTarget) => {
      const r = runPrepared(
        (rootfs) => {
          fs.symlinkSync(linkTarget(target), path.join(rootfs, 'evil'));
        },
        'echo ok',
        [
          { destination: '/evil/x', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/evil/y', type: 'bind', source: hostDir, options: ['bind'] },
          { destination: '/evil/z/file', type: 'bind', source: hostFile, options: ['bind'] },
        ],
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(fs.readdirSync(target)).toEqual([]);
      expect(hostMountsUnder(target)).toEqual([]);
      // created under the rootfs, where the link points to when / is the rootfs
      const inRoot = path.join(r.bundleDir, 'rootfs', target);
      expect(fs.readdirSync(inRoot).sort()).toEqual(['x', 'y', 'z']);
      expect(fs.statSync(path.join(inRoot, 'z', 'file')).isFile()).toBe(true);
      expect(mountAt(r.mounts, `${target}/x`)!.fsType).toBe('tmpfs');
      expect(mountAt(r.mounts, `${target}/y`)!.root).toBe(hostDir);
    });

    test('an existing symlink to a host directory that also exists in the rootfs resolves in the rootfs', () => {
      const r = runPrepared(
        (rootfs) => {
          fs.mkdirSync(path.join(rootfs, target), { recursive: true });
          fs.symlinkSync(target, path.join(rootfs, 'evil'));
        },
        'true',
        [{ destination: '/evil/x', type: 'tmpfs', source: 'tmpfs' }],
      );
      expect(r.status).toBe(0);
      expect(fs.readdirSync(target)).toEqual([]);
      expect(fs.existsSync(path.join(r.bundleDir, 'rootfs', target, 'x'))).toBe(true);
    });

    test('a symlink loop fails create with a message, nothing is mounted on the host', () => {
      const r = runPrepared(
        (rootfs) => {
          fs.symlinkSync('loop2', path.join(rootfs, 'loop1'));
          fs.symlinkSync('loop1', path.join(rootfs, 'loop2'));
        },
        'true',
        [{ destination: '/loop1/x', type: 'tmpfs', source: 'tmpfs' }],
      );
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/loop1|symlink/);
    });
  });
});
