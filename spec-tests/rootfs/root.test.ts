/**
 * The root filesystem as the container sees it: root.path (relative or absolute), pivot_root
 * and --no-pivot, root.readonly, and linux.rootfsPropagation.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox } from '../harness';
import { addCapability, inside, mountAt, parseMountinfo, runScript } from './util';

let box: Sandbox;
const origBundle = Sandbox.prototype.bundle;
beforeAll(() => {
  box = new Sandbox('rootfs-root');
  // every bundle gets a marker file in its rootfs, to tell which directory became /
  jest.spyOn(Sandbox.prototype, 'bundle').mockImplementation(function (this: Sandbox, edit, name) {
    const dir = origBundle.call(this, edit, name);
    fs.writeFileSync(path.join(dir, 'rootfs', 'marker'), 'relative');
    return dir;
  });
});
afterAll(() => box.cleanup());

const mountinfo = 'cat /proc/self/mountinfo';

test('root.path relative to the bundle: / is that directory, the host is out of sight', () => {
  const out = inside(box, `echo marker-$(cat /marker); ${mountinfo}; test -e ${box.dir} && echo host-visible; true`, (s) => {
    s.root!.path = 'rootfs';
  });
  expect(out).toContain('marker-relative');
  const mounts = parseMountinfo(out);
  expect(mounts.filter((m) => m.mountPoint === '/')).toHaveLength(1);
  // nothing under the old root is left: every mount point is inside the container
  expect(mounts.map((m) => m.mountPoint).filter((p) => p.startsWith(box.dir))).toEqual([]);
  expect(mountAt(mounts, '/')!.root).toMatch(/\/rootfs$/);
  // the sandbox directory on the host (holding the bundle) is not reachable
  expect(out).not.toContain('host-visible');
});

test('root.path absolute, outside the bundle', () => {
  const elsewhere = path.join(box.dir, 'elsewhere-rootfs');
  const bundleDir = box.bundle();
  fs.renameSync(path.join(bundleDir, 'rootfs'), elsewhere);
  fs.writeFileSync(path.join(elsewhere, 'marker'), 'absolute');
  const config = JSON.parse(fs.readFileSync(path.join(bundleDir, 'config.json'), 'utf8'));
  config.root.path = elsewhere;
  config.process.args = ['sh', '-c', `cat /marker; echo; ${mountinfo}`];
  fs.writeFileSync(path.join(bundleDir, 'config.json'), JSON.stringify(config));
  const r = box.run(bundleDir);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^absolute/);
  expect(mountAt(parseMountinfo(r.stdout), '/')!.root).toBe(elsewhere);
});

test('a missing root.path fails create with the path in the message', () => {
  const r = runScript(box, 'true', (s) => {
    s.root!.path = 'no-such-rootfs';
  });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('no-such-rootfs');
});

test('--no-pivot: the container still runs with / as its rootfs and no host mounts', () => {
  const out = inside(box, `cat /marker; echo; ${mountinfo}; echo data > /tmp/w && cat /tmp/w`, () => {}, ['--no-pivot']);
  expect(out).toMatch(/^relative/);
  const mounts = parseMountinfo(out);
  expect(mountAt(mounts, '/')!.root).toMatch(/\/rootfs$/);
  expect(mounts.map((m) => m.mountPoint).filter((p) => p.startsWith(box.dir))).toEqual([]);
  expect(out).toContain('data');
});

test('root.readonly: writing to / fails with EROFS, tmpfs mounts stay writable', () => {
  const out = inside(
    box,
    `touch /newfile 2>&1; echo rc=$?; touch /dev/shm/x && echo shm-ok; touch /tmp/t/x && echo tmp-ok; ${mountinfo}`,
    (s) => {
      s.root!.readonly = true;
      s.mounts!.push({ destination: '/tmp/t', type: 'tmpfs', source: 'tmpfs' });
    },
  );
  expect(out).toContain('Read-only file system');
  expect(out).toContain('rc=1');
  expect(out).toContain('shm-ok');
  expect(out).toContain('tmp-ok');
  expect(mountAt(parseMountinfo(out), '/')!.options).toContain('ro');
});

test('root.readonly false: / is writable', () => {
  const out = inside(box, `touch /newfile && echo ok; ${mountinfo}`, (s) => {
    s.root!.readonly = false;
  });
  expect(out).toMatch(/^ok/);
  expect(mountAt(parseMountinfo(out), '/')!.options).toContain('rw');
});

describe('linux.rootfsPropagation', () => {
  // A host mount made shared, holding the rootfs: what propagates in depends on the setting.
  let shared: string;
  beforeAll(() => {
    shared = path.join(box.dir, 'shared-mnt');
    fs.mkdirSync(shared);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', shared]).status).toBe(0);
    expect(spawnSync('mount', ['--make-shared', shared]).status).toBe(0);
  });
  afterAll(() => {
    spawnSync('umount', ['-R', shared]);
  });

  function rootfsOnSharedMount(name: string): string {
    const rootfs = path.join(shared, name);
    const b = box.bundle();
    expect(spawnSync('cp', ['-a', path.join(b, 'rootfs'), rootfs]).status).toBe(0);
    fs.mkdirSync(path.join(rootfs, 'mnt', 'late'), { recursive: true });
    return rootfs;
  }

  /** The runtime-tools check: rbind / elsewhere, then mount under /; does the copy see it? */
  const probe = [
    'mkdir -p /target /mount /test && touch /test/example',
    'mount --rbind / /target 2>&1; echo rbind=$?',
    'mount --bind /test /mount && ls /target/mount',
  ].join('; ');

  test('shared: / is shared inside, and binds of / see later mounts', () => {
    const out = inside(box, `${mountinfo}; echo ==; ${probe}`, (s) => {
      s.linux!.rootfsPropagation = 'shared';
      addCapability(s, 'CAP_SYS_ADMIN');
    });
    const root = mountAt(parseMountinfo(out), '/')!;
    expect(root.optional.some((o) => o.startsWith('shared:'))).toBe(true);
    expect(out).toContain('rbind=0');
    expect(out.split('==')[1]).toContain('example');
  });

  test('slave: / receives host mounts made under the rootfs later, and sends none back', () => {
    const rootfs = rootfsOnSharedMount('slave-rootfs');
    const bundleDir = box.bundle((s) => {
      s.root!.path = rootfs;
      s.linux!.rootfsPropagation = 'slave';
      s.process!.args = ['sh', '-c', `${mountinfo}; echo ==; while [ ! -e /mnt/late/ready ]; do sleep 0.05; done; cat /mnt/late/ready`];
    });
    const id = box.id();
    const c = box.create(bundleDir, id);
    expect(c.result.stderr).toBe('');
    expect(box.tsrun(['start', id]).status).toBe(0);
    // a mount made on the host after start shows up inside
    const late = path.join(rootfs, 'mnt', 'late');
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', late]).status).toBe(0);
    fs.writeFileSync(path.join(late, 'ready'), 'propagated');
    box.waitStatus(id, 'stopped');
    spawnSync('umount', [late]);
    const out = fs.readFileSync(c.out, 'utf8');
    expect(out).toContain('propagated');
    const root = mountAt(parseMountinfo(out), '/')!;
    expect(root.optional.some((o) => o.startsWith('master:'))).toBe(true);
    expect(root.optional.some((o) => o.startsWith('shared:'))).toBe(false);
  });

  test('slave is the default', () => {
    const rootfs = rootfsOnSharedMount('default-rootfs');
    const out = inside(box, mountinfo, (s) => {
      s.root!.path = rootfs;
      delete s.linux!.rootfsPropagation;
    });
    expect(mountAt(parseMountinfo(out), '/')!.optional.some((o) => o.startsWith('master:'))).toBe(true);
  });

  test('private: / has no propagation, a bind of / does not see later mounts', () => {
    const rootfs = rootfsOnSharedMount('private-rootfs');
    const out = inside(box, `${mountinfo}; echo ==; ${probe}`, (s) => {
      s.root!.path = rootfs;
      s.linux!.rootfsPropagation = 'private';
      addCapability(s, 'CAP_SYS_ADMIN');
    });
    expect(mountAt(parseMountinfo(out), '/')!.optional).toEqual([]);
    expect(out.split('==')[1]).not.toContain('example');
  });

  test('unbindable: / is unbindable, binding it fails with EINVAL', () => {
    const out = inside(box, `${mountinfo}; echo ==; mkdir /target; mount --rbind / /target 2>&1; echo rbind=$?`, (s) => {
      s.linux!.rootfsPropagation = 'unbindable';
      addCapability(s, 'CAP_SYS_ADMIN');
    });
    expect(mountAt(parseMountinfo(out), '/')!.optional).toContain('unbindable');
    expect(out).toContain('Invalid argument');
    expect(out).not.toContain("rbind=0");
  });

  test('--no-pivot works with every propagation', () => {
    for (const p of ['shared', 'slave', 'private', 'unbindable']) {
      const out = inside(box, 'cat /marker', (s) => {
        s.linux!.rootfsPropagation = p;
      }, ['--no-pivot']);
      expect(out).toBe('relative');
    }
  });
});
