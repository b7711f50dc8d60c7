/**
 * Id-mapped bind mounts (the `idmap` and `ridmap` options, a mount's own uidMappings and
 * gidMappings). Direction, as runc and the runtime-spec have it: an id stored on disk equal to a
 * mapping's containerID is seen through the mount as its hostID (then through the container's
 * user namespace, if any), and an id written through the mount is stored back as the
 * containerID.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { LinuxIDMapping, Mount, Spec } from '../../src/spec/types';
import { Sandbox } from '../harness';
import { inside, leftovers, mountAt, NOTHING_LEFT, parseMountinfo, runScript, sections } from './util';

const OVERFLOW = Number(fs.readFileSync('/proc/sys/kernel/overflowuid', 'utf8'));

let box: Sandbox;
let data: string; // owned-1000 (1000:1000), owned-0 (0:0), owned-1001 (1001:1002), w/ (1000:1000)
// tree/top (1000:1000) and a tmpfs at tree/sub holding sub/inner (1000:1000); outside the sandbox,
// whose leftover check looks for mounts
let tree: string;
beforeAll(() => {
  box = new Sandbox('idmap');
  // a container's mapped root (host 100000) must reach the bundles, as under runc
  fs.chmodSync(box.dir, 0o711);
  data = path.join(box.dir, 'data');
  fs.mkdirSync(data);
  fs.chmodSync(data, 0o777);
  const own = (p: string, uid: number, gid: number) => {
    fs.writeFileSync(p, '');
    fs.chownSync(p, uid, gid);
  };
  own(path.join(data, 'owned-1000'), 1000, 1000);
  own(path.join(data, 'owned-0'), 0, 0);
  own(path.join(data, 'owned-1001'), 1001, 1002);
  fs.mkdirSync(path.join(data, 'w'));
  fs.chownSync(path.join(data, 'w'), 1000, 1000);

  tree = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-spec-idmap-tree-'));
  fs.chmodSync(tree, 0o755); // its owner (0 on disk) is unmapped through the mount
  fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
  own(path.join(tree, 'top'), 1000, 1000);
  expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(tree, 'sub')]).status).toBe(0);
  own(path.join(tree, 'sub', 'inner'), 1000, 1000);
});
afterAll(() => {
  spawnSync('umount', ['-l', path.join(tree, 'sub')]);
  fs.rmSync(tree, { recursive: true, force: true });
  box.cleanup();
});

const one = (containerID: number, hostID: number, size = 1): LinuxIDMapping[] => [{ containerID, hostID, size }];

/** stat owners as "name uid:gid" lines, for each path. */
const statScript = (...paths: string[]) => paths.map((p) => `stat -c '%n %u:%g' ${p}`).join('; ');

function owners(out: string): Record<string, string> {
  const res: Record<string, string> = {};
  for (const line of out.trim().split('\n')) {
    const m = /^(\S+) (\d+:\d+)$/.exec(line);
    if (m) res[m[1]] = m[2];
  }
  return res;
}

const ids = (p: string) => {
  const st = fs.statSync(p);
  return `${st.uid}:${st.gid}`;
};

/** A bundle in a new user namespace mapping 0..65535 to host 100000.., rootfs owned to match. */
function userBundle(edit: (s: Spec) => void): string {
  const bundle = box.bundle((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = one(0, 100000, 65536);
    s.linux!.gidMappings = one(0, 100000, 65536);
    edit(s);
  });
  const r = spawnSync('chown', ['-R', '100000:100000', path.join(bundle, 'rootfs')]);
  if (r.status !== 0) throw new Error(`chown rootfs: ${r.stderr}`);
  return bundle;
}

