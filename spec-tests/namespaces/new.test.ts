/** Namespaces the container creates, seen from inside against the host's. */
import * as fs from 'fs';
import { Sandbox, sh } from '../harness';
import type { Spec } from '../../src/spec/types';
import { hostNamespace, keyValues } from '../process/observe';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('h3ns-new');
});
afterAll(() => box.cleanup());

const NS_LINKS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'];
const hasTimeNs = fs.existsSync('/proc/self/ns/time');

function inside(edit: (s: Spec) => void, script: string): string {
  const bundle = box.bundle((s) => {
    edit(s);
    s.process!.args = sh(script);
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** ns type → "type:[inode]" as the container sees its own namespaces. */
function containerNamespaces(edit: (s: Spec) => void = () => {}): Record<string, string> {
  const links = NS_LINKS.filter((t) => fs.existsSync(`/proc/self/ns/${t}`));
  return keyValues(inside(edit, links.map((t) => `echo ${t}=$(readlink /proc/self/ns/${t})`).join('; ')));
}

test('the default config gets new pid, net, ipc, uts, mount and cgroup namespaces and shares user and time', () => {
  const ns = containerNamespaces();
  for (const t of ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup']) {
    expect(ns[t]).toMatch(new RegExp(`^${t}:\\[\\d+\\]$`));
    expect(ns[t]).not.toBe(hostNamespace('self', t));
  }
  expect(ns.user).toBe(hostNamespace('self', 'user'));
  if (hasTimeNs) expect(ns.time).toBe(hostNamespace('self', 'time'));
});

test('a namespace left out of the config is the host\'s', () => {
  const ns = containerNamespaces((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network' && n.type !== 'ipc');
  });
  expect(ns.net).toBe(hostNamespace('self', 'net'));
  expect(ns.ipc).toBe(hostNamespace('self', 'ipc'));
  expect(ns.pid).not.toBe(hostNamespace('self', 'pid'));
});

test('pid namespace: the process is pid 1 and sees only its own processes', () => {
  const out = inside(() => {}, 'echo $$; sleep 0.01 & ls -d /proc/[0-9]*; wait');
  const [pid, ...procs] = out.trim().split('\n');
  expect(pid).toBe('1');
  // sh, the background sleep and ls itself: small pids, nothing of the host
  const pids = procs.map((p) => Number(p.slice('/proc/'.length)));
  expect(pids).toContain(1);
  expect(pids.length).toBeLessThanOrEqual(3);
  expect(Math.max(...pids)).toBeLessThan(10);
});

test('uts namespace: hostname and domainname from the config; the host keeps its own', () => {
  const hostName = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8');
  const out = inside(
    (s) => {
      s.hostname = 'h3-box';
      s.domainname = 'h3.example';
    },
    'hostname; cat /proc/sys/kernel/domainname',
  );
  expect(out).toBe('h3-box\nh3.example\n');
  expect(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8')).toBe(hostName);
});

test('uts namespace without hostname keeps the host name (as runc)', () => {
  const hostName = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8');
  const out = inside((s) => delete s.hostname, 'cat /proc/sys/kernel/hostname');
  expect(out).toBe(hostName);
});

test('ipc namespace: System V objects of the host are not visible', () => {
  const out = inside(() => {}, 'cat /proc/sysvipc/shm /proc/sysvipc/sem /proc/sysvipc/msg | grep -vc "^ *key"; true');
  expect(out.trim()).toBe('0');
});

test('network namespace: only a loopback interface, and it is down', () => {
  const out = inside(() => {}, 'ls /sys/class/net; ip -o link');
  const lines = out.trim().split('\n');
  expect(lines[0]).toBe('lo');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatch(/^1: lo: <LOOPBACK>/);
});

test('cgroup namespace: the container cgroup is its root; without one the host path shows', () => {
  const withNs = inside(() => {}, 'cat /proc/self/cgroup');
  for (const line of withNs.trim().split('\n')) expect(line).toMatch(/:\/$/);
  const id = box.id();
  const bundle = box.bundle((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
    s.process!.args = ['cat', '/proc/self/cgroup'];
  });
  const r = box.run(bundle, id);
  expect(r.stdout).toContain(`/${id}\n`);
});

(hasTimeNs ? test : test.skip)('time namespace: timeOffsets shift the boottime and monotonic clocks', () => {
  const shift = 10 * 86400;
  const before = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const out = inside(
    (s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { monotonic: { secs: shift, nanosecs: 0 }, boottime: { secs: shift, nanosecs: 500 } };
    },
    'cat /proc/self/timens_offsets; cut -d" " -f1 /proc/uptime; readlink /proc/self/ns/time',
  );
  const after = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const lines = out.trim().split('\n');
  expect(lines.slice(0, 2).map((l) => l.trim().split(/\s+/))).toEqual([
    ['monotonic', String(shift), '0'],
    ['boottime', String(shift), '500'],
  ]);
  const uptime = Number(lines[2]);
  expect(uptime).toBeGreaterThanOrEqual(before + shift);
  expect(uptime).toBeLessThanOrEqual(after + shift + 1);
  expect(lines[3]).not.toBe(hostNamespace('self', 'time'));
});

(hasTimeNs ? test : test.skip)('time namespace without offsets starts at zero offsets', () => {
  const out = inside((s) => s.linux!.namespaces!.push({ type: 'time' }), 'cat /proc/self/timens_offsets');
  expect(out.trim().split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
    ['monotonic', '0', '0'],
    ['boottime', '0', '0'],
  ]);
});
