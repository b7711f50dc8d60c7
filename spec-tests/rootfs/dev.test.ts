/**
 * /dev as the container sees it: the tmpfs with the default nodes and links, /dev/pts and
 * /dev/shm, and linux.devices (char, block, fifo with fileMode/uid/gid).
 */
import { Sandbox } from '../harness';
import { inside, mountAt, parseMountinfo, runScript, sections } from './util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('rootfs-dev');
});
afterAll(() => box.cleanup());

/** `stat` of each path: "type major:minor mode uid:gid" with major/minor in decimal. */
function parseStat(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.trim().split('\n')) {
    const [name, type, major, minor, mode, uid, gid] = line.split('|');
    const dev = type.includes('special') ? ` ${parseInt(major, 16)}:${parseInt(minor, 16)}` : '';
    out[name] = `${type}${dev} ${mode} ${uid}:${gid}`;
  }
  return out;
}
const statCmd = (paths: string[]) => `stat -c '%n|%F|%t|%T|%a|%u|%g' ${paths.join(' ')}`;

test('default nodes: char devices with the right numbers, mode 0666, owned by root', () => {
  const nodes = ['null', 'zero', 'full', 'random', 'urandom', 'tty'].map((n) => `/dev/${n}`);
  const out = inside(box, `echo '== stat'; ${statCmd(nodes)}; echo '== mountinfo'; cat /proc/self/mountinfo`);
  const st = parseStat(sections(out).stat);
  expect(st).toEqual({
    '/dev/null': 'character special file 1:3 666 0:0',
    '/dev/zero': 'character special file 1:5 666 0:0',
    '/dev/full': 'character special file 1:7 666 0:0',
    '/dev/random': 'character special file 1:8 666 0:0',
    '/dev/urandom': 'character special file 1:9 666 0:0',
    '/dev/tty': 'character special file 5:0 666 0:0',
  });
  const dev = mountAt(parseMountinfo(sections(out).mountinfo), '/dev')!;
  expect(dev.fsType).toBe('tmpfs');
});

test('the nodes work: null swallows, zero reads zeros, full is full', () => {
  const out = inside(box, 'echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1; (echo x > /dev/full) 2>&1; head -c 8 /dev/urandom | wc -c');
  expect(out).toContain('null-ok');
  expect(out).toContain('00 00 00 00');
  expect(out).toContain('No space left on device');
  expect(out).toMatch(/^8$/m);
});

test('links: ptmx -> pts/ptmx, fd -> /proc/self/fd, stdin/stdout/stderr', () => {
  const links = ['ptmx', 'fd', 'stdin', 'stdout', 'stderr'];
  const out = inside(box, links.map((l) => `echo ${l}=$(readlink /dev/${l})`).join('; '));
  expect(out).toContain('ptmx=pts/ptmx\n');
  expect(out).toContain('fd=/proc/self/fd\n');
  expect(out).toContain('stdin=/proc/self/fd/0\n');
  expect(out).toContain('stdout=/proc/self/fd/1\n');
  expect(out).toContain('stderr=/proc/self/fd/2\n');
});

test('/dev/pts/ptmx is usable (mode 0666) and /dev/shm is a writable tmpfs', () => {
  const out = inside(box, `${statCmd(['/dev/pts/ptmx'])}; echo x > /dev/shm/f && echo shm-ok; echo '== mountinfo'; cat /proc/self/mountinfo`);
  expect(out).toMatch(/^\/dev\/pts\/ptmx\|character special file\|5\|2\|666\|/m);
  expect(out).toContain('shm-ok');
  const mounts = parseMountinfo(sections(out).mountinfo);
  expect(mountAt(mounts, '/dev/shm')!.fsType).toBe('tmpfs');
  expect(mountAt(mounts, '/dev/pts')!.fsType).toBe('devpts');
});

test('linux.devices: char, block and fifo with fileMode, uid and gid', () => {
  const out = inside(
    box,
    `${statCmd(['/dev/fuse', '/dev/myblk', '/dev/fifo', '/dev/sub/dir/c'])}; echo hi > /dev/fifo & cat /dev/fifo`,
    (s) => {
      s.linux!.devices = [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o640, uid: 1000, gid: 1001 },
        { path: '/dev/myblk', type: 'b', major: 7, minor: 200, fileMode: 0o600, uid: 0, gid: 6 },
        { path: '/dev/fifo', type: 'p', fileMode: 0o666 },
        { path: '/dev/sub/dir/c', type: 'c', major: 1, minor: 3 },
      ];
      s.process!.capabilities!.effective!.push('CAP_DAC_OVERRIDE');
      s.process!.capabilities!.permitted!.push('CAP_DAC_OVERRIDE');
      s.process!.capabilities!.bounding!.push('CAP_DAC_OVERRIDE');
    },
  );
  const st = parseStat(out.split('\n').filter((l) => l.includes('|')).join('\n'));
  expect(st['/dev/fuse']).toBe('character special file 10:229 640 1000:1001');
  expect(st['/dev/myblk']).toBe('block special file 7:200 600 0:6');
  expect(st['/dev/fifo']).toBe('fifo 666 0:0');
  // the default mode when none is given, and parents created
  expect(st['/dev/sub/dir/c']).toBe('character special file 1:3 666 0:0');
  expect(out).toContain('hi');
});

test('linux.devices can replace a default node', () => {
  const out = inside(box, statCmd(['/dev/null']), (s) => {
    s.linux!.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600 }];
  });
  expect(out).toContain('/dev/null|character special file|1|3|600|0|0');
});

test('an unknown device type is rejected with the path of the entry', () => {
  const r = runScript(box, 'true', (s) => {
    s.linux!.devices = [{ path: '/dev/x', type: 'q' as 'c', major: 1, minor: 1 }];
  });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('linux.devices[0].type');
});

test('a bind-mounted /dev is left alone: no default nodes or links are made', () => {
  const out = inside(box, 'ls -l /dev/null; readlink /dev/fd || echo no-fd-link', (s) => {
    s.mounts = s.mounts!.filter((m) => !m.destination.startsWith('/dev'));
    s.mounts.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind', 'nosuid', 'noexec'] });
  });
  // the host's node, not one made by tsrun
  expect(out).toMatch(/^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 /m);
});
