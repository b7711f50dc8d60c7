/**
 * rlimits, noNewPrivileges, oomScoreAdj, personality, scheduler, ioPriority and
 * execCPUAffinity as the container process observes them through /proc.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Sandbox, sh } from '../harness';
import type { Spec } from '../../src/spec/types';
import { parseLimits, parseStatus, statField } from './observe';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('h3proc-lim');
});
afterAll(() => box.cleanup());

function inside(edit: (s: Spec) => void, args: string[]): string {
  const bundle = box.bundle((s) => {
    edit(s);
    s.process!.args = args;
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** cgroup directories named after the container, anywhere in the host's hierarchies. */
function cgroupDirsNamed(id: string): string[] {
  const r = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '5', '-type', 'd', '-name', id], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

const hostLimits = parseLimits(fs.readFileSync('/proc/self/limits', 'utf8'));

test('rlimits are set, soft and hard, and unlimited reads as unlimited', () => {
  const limits = parseLimits(
    inside((s) => {
      s.process!.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: 1000 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
        { type: 'RLIMIT_NPROC', soft: 300, hard: 400 },
        { type: 'RLIMIT_MSGQUEUE', soft: 8192, hard: 16384 },
        { type: 'RLIMIT_CPU', soft: 18446744073709551615, hard: 18446744073709551615 },
      ];
    }, ['cat', '/proc/self/limits']),
  );
  expect(limits['Max open files']).toEqual({ soft: '512', hard: '1000' });
  expect(limits['Max core file size']).toEqual({ soft: '0', hard: '4096' });
  expect(limits['Max processes']).toEqual({ soft: '300', hard: '400' });
  expect(limits['Max msgqueue size']).toEqual({ soft: '8192', hard: '16384' });
  expect(limits['Max cpu time']).toEqual({ soft: 'unlimited', hard: 'unlimited' });
});

test('limits not in the config are inherited from the host, not reset', () => {
  const limits = parseLimits(inside((s) => (s.process!.rlimits = []), ['cat', '/proc/self/limits']));
  expect(limits['Max pending signals']).toEqual(hostLimits['Max pending signals']);
  expect(limits['Max locked memory']).toEqual(hostLimits['Max locked memory']);
});

test('an rlimit above the host hard limit fails create with a clear message and leaves nothing behind', () => {
  const hostHard = Number(hostLimits['Max open files'].hard);
  const status = parseStatus(fs.readFileSync('/proc/self/status', 'utf8'));
  const hasSysResource = (BigInt('0x' + status.CapEff) >> 24n) & 1n;
  if (hasSysResource) return; // with CAP_SYS_RESOURCE any hard limit can be raised: nothing to check
  const bundle = box.bundle((s) => {
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: hostHard + 10000, hard: hostHard + 10000 }];
    s.process!.args = ['true'];
  });
  const id = box.id();
  const r = box.tsrun(['create', '--bundle', bundle, id]);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('error setting rlimit type RLIMIT_NOFILE');
  expect(r.stderr).toContain('Operation not permitted');
  expect(fs.existsSync(path.join(box.root, id))).toBe(false);
  expect(box.tsrun(['state', id]).stderr).toContain('does not exist');
  expect(cgroupDirsNamed(id)).toEqual([]);
});

test('noNewPrivileges sets NoNewPrivs in the process status; false leaves it clear', () => {
  const on = parseStatus(inside((s) => (s.process!.noNewPrivileges = true), ['cat', '/proc/self/status']));
  expect(on.NoNewPrivs).toBe('1');
  const off = parseStatus(inside((s) => (s.process!.noNewPrivileges = false), ['cat', '/proc/self/status']));
  expect(off.NoNewPrivs).toBe('0');
});

test('oomScoreAdj is the process oom_score_adj', () => {
  expect(inside((s) => (s.process!.oomScoreAdj = 500), ['cat', '/proc/self/oom_score_adj'])).toBe('500\n');
});

test('without oomScoreAdj the process keeps tsrun\'s value', () => {
  const own = fs.readFileSync('/proc/self/oom_score_adj', 'utf8');
  expect(inside(() => {}, ['cat', '/proc/self/oom_score_adj'])).toBe(own);
});

test('personality LINUX32 makes uname report a 32-bit machine', () => {
  if (os.arch() !== 'x64') return; // the 32-bit name checked below is x86's
  const out = inside((s) => (s.linux!.personality = { domain: 'LINUX32' }), sh('uname -m; cat /proc/self/personality'));
  expect(out).toBe('i686\n00000008\n');
});

test('scheduler SCHED_BATCH with nice is the policy and nice value in /proc/self/stat', () => {
  const stat = inside((s) => (s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 }), ['cat', '/proc/self/stat']);
  expect(statField(stat, 41)).toBe('3'); // SCHED_BATCH
  expect(statField(stat, 19)).toBe('7');
});

test('scheduler SCHED_IDLE', () => {
  const stat = inside((s) => (s.process!.scheduler = { policy: 'SCHED_IDLE' }), ['cat', '/proc/self/stat']);
  expect(statField(stat, 41)).toBe('5');
});

test('ioPriority is what ionice reports', () => {
  const out = inside((s) => (s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 }), sh('ionice -p $$'));
  expect(out.trim()).toBe('best-effort: prio 6');
  const idle = inside((s) => (s.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 }), sh('ionice -p $$'));
  expect(idle.trim()).toMatch(/^idle/);
});

test('execCPUAffinity.final is the process CPU set; initial alone applies to the process too', () => {
  const cpus = fs.readFileSync('/proc/self/status', 'utf8').match(/^Cpus_allowed_list:\s*(.*)$/m)![1];
  if (cpus !== '0-1' && !/^0-([2-9]|\d\d+)$/.test(cpus)) return; // needs CPUs 0 and 1
  const final = parseStatus(inside((s) => (s.process!.execCPUAffinity = { initial: '0', final: '1' }), ['cat', '/proc/self/status']));
  expect(final.Cpus_allowed_list).toBe('1');
  const initialOnly = parseStatus(inside((s) => (s.process!.execCPUAffinity = { initial: '1' }), ['cat', '/proc/self/status']));
  expect(initialOnly.Cpus_allowed_list).toBe('1');
});
