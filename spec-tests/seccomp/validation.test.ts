/**
 * Bad seccomp profiles fail `create` with one line naming the JSON path, and leave no state; names
 * this libseccomp does not know are skipped (with a debug line), as runc does.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox, sh } from '../harness';
import type { LinuxSeccomp } from '../../src/spec/types';
import { withProfile } from './util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('seccomp-bad');
});
afterAll(() => box.cleanup());

const base = (): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64'],
  syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] }],
});

// schema-invalid values on purpose
const loose = (o: object) => o as unknown as Record<string, unknown>;
type Edit = (p: LinuxSeccomp & Record<string, unknown>) => void;
const cases: [string, Edit, string][] = [
  ['unknown default action', (p) => (loose(p).defaultAction = 'SCMP_ACT_DENY'),
    'config.json: linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_DENY" (expected one of: SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY)'],
  ['unknown rule action', (p) => (loose(p.syscalls![0]).action = 'ALLOW'),
    'config.json: linux.seccomp.syscalls[0].action: unknown seccomp action "ALLOW"'],
  ['unknown architecture', (p) => (p.architectures = ['SCMP_ARCH_X86_64', 'amd64']),
    'config.json: linux.seccomp.architectures[1]: unknown seccomp architecture "amd64"'],
  ['unknown operator', (p) => (loose(p.syscalls![0].args![0]).op = 'SCMP_CMP_MATCH'),
    'config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_MATCH"'],
  ['argument index past 5', (p) => (p.syscalls![0].args![0].index = 6),
    'config.json: linux.seccomp.syscalls[0].args[0].index: must be <= 5, got 6'],
  ['unknown flag', (p) => (p.flags = ['SECCOMP_FILTER_FLAG_NOPE']),
    'config.json: linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_NOPE"'],
  ['errnoRet on an action without an errno', (p) => (p.syscalls![0] = { names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }),
    'config.json: linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE'],
  ['defaultErrnoRet with ALLOW', (p) => (p.defaultErrnoRet = 1),
    'config.json: linux.seccomp.defaultErrnoRet: only valid with a SCMP_ACT_ERRNO or SCMP_ACT_TRACE defaultAction'],
  ['NOTIFY as the default', (p) => (p.defaultAction = 'SCMP_ACT_NOTIFY'),
    'config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action'],
  ['NOTIFY without a listener', (p) => (p.syscalls![0].action = 'SCMP_ACT_NOTIFY'),
    'config.json: linux.seccomp.listenerPath: must be present when a rule uses SCMP_ACT_NOTIFY'],
  ['NOTIFY on write', (p) => { p.listenerPath = '/run/agent.sock'; p.syscalls![0] = { names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }; },
    'config.json: linux.seccomp.syscalls[0].names: SCMP_ACT_NOTIFY cannot be used for the write syscall'],
  ['relative listener path', (p) => (p.listenerPath = 'agent.sock'),
    'config.json: linux.seccomp.listenerPath: must be an absolute path, got "agent.sock"'],
  ['empty syscall name', (p) => (p.syscalls![0].names = ['mkdir', '']),
    'config.json: linux.seccomp.syscalls[0].names[1]: must not be empty'],
  ['no names', (p) => (p.syscalls![0].names = []),
    'config.json: linux.seccomp.syscalls[0].names: must have at least 1 item'],
  ['value not a number', (p) => (loose(p.syscalls![0].args![0]).value = '0'),
    'config.json: linux.seccomp.syscalls[0].args[0].value: must be an integer, got "0"'],
];

test.each(cases)('%s', (_name, edit, message) => {
  const profile = base();
  edit(profile as LinuxSeccomp & Record<string, unknown>);
  const c = box.create(box.bundle(withProfile(profile)));
  expect(c.result.stderr).toContain(message);
  expect(c.result.stderr.trim().split('\n')).toHaveLength(1);
  expect(c.result.status).toBe(1);
  expect(box.tsrun(['state', c.id]).status).not.toBe(0);
});

test('an architecture this libseccomp lacks is named with its index', () => {
  const version = JSON.parse(box.tsrun(['features']).stdout).annotations['io.github.seccomp.libseccomp.version'] as string;
  const [major, minor] = version.split('.').map(Number);
  if (major > 2 || (major === 2 && minor >= 6)) return; // loongarch64 arrived in libseccomp 2.6
  const c = box.create(box.bundle(withProfile({ ...base(), architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_LOONGARCH64'] })));
  expect(c.result.stderr).toContain(
    `config.json: linux.seccomp.architectures[1]: SCMP_ARCH_LOONGARCH64: architecture not supported by libseccomp ${version}`,
  );
  expect(c.result.status).toBe(1);
});

test('syscall names nobody knows are skipped with a debug line; the rest of the rule applies', () => {
  const log = path.join(box.dir, 'debug.log');
  const bundle = box.bundle((s) => {
    withProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_syscall', 'mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] })(s);
    s.process!.args = sh('mkdir /tmp/d');
  });
  const r = box.tsrun(['--debug', '--log', log, 'run', '--bundle', bundle, box.id()]);
  expect(r.stderr).toContain('Operation not permitted');
  expect(fs.readFileSync(log, 'utf8')).toContain('seccomp: unknown syscall \\"no_such_syscall\\" skipped');
});

test('features lists what the profile may use', () => {
  const features = JSON.parse(box.tsrun(['features']).stdout);
  expect(features.linux.seccomp).toMatchObject({
    enabled: true,
    actions: expect.arrayContaining(['SCMP_ACT_NOTIFY', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_LOG']),
    operators: expect.arrayContaining(['SCMP_CMP_MASKED_EQ']),
    archs: expect.arrayContaining(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']),
    knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
  });
  expect(features.linux.seccomp.supportedFlags).toEqual(expect.arrayContaining(['SECCOMP_FILTER_FLAG_LOG']));
});

test('supported flags are applied: SECCOMP_FILTER_FLAG_LOG and SPEC_ALLOW', () => {
  const bundle = box.bundle((s) => {
    withProfile({ ...base(), flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] })(s);
    s.process!.args = sh('grep -E "^Seccomp:" /proc/self/status');
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('Seccomp:\t2\n');
});