describe('a mount with its own mappings, no user namespace', () => {
  test('an id stored as containerID is seen as hostID; unmapped ids are the overflow id', () => {
    const out = inside(
      box,
      statScript('/m/owned-1000', '/m/owned-0', '/m/owned-1001', '/r/owned-0', '/r/owned-1000') + "; echo '== mountinfo'; cat /proc/self/mountinfo",
      (s) => {
        s.mounts!.push(
          { destination: '/m', type: 'bind', source: data, options: ['bind', 'idmap'], uidMappings: one(1000, 0), gidMappings: one(1000, 0) },
          { destination: '/r', type: 'bind', source: data, options: ['bind'], uidMappings: one(0, 1000), gidMappings: one(0, 1000) },
        );
      },
    );
    expect(owners(out)).toEqual({
      '/m/owned-1000': '0:0',
      '/m/owned-0': `${OVERFLOW}:${OVERFLOW}`,
      '/m/owned-1001': `${OVERFLOW}:${OVERFLOW}`,
      // mappings without the option still id-map the bind, as in runc
      '/r/owned-0': '1000:1000',
      '/r/owned-1000': `${OVERFLOW}:${OVERFLOW}`,
    });
    const mounts = parseMountinfo(sections(out).mountinfo);
    expect(mountAt(mounts, '/m')!.options).toContain('idmapped');
    expect(mountAt(mounts, '/r')!.options).toContain('idmapped');
  });

  test('separate uid and gid ranges', () => {
    const out = inside(box, statScript('/m/owned-1001'), (s) => {
      s.mounts!.push({ destination: '/m', type: 'bind', source: data, options: ['bind', 'idmap'], uidMappings: one(1000, 5000, 10), gidMappings: one(1002, 7000) });
    });
    expect(owners(out)).toEqual({ '/m/owned-1001': '5001:7000' });
  });

  test('files made through the mount are stored as the mapped on-disk ids', () => {
    // w/ is 1000:1000 on disk, so root inside owns it (no CAP_DAC_OVERRIDE in the default config)
    const out = inside(box, `touch /m/w/made-inside && mkdir /m/w/dir-inside && ${statScript('/m/w', '/m/w/made-inside', '/m/w/dir-inside')}`, (s) => {
      s.mounts!.push({ destination: '/m', type: 'bind', source: data, options: ['bind', 'idmap'], uidMappings: one(1000, 0), gidMappings: one(1000, 0) });
    });
    expect(owners(out)).toEqual({ '/m/w': '0:0', '/m/w/made-inside': '0:0', '/m/w/dir-inside': '0:0' });
    expect(ids(path.join(data, 'w', 'made-inside'))).toBe('1000:1000');
    expect(ids(path.join(data, 'w', 'dir-inside'))).toBe('1000:1000');
  });

  test('a directory whose owner has no mapping cannot be written through the mount', () => {
    // the kernel refuses writes to an inode whose ids it could not store back (EACCES)
    const out = inside(box, 'touch /m/in-unmapped-dir 2>&1; echo rc=$?', (s) => {
      s.mounts!.push({ destination: '/m', type: 'bind', source: data, options: ['bind', 'idmap'], uidMappings: one(1000, 0), gidMappings: one(1000, 0) });
    });
    expect(out).toContain('Permission denied');
    expect(fs.existsSync(path.join(data, 'in-unmapped-dir'))).toBe(false);
  });

  test('a writer whose id has no mapping cannot create files (EOVERFLOW)', () => {
    const r = runScript(box, 'touch /m/unmapped-writer 2>&1; echo rc=$?', (s) => {
      s.mounts!.push({ destination: '/m', type: 'bind', source: data, options: ['bind', 'idmap'], uidMappings: one(0, 1000), gidMappings: one(0, 1000) });
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Value too large');
    expect(fs.existsSync(path.join(data, 'unmapped-writer'))).toBe(false);
  });

  test('other options still apply: ro, and a single file', () => {
    const out = inside(box, `touch /m/x 2>&1; ${statScript('/f')}`, (s) => {
      s.mounts!.push(
        { destination: '/m', type: 'bind', source: data, options: ['bind', 'idmap', 'ro'], uidMappings: one(1000, 0), gidMappings: one(1000, 0) },
        { destination: '/f', type: 'bind', source: path.join(data, 'owned-1001'), options: ['bind', 'idmap'], uidMappings: one(1001, 7), gidMappings: one(1002, 8) },
      );
    });
    expect(out).toContain('Read-only file system');
    expect(owners(out)).toEqual({ '/f': '7:8' });
  });
});

describe('submounts of an rbind', () => {
  const mount = (option: string): Mount => ({
    destination: '/t',
    type: 'bind',
    source: tree,
    options: ['rbind', option],
    uidMappings: one(1000, 0),
    gidMappings: one(1000, 0),
  });

  test('idmap maps only the top mount; the submount keeps its ids', () => {
    const out = inside(box, statScript('/t/top', '/t/sub/inner'), (s) => s.mounts!.push(mount('idmap')));
    expect(owners(out)).toEqual({ '/t/top': '0:0', '/t/sub/inner': '1000:1000' });
  });

  test('ridmap maps the submounts too', () => {
    const out = inside(box, statScript('/t/top', '/t/sub/inner') + "; echo '== mountinfo'; cat /proc/self/mountinfo", (s) => s.mounts!.push(mount('ridmap')));
    expect(owners(out)).toEqual({ '/t/top': '0:0', '/t/sub/inner': '0:0' });
    const mounts = parseMountinfo(sections(out).mountinfo);
    expect(mountAt(mounts, '/t/sub')!.options).toContain('idmapped');
  });
});

describe('in a container with its own user namespace', () => {
  test('idmap without mappings takes the container\'s: host root files are root inside, and stay root on disk', () => {
    const bundle = userBundle((s) => {
      s.process!.args = ['sh', '-c', `${statScript('/m/owned-0', '/plain/owned-0')}; touch /m/by-container-root && ${statScript('/m/by-container-root')}`];
      s.mounts!.push(
        { destination: '/m', type: 'bind', source: data, options: ['bind', 'idmap'] },
        { destination: '/plain', type: 'bind', source: data, options: ['bind'] },
      );
    });
    const r = box.run(bundle);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(owners(r.stdout)).toEqual({
      '/m/owned-0': '0:0',
      '/plain/owned-0': `${OVERFLOW}:${OVERFLOW}`,
      '/m/by-container-root': '0:0',
    });
    expect(ids(path.join(data, 'by-container-root'))).toBe('0:0');
  });

  test('a mount\'s own mappings lead to host ids, which the user namespace then maps', () => {
    const bundle = userBundle((s) => {
      s.process!.args = ['sh', '-c', statScript('/m/owned-1000')];
      // on disk 1000 -> host 100007 -> container 7
      s.mounts!.push({ destination: '/m', type: 'bind', source: data, options: ['bind', 'idmap'], uidMappings: one(1000, 100007), gidMappings: one(1000, 100009) });
    });
    const r = box.run(bundle);
    expect(r.stderr).toBe('');
    expect(owners(r.stdout)).toEqual({ '/m/owned-1000': '7:9' });
  });

  test('a joined user namespace (by path) supplies the mapping', () => {
    const holderId = box.id();
    const holder = userBundle((s) => (s.process!.args = ['sleep', '60']));
    const created = box.create(holder, holderId);
    expect(created.result.stderr).toBe('');
    const pid = box.state(holderId).pid;
    const bundle = box.bundle((s) => {
      s.linux!.namespaces!.push({ type: 'user', path: `/proc/${pid}/ns/user` });
      s.process!.args = ['sh', '-c', statScript('/m/owned-0', '/m/owned-1000')];
      s.mounts!.push({ destination: '/m', type: 'bind', source: data, options: ['bind', 'idmap'] });
    });
    spawnSync('chown', ['-R', '100000:100000', path.join(bundle, 'rootfs')]);
    const r = box.run(bundle);
    expect(r.stderr).toBe('');
    expect(owners(r.stdout)).toEqual({ '/m/owned-0': '0:0', '/m/owned-1000': '1000:1000' });
    box.tsrun(['delete', '--force', holderId]);
  });
});

describe('errors', () => {
  test('idmap on a mount that is not a bind is refused, naming the mount', () => {
    let index = -1;
    const r = runScript(box, 'true', (s) => {
      index = s.mounts!.length;
      s.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], uidMappings: one(0, 1000), gidMappings: one(0, 1000) });
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`mounts[${index}]: id-mapped mounts are only supported for bind mounts`);
  });

  test('a source that cannot be id-mapped fails create with the mount named, and nothing is left', () => {
    const id = box.id();
    let index = -1;
    const bundle = box.bundle((s) => {
      index = s.mounts!.length;
      s.mounts!.push({ destination: '/m', type: 'bind', source: path.join(box.dir, 'no-such-dir'), options: ['bind', 'idmap'], uidMappings: one(0, 1000), gidMappings: one(0, 1000) });
    });
    const r = box.run(bundle, id);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`mounts[${index}]: id-mapped mount of ${path.join(box.dir, 'no-such-dir')} on /m: open_tree`);
    expect(r.stderr).toContain('No such file or directory');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a filesystem without id-mapped mount support gives a clear error', () => {
    const id = box.id();
    const r = box.run(
      box.bundle((s) => s.mounts!.push({ destination: '/m', type: 'bind', source: '/proc/sys', options: ['bind', 'idmap'], uidMappings: one(0, 1000), gidMappings: one(0, 1000) })),
      id,
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/mounts\[\d+\]: id-mapped mount of \/proc\/sys on \/m: id-map \/proc\/sys: Invalid argument \(does its filesystem support id-mapped mounts\?\)/);
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });
});
