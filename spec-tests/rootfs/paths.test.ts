/**
 * What the container is kept from or told: maskedPaths, readonlyPaths, hostname/domainname and
 * linux.sysctl, checked from inside.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Spec } from '../../src/spec/types';
import { Sandbox } from '../harness';
import { inside, leftovers, mountAt, NOTHING_LEFT, parseMountinfo, sections } from './util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('rootfs-paths');
});
afterAll(() => box.cleanup());

/** A bundle with some files in its rootfs; returns run output. */
function runWithFiles(script: string, edit: (s: Spec) => void) {
  const b = box.bundle((s) => {
    s.process!.args = ['sh', '-c', `${script}; echo '== mountinfo'; cat /proc/self/mountinfo`];
    edit(s);
  });
  const root = path.join(b, 'rootfs');
  fs.writeFileSync(path.join(root, 'etc', 'secret'), 'top secret');
  fs.mkdirSync(path.join(root, 'secrets'));
  fs.writeFileSync(path.join(root, 'secrets', 'key'), 'k');
  fs.mkdirSync(path.join(root, 'data'));
  fs.writeFileSync(path.join(root, 'data', 'f'), 'f');
  return box.run(b);
}

describe('maskedPaths', () => {
  test('a masked file reads empty (bound from /dev/null), a masked directory lists empty and is read-only', () => {
    const r = runWithFiles('echo "[$(cat /etc/secret)]"; echo "[$(ls -A /secrets)]"; touch /secrets/x 2>&1; cat /proc/kcore 2>&1 | head -c 1 | wc -c', (s) => {
      s.linux!.maskedPaths = ['/etc/secret', '/secrets', '/does/not/exist'];
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('[]\n[]\n');
    expect(r.stdout).toContain('Read-only file system');
    const mounts = parseMountinfo(sections(r.stdout).mountinfo);
    expect(mountAt(mounts, '/etc/secret')!.root).toBe('/null');
    const dir = mountAt(mounts, '/secrets')!;
    expect(dir.fsType).toBe('tmpfs');
    expect(dir.options).toContain('ro');
  });

  test('the default masked /proc files are masked', () => {
    const out = inside(box, 'for f in /proc/keys /proc/timer_list; do echo "$f=[$(cat $f)]"; done; ls -A /sys/firmware | wc -l');
    expect(out).toContain('/proc/keys=[]');
    expect(out).toContain('/proc/timer_list=[]');
    expect(out).toMatch(/^0$/m);
  });
});

describe('readonlyPaths', () => {
  test('writes fail under a read-only path, reads work, the rest stays writable', () => {
    const r = runWithFiles('cat /data/f; echo; touch /data/g 2>&1; echo x > /data/f 2>&1 || echo rc=$?; touch /etc/ok && echo other-writable', (s) => {
      s.linux!.readonlyPaths = ['/data', '/not/there'];
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^f$/m);
    expect(r.stdout).toContain('Read-only file system');
    expect(r.stdout).toContain('other-writable');
    expect(mountAt(parseMountinfo(sections(r.stdout).mountinfo), '/data')!.options).toContain('ro');
  });

  test('the default read-only /proc paths refuse writes', () => {
    // each write is of the current value, harmless should the path be writable after all
    const write = (f: string) => `v=$(cat ${f}); (echo "$v" > ${f}) 2>&1`;
    const out = inside(box, `${write('/proc/sys/kernel/panic')}; ${write('/proc/irq/default_smp_affinity')}; true`);
    expect(out.match(/Read-only file system/g)?.length).toBe(2);
  });
});

describe('hostname and domainname', () => {
  test('set in the new uts namespace, the host keeps its own', () => {
    const hostBefore = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8');
    const out = inside(box, 'hostname; cat /proc/sys/kernel/domainname', (s) => {
      s.hostname = 'box-host';
      s.domainname = 'box.domain';
    });
    expect(out).toBe('box-host\nbox.domain\n');
    expect(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8')).toBe(hostBefore);
  });

  test('hostname without a uts namespace is refused by validation', () => {
    const id = box.id();
    const b = box.bundle((s) => {
      s.hostname = 'nope';
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts');
    });
    const r = box.run(b, id);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/hostname.*uts/);
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });
});

describe('linux.sysctl', () => {
  test('net.ipv4.ip_forward=1 in a new network namespace: visible inside, host unchanged', () => {
    const host = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const out = inside(box, 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni', (s) => {
      s.linux!.sysctl = { 'net.ipv4.ip_forward': host.trim() === '1' ? '0' : '1', 'kernel/shmmni': '1234' };
    });
    expect(out).toBe(`${host.trim() === '1' ? '0' : '1'}\n1234\n`);
    expect(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(host);
  });

  test('a sysctl of a namespace the container shares with the host is refused with a clear message', () => {
    const id = box.id();
    const b = box.bundle((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    const r = box.run(b, id);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" requires a new network namespace');
    expect(leftovers(box, id)).toEqual(NOTHING_LEFT);
  });

  test('a host-wide sysctl is refused', () => {
    const b = box.bundle((s) => {
      s.linux!.sysctl = { 'vm.swappiness': '10' };
    });
    const r = box.run(b);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('is not in a separate kernel namespace');
  });
});
