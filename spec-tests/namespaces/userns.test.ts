/**
 * A new user namespace with several id ranges: the maps the process sees, the host owners of
 * files it creates, supplementary groups, and device nodes (bind-mounted from the host).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox, sh } from '../harness';
import type { Spec } from '../../src/spec/types';
import { hostNamespace, parseStatus } from '../process/observe';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('h3ns-user');
  // the mapped root (host uid 100000) must be able to reach the bundle, as under runc
  fs.chmodSync(box.dir, 0o711);
});
afterAll(() => box.cleanup());

const MAPS = [
  { containerID: 0, hostID: 100000, size: 1000 },
  { containerID: 1000, hostID: 200000, size: 10 },
];

/** A bundle in a new user namespace whose rootfs belongs to the mapped root. */
function userBundle(edit: (s: Spec) => void = () => {}): string {
  const bundle = box.bundle((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = MAPS;
    s.linux!.gidMappings = MAPS;
    edit(s);
  });
  const r = spawnSync('chown', ['-R', '100000:100000', path.join(bundle, 'rootfs')]);
  if (r.status !== 0) throw new Error(`chown rootfs: ${r.stderr}`);
  return bundle;
}

function run(bundle: string): string {
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

const fields = (text: string) => text.trim().split('\n').map((l) => l.trim().split(/\s+/));

test('uid_map and gid_map show every configured range', () => {
  const out = run(userBundle((s) => (s.process!.args = sh('cat /proc/self/uid_map; echo --; cat /proc/self/gid_map'))));
  const [uid, gid] = out.split('--\n');
  const expected = MAPS.map((m) => [String(m.containerID), String(m.hostID), String(m.size)]);
  expect(fields(uid)).toEqual(expected);
  expect(fields(gid)).toEqual(expected);
});

test('the process is in a new user namespace, is its root and has the configured capabilities', () => {
  const out = run(userBundle((s) => (s.process!.args = sh('readlink /proc/self/ns/user; id -u; id -g; cat /proc/self/status'))));
  const [link, uid, gid, ...status] = out.split('\n');
  expect(link).not.toBe(hostNamespace('self', 'user'));
  expect([uid, gid]).toEqual(['0', '0']);
  const st = parseStatus(status.join('\n'));
  // the default config's three capabilities, now relative to the namespace
  expect(st.CapEff).toBe('0000000020000420');
});

test('files created inside are owned by the mapped host ids, for both ranges', () => {
  const bundle = userBundle((s) => {
    s.process!.args = ['touch', '/tmp/by-root'];
  });
  run(bundle);
  const st = fs.statSync(path.join(bundle, 'rootfs/tmp/by-root'));
  expect([st.uid, st.gid]).toEqual([100000, 100000]);

  const second = userBundle((s) => {
    s.process!.user = { uid: 1005, gid: 1003 };
    s.process!.args = sh('id -u; id -g; touch /tmp/by-user');
  });
  expect(run(second)).toBe('1005\n1003\n');
  const st2 = fs.statSync(path.join(second, 'rootfs/tmp/by-user'));
  expect([st2.uid, st2.gid]).toEqual([200005, 200003]);
});

test('a host file owned by an unmapped id shows as the overflow id', () => {
  const bundle = userBundle((s) => (s.process!.args = sh('stat -c "%u %g" /etc/unmapped')));
  const file = path.join(bundle, 'rootfs/etc/unmapped');
  fs.writeFileSync(file, '');
  fs.chownSync(file, 5, 5);
  expect(run(bundle)).toBe('65534 65534\n');
});

test('setgroups is allowed (tsrun runs as root) and additionalGids apply inside the namespace', () => {
  const out = run(
    userBundle((s) => {
      s.process!.user = { uid: 1001, gid: 1001, additionalGids: [5, 1002] };
      s.process!.args = sh('cat /proc/self/setgroups; id -G');
    }),
  );
  const [setgroups, groups] = out.trim().split('\n');
  expect(setgroups).toBe('allow');
  expect(groups.split(' ').map(Number).sort((a, b) => a - b)).toEqual([5, 1001, 1002]);
});

test('device nodes are the host\'s, bind-mounted, and work', () => {
  const out = run(
    userBundle((s) => {
      s.process!.args = sh(
        'echo data > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1; grep -c " /dev/null " /proc/self/mountinfo; stat -c "%t,%T %F" /dev/null /dev/zero /dev/urandom /dev/tty',
      );
    }),
  );
  const lines = out.trim().split('\n');
  expect(lines[0]).toBe('null-ok');
  expect(lines[1].trim()).toBe('00 00 00 00');
  expect(lines[2]).toBe('1'); // a mount point: bound from the host, since mknod is refused here
  expect(lines.slice(3)).toEqual(['1,3 character special file', '1,5 character special file', '1,9 character special file', '5,0 character special file']);
});

test('a container without a user namespace sees the host mapping', () => {
  const bundle = box.bundle((s) => (s.process!.args = ['cat', '/proc/self/uid_map']));
  const r = box.run(bundle);
  expect(fields(r.stdout)).toEqual([['0', '0', '4294967295']]);
});
