/** Joining existing namespaces by path: a named network namespace and another container's pid namespace. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { Sandbox, sh } from '../harness';
import { hostNamespace } from '../process/observe';

let box: Sandbox;
const netnsName = `tsrun-test-${process.pid}`;
const netnsPath = `/run/netns/${netnsName}`;

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

beforeAll(() => {
  box = new Sandbox('h3ns-join');
  ip('netns', 'add', netnsName);
  // something only this namespace has, to recognise it from inside (no dummy/veth modules here)
  ip('-n', netnsName, 'addr', 'add', '10.213.7.9/32', 'dev', 'lo');
});
afterAll(() => {
  box.cleanup();
  spawnSync('ip', ['netns', 'del', netnsName]);
});

test('a network namespace joined by path is the one the container sees', () => {
  const bundle = box.bundle((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: netnsPath } : n));
    s.process!.args = sh('readlink /proc/self/ns/net; ip -o -4 addr show dev lo');
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  const [link, loAddrs] = r.stdout.split('\n');
  expect(link).toBe(`net:[${fs.statSync(netnsPath).ino}]`);
  expect(link).not.toBe(hostNamespace('self', 'net'));
  expect(loAddrs).toContain('inet 10.213.7.9/32');
});

test('joining a namespace path that does not exist fails create and leaves no state', () => {
  const bundle = box.bundle((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/tsrun-no-such-ns' } : n));
    s.process!.args = ['true'];
  });
  const id = box.id();
  const r = box.run(bundle, id);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('/run/netns/tsrun-no-such-ns');
  expect(box.tsrun(['state', id]).status).not.toBe(0);
});

test('joining a path of the wrong namespace type fails create', () => {
  const bundle = box.bundle((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'ipc' ? { type: 'ipc', path: netnsPath } : n));
    s.process!.args = ['true'];
  });
  const r = box.run(bundle);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/ipc namespace/);
});

test("a container joins another container's pid namespace and sees its processes", () => {
  const first = box.bundle((s) => {
    s.process!.args = ['sleep', '60'];
  });
  const a = box.create(first);
  expect(a.result.status).toBe(0);
  expect(box.tsrun(['start', a.id]).status).toBe(0);
  const aPid = box.state(a.id).pid;
  try {
    const second = box.bundle((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${aPid}/ns/pid` } : n));
      s.process!.args = sh('echo $$; readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr "\\0" " "');
    });
    const r = box.run(second);
    expect(r.stderr).toBe('');
    const [pid, link, init] = r.stdout.split('\n');
    // the init forks after setns, so the process is inside the joined namespace, not its pid 1
    expect(Number(pid)).toBeGreaterThan(1);
    expect(link).toBe(hostNamespace(aPid, 'pid'));
    expect(init.trim()).toBe('sleep 60');
  } finally {
    box.tsrun(['kill', a.id, 'KILL']);
  }
});
