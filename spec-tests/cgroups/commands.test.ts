// pause/resume, update, events, ps and the limits that matter most (pids, OOM) on real
// containers, on v1 (this host) and v2 (the cgroup2 VM).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CLI, Sandbox, sh } from '../harness';
import { createError, hostRead, insideRead, isV2, MiB, mode, readBoth, sleepMs, startContainer, tsrunAsync, eventually } from './util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('cgcmd');
});
afterAll(() => box.cleanup());

/** A counter the container's process bumps as fast as it can, read from the host through the rootfs. */
function counterContainer(): { id: string; count: () => number } {
  let rootfs = '';
  const id = startContainer(
    box,
    (s) => {
      rootfs = s.root!.path;
    },
    sh('i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; done'),
  );
  const state = JSON.parse(fs.readFileSync(path.join(box.root, id, 'state.json'), 'utf8'));
  const file = path.join(state.bundle, rootfs, 'tmp', 'count');
  const count = () => {
    try {
      return Number(fs.readFileSync(file, 'utf8')) || 0;
    } catch {
      return 0;
    }
  };
  return { id, count };
}

function advances(count: () => number, ms: number): boolean {
  const start = count();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    sleepMs(50);
    if (count() > start) return true;
  }
  return false;
}

function tsrunWithInput(args: string[], input: string) {
  const r = spawnSync(process.execPath, [CLI, '--root', box.root, ...args], { input, encoding: 'utf8', timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe(`cgroup commands (${mode} host)`, () => {
  test('pause freezes every process (state paused), resume thaws them', () => {
    const { id, count } = counterContainer();
    expect(advances(count, 5000)).toBe(true);

    expect(box.tsrun(['pause', id])).toMatchObject({ status: 0, stderr: '' });
    expect(box.state(id).status).toBe('paused');
    if (isV2) expect(hostRead(box, id, '', 'cgroup.events')).toMatch(/^frozen 1$/m);
    else expect(hostRead(box, id, 'freezer', 'freezer.state')).toBe('FROZEN');
    expect(advances(count, 500)).toBe(false);
    // Frozen processes still exist and are listed.
    expect(JSON.parse(box.tsrun(['ps', '--format', 'json', id]).stdout)).toContain(box.state(id).pid);
    // Pausing twice is an error, as with runc.
    expect(box.tsrun(['pause', id])).toMatchObject({ status: 1, stderr: 'container not running\n' });

    expect(box.tsrun(['resume', id])).toMatchObject({ status: 0, stderr: '' });
    expect(box.state(id).status).toBe('running');
    if (isV2) expect(hostRead(box, id, '', 'cgroup.events')).toMatch(/^frozen 0$/m);
    else expect(hostRead(box, id, 'freezer', 'freezer.state')).toBe('THAWED');
    expect(advances(count, 5000)).toBe(true);
    expect(box.tsrun(['resume', id])).toMatchObject({ status: 1, stderr: 'container not paused\n' });
  });

  test('a paused container can be killed and deleted with --force', () => {
    const { id } = counterContainer();
    expect(box.tsrun(['pause', id]).status).toBe(0);
    const pid = box.state(id).pid;
    expect(box.tsrun(['delete', id]).stderr).toContain('paused');
    expect(box.tsrun(['delete', '--force', id]).status).toBe(0);
    // Gone, or a zombie waiting for whoever adopted it.
    expect(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')).toBe(false);
  });

  test('pause and resume of a stopped container fail', () => {
    const id = startContainer(box, () => {}, ['true']);
    box.waitStatus(id, 'stopped');
    expect(box.tsrun(['pause', id])).toMatchObject({ status: 1, stderr: 'container not running\n' });
    expect(box.tsrun(['resume', id])).toMatchObject({ status: 1, stderr: 'container not paused\n' });
  });

  test('update changes the limits the container sees (flags)', () => {
    const id = startContainer(box, (s) => (s.linux!.resources = { memory: { limit: 64 * MiB }, pids: { limit: 20 }, cpu: { quota: 50000, period: 100000 } }));
    const r = box.tsrun(['update', '--memory', '128m', '--pids-limit', '7', '--cpu-quota', '20000', '--cpu-share', '256', id]);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(readBoth(box, id, 'pids', 'pids.max')).toBe('7');
    if (isV2) {
      expect(readBoth(box, id, 'memory', 'memory.max')).toBe(String(128 * MiB));
      expect(readBoth(box, id, 'cpu', 'cpu.max')).toBe('20000 100000');
      expect(readBoth(box, id, 'cpu', 'cpu.weight')).toBe('35');
    } else {
      expect(readBoth(box, id, 'memory', 'memory.limit_in_bytes')).toBe(String(128 * MiB));
      expect(readBoth(box, id, 'cpu', 'cpu.cfs_quota_us')).toBe('20000');
      expect(readBoth(box, id, 'cpu', 'cpu.shares')).toBe('256');
    }
    // The period alone keeps the quota (cpu.max holds both on v2).
    expect(box.tsrun(['update', '--cpu-period', '50000', id]).status).toBe(0);
    if (isV2) expect(readBoth(box, id, 'cpu', 'cpu.max')).toBe('20000 50000');
    else expect(readBoth(box, id, 'cpu', 'cpu.cfs_period_us')).toBe('50000');
    // -1: unlimited.
    expect(box.tsrun(['update', '--memory', '-1', '--pids-limit', '-1', id]).status).toBe(0);
    expect(readBoth(box, id, 'pids', 'pids.max')).toBe('max');
    if (isV2) expect(readBoth(box, id, 'memory', 'memory.max')).toBe('max');
    else expect(readBoth(box, id, 'memory', 'memory.limit_in_bytes')).toBe('9223372036854771712');
  });

  test('update --resources takes LinuxResources JSON from stdin and from a file', () => {
    const id = startContainer(box, (s) => (s.linux!.resources = { memory: { limit: 64 * MiB } }));
    const r = tsrunWithInput(['update', '--resources', '-', id], JSON.stringify({ memory: { limit: 96 * MiB }, pids: { limit: 9 } }));
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(readBoth(box, id, 'pids', 'pids.max')).toBe('9');
    expect(readBoth(box, id, 'memory', isV2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(96 * MiB));

    const file = path.join(box.dir, 'res.json');
    fs.writeFileSync(file, JSON.stringify({ cpu: { cpus: '0' } }));
    // Flags are ignored when a document is given, as with runc.
    expect(box.tsrun(['update', '-r', file, '--pids-limit', '3', id]).status).toBe(0);
    expect(readBoth(box, id, 'cpuset', 'cpuset.cpus')).toBe('0');
    expect(readBoth(box, id, 'pids', 'pids.max')).toBe('9');

    const bad = tsrunWithInput(['update', '-r', '-', id], '{"memory":{"limit":"lots"}}');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('stdin: linux.resources.memory.limit: must be an integer, got "lots"\n');
  });

  test('update refuses a memory limit below the usage (v1: the kernel; v2: checkBeforeUpdate)', async () => {
    const id = startContainer(
      box,
      (s) => (s.linux!.resources = { memory: { limit: 64 * MiB } }),
      // A loop, so sh stays (and keeps x) instead of exec'ing its last command.
      sh('x=$(head -c 4000000 /dev/zero | tr "\\0" a); touch /tmp/ready; while :; do sleep 1000; done'),
    );
    const ready = path.join(JSON.parse(fs.readFileSync(path.join(box.root, id, 'state.json'), 'utf8')).bundle, 'rootfs', 'tmp', 'ready');
    await eventually(() => fs.existsSync(ready), 'the 4 MB allocation', 60_000);
    if (isV2) {
      const r = tsrunWithInput(['update', '-r', '-', id], JSON.stringify({ memory: { limit: 1 * MiB, checkBeforeUpdate: true } }));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^rejecting memory limit 1048576 <= usage \d+ \(memory.checkBeforeUpdate\)\n$/);
      expect(readBoth(box, id, 'memory', 'memory.max')).toBe(String(64 * MiB));
    } else {
      const r = box.tsrun(['update', '--memory', '1m', id]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/cannot set memory limit to 1048576: current usage \d+ is higher/);
      expect(readBoth(box, id, 'memory', 'memory.limit_in_bytes')).toBe(String(64 * MiB));
    }
   }, 90_000);

  test('update of a stopped container fails; l3 cache schema without RDT fails', () => {
    const id = startContainer(box, () => {}, ['true']);
    box.waitStatus(id, 'stopped');
    expect(box.tsrun(['update', '--pids-limit', '5', id])).toMatchObject({ status: 1, stderr: 'container not running\n' });
    if (!fs.existsSync('/sys/fs/resctrl/schemata')) {
      expect(box.tsrun(['update', '--l3-cache-schema', 'L3:0=f', id]).stderr).toBe('Intel RDT/CAT: l3 cache schema is not enabled\n');
    }
  });

  test('a pids-limited container cannot fork past its limit', () => {
    // A child shell forks sleeps until the kernel refuses (then ash gives up and exits); the
    // init counts with builtins only, since at the limit it could not fork ls or cat either.
    const bundle = box.bundle((s) => {
      s.linux!.resources = { pids: { limit: 10 } };
      s.process!.args = sh(
        "sh -c 'i=0; while :; do sleep 30 & i=$((i+1)); echo $i > /tmp/forked; done' 2>/dev/null; read forked < /tmp/forked; " +
          'n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; ' +
          `read cur < ${isV2 ? '/sys/fs/cgroup/pids.current' : '/sys/fs/cgroup/pids/pids.current'}; echo "forked=$forked procs=$n current=$cur"`,
      );
    });
    const r = box.run(bundle);
    expect(r.status).toBe(0);
    // At the peak: the init, the child shell and 8 sleeps, exactly the limit; the child is gone now.
    expect(r.stdout.trim()).toBe('forked=8 procs=9 current=9');
  });

  test('events --stats prints one runc-shaped stats event', () => {
    const id = startContainer(box, (s) => (s.linux!.resources = { memory: { limit: 64 * MiB }, pids: { limit: 20 } }));
    const r = box.tsrun(['events', '--stats', id]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const ev = JSON.parse(lines[0]);
    expect(ev).toMatchObject({ type: 'stats', id });
    expect(Object.keys(ev.data)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    expect(ev.data.pids).toEqual({ current: 1, limit: 20 });
    expect(ev.data.memory.usage.limit).toBe(64 * MiB);
    expect(ev.data.memory.usage.usage).toBeGreaterThan(0);
    expect(ev.data.cpu.usage.total).toBeGreaterThan(0);
    expect(typeof ev.data.memory.raw).toBe('object');
  });

  test('events streams stats every interval and ends when the container stops', async () => {
    const id = startContainer(box);
    const ev = tsrunAsync(box, ['events', '--interval', '200ms', id]);
    await eventually(() => ev.stdout().split('\n').filter(Boolean).length >= 3, 'three stats events');
    expect(box.tsrun(['kill', id, 'KILL']).status).toBe(0);
    const r = await ev.done;
    expect(r.status).toBe(0);
    for (const line of r.stdout.trim().split('\n')) expect(JSON.parse(line)).toMatchObject({ type: 'stats', id });
   }, 90_000);

  test('events of a stopped container fails', () => {
    const id = startContainer(box, () => {}, ['true']);
    box.waitStatus(id, 'stopped');
    expect(box.tsrun(['events', '--stats', id])).toMatchObject({ status: 1, stderr: `container with id ${id} is not running\n` });
  });

  test('a container that allocates past its memory limit is OOM-killed and events reports oom', async () => {
    const bundle = box.bundle((s) => {
      s.linux!.resources = { memory: { limit: 32 * MiB, swap: 32 * MiB } };
      // Waits for the test to start events, then holds 100 MB in a shell variable.
      s.process!.args = sh('while [ ! -e /tmp/go ]; do sleep 0.1; done; x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived');
    });
    const c = box.create(bundle);
    expect(c.result.status).toBe(0);
    expect(box.tsrun(['start', c.id]).status).toBe(0);
    const ev = tsrunAsync(box, ['events', '--interval', '300ms', c.id]);
    // A first stats line: events is watching, with the counters of before the allocation.
    await eventually(() => ev.stdout().includes('"type":"stats"'), 'events to start', 60_000);
    fs.writeFileSync(path.join(bundle, 'rootfs', 'tmp', 'go'), '');
    const r = await ev.done;
    expect(r.status).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events).toContainEqual({ type: 'oom', id: c.id });
    expect(box.state(c.id).status).toBe('stopped');
    expect(fs.readFileSync(c.out, 'utf8')).not.toContain('survived');
    const counters = hostRead(box, c.id, 'memory', isV2 ? 'memory.events' : 'memory.oom_control');
    expect(Number(/^oom_kill (\d+)$/m.exec(counters)![1])).toBeGreaterThan(0);
   }, 90_000);

  test('ps lists the container’s host pids (json) and filters the host ps (table)', () => {
    const id = startContainer(box, () => {}, sh('sleep 1000 & sleep 1000 & wait'));
    sleepMs(300);
    const init = box.state(id).pid;
    const pids: number[] = JSON.parse(box.tsrun(['ps', '--format', 'json', id]).stdout);
    expect(pids).toHaveLength(3);
    expect(pids).toContain(init);
    const children = fs.readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').trim().split(' ').map(Number);
    for (const c of children) expect(pids).toContain(c);

    const table = box.tsrun(['ps', id]).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^UID\s+PID\s+PPID/);
    expect(table.slice(1).map((l) => Number(l.trim().split(/\s+/)[1])).sort()).toEqual([...pids].sort());

    for (const args of [['-o', 'pid,comm'], ['--', '-o', 'pid,comm']]) {
      const custom = box.tsrun(['ps', id, ...args]).stdout.trim().split('\n');
      expect(custom[0].trim()).toBe('PID COMMAND');
      expect(custom.slice(1).map((l) => l.trim().split(/\s+/)[1]).sort()).toEqual(['sh', 'sleep', 'sleep']);
    }
    expect(box.tsrun(['ps', id, '-o', 'comm']).stderr).toBe("couldn't find PID field in ps output\n");
  });

  test('the cgroup mount inside shows the container’s own cgroup, read-only', () => {
    const id = startContainer(box, (s) => (s.linux!.resources = { pids: { limit: 12 } }));
    expect(insideRead(box, id, 'pids', 'pids.max')).toBe('12');
    const w = box.tsrun(['exec', id, 'sh', '-c', `echo 99 > ${isV2 ? '/sys/fs/cgroup/pids.max' : '/sys/fs/cgroup/pids/pids.max'}`]);
    expect(w.status).not.toBe(0);
    expect(w.stderr).toMatch(/Read-only file system/);
  });

  test('an invalid resource fails create with the JSON path (schema), before any cgroup is made', () => {
    const { stderr } = createError(box, (s) => (s.linux!.resources = { pids: { limit: 'ten' as unknown as number } }));
    expect(stderr).toContain('linux.resources.pids.limit');
  });
});
