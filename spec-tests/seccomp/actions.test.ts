/**
 * linux.seccomp actions and argument filters, seen from inside real containers: the configured
 * errno, kills by SIGSYS, argument values, the ENOSYS answer for syscalls newer than a profile,
 * and that the runtime's own work is never restricted by the profile.
 */
import * as fs from 'fs';
import { Sandbox, sh } from '../harness';
import type { LinuxSeccomp, SeccompAction, SeccompOperator } from '../../src/spec/types';
import { addProbe, NR, onX86_64, removeProbe, withProfile } from './util';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('seccomp');
});
afterAll(() => {
  box.cleanup();
  removeProbe();
});

const SIGSYS = 31;
const allowExcept = (names: string[], action: SeccompAction, errnoRet?: number): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names, action, ...(errnoRet !== undefined && { errnoRet }) }],
});

function run(profile: LinuxSeccomp, script: string, edit: Parameters<Sandbox['bundle']>[0] = () => {}) {
  const bundle = box.bundle((s) => {
    withProfile(profile)(s);
    s.process!.args = sh(script);
    edit(s);
  });
  return box.run(bundle);
}

describe('errno', () => {
  test('ERRNO without errnoRet answers EPERM', () => {
    const r = run(allowExcept(['mkdir', 'mkdirat'], 'SCMP_ACT_ERRNO'), 'mkdir /tmp/d; echo rc=$?; test -d /tmp/d || echo absent');
    expect(r.stderr).toContain("mkdir: can't create directory '/tmp/d': Operation not permitted");
    expect(r.stdout).toBe('rc=1\nabsent\n');
    expect(r.status).toBe(0);
  });

  test('errnoRet is the errno the process sees', () => {
    const r = run(allowExcept(['mkdir', 'mkdirat'], 'SCMP_ACT_ERRNO', 38), 'mkdir /tmp/d');
    expect(r.stderr).toContain("mkdir: can't create directory '/tmp/d': Function not implemented");
    expect(r.status).toBe(1);
  });

  test('the status of seccomp inside: mode 2 (filter), one filter', () => {
    const r = run(allowExcept(['mkdir'], 'SCMP_ACT_ERRNO'), 'grep -E "^Seccomp(_filters)?:" /proc/self/status');
    expect(r.stdout).toBe('Seccomp:\t2\nSeccomp_filters:\t1\n');
  });

  test('LOG lets the call through', () => {
    const r = run(allowExcept(['mkdir', 'mkdirat'], 'SCMP_ACT_LOG'), 'mkdir /tmp/d && test -d /tmp/d && echo made');
    expect(r.stdout).toBe('made\n');
  });
});

describe('kill', () => {
  test.each(['SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP'] as const)(
    '%s: the caller dies by SIGSYS and the shell sees 128+31',
    (action) => {
      const r = run(allowExcept(['mkdir', 'mkdirat'], action), 'mkdir /tmp/d; echo status=$?');
      expect(r.stdout).toBe(`status=${128 + SIGSYS}\n`);
    },
  );

  test('a killed container process makes `run` exit with 128+SIGSYS', () => {
    const bundle = box.bundle((s) => {
      withProfile(allowExcept(['mkdir', 'mkdirat'], 'SCMP_ACT_KILL_PROCESS'))(s);
      s.process!.args = ['mkdir', '/tmp/d'];
    });
    expect(box.run(bundle).status).toBe(128 + SIGSYS);
  });
});

describe('argument filters', () => {
  // chmod(path, mode): refuse only modes that shut out group and others (mode & 077 == 0)
  test('MASKED_EQ on chmod\'s mode', () => {
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0o077, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }],
    };
    const r = run(profile, 'touch /tmp/f; chmod 644 /tmp/f && echo shared-ok; chmod 600 /tmp/f; echo rc=$?; stat -c %a /tmp/f');
    expect(r.stdout).toBe('shared-ok\nrc=1\n644\n');
    expect(r.stderr).toContain('Permission denied');
  });

  test('kill with one specific signal refused, others delivered', () => {
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 10, op: 'SCMP_CMP_EQ' }] }], // SIGUSR1
    };
    const r = run(profile, 'trap "echo got-usr2" USR2; trap "echo got-usr1" USR1; kill -USR1 $$; echo rc=$?; kill -USR2 $$; echo after');
    expect(r.stdout).toBe('rc=1\ngot-usr2\nafter\n');
    expect(r.stderr).toContain('Operation not permitted');
  });

  const probeCases: [SeccompOperator, number, number[], number[]][] = [
    // operator, value, args that match (EDOM), args that do not
    ['SCMP_CMP_EQ', 2, [2], [1, 3]],
    ['SCMP_CMP_NE', 2, [1, 3], [2]],
    ['SCMP_CMP_LT', 2, [0, 1], [2, 3]],
    ['SCMP_CMP_LE', 2, [1, 2], [3]],
    ['SCMP_CMP_GT', 2, [3, 0x100000000], [1, 2]],
    ['SCMP_CMP_GE', 2, [2, 3], [0, 1]],
  ];
  (onX86_64 ? test.each(probeCases) : test.skip.each(probeCases))('%s %d on a raw syscall argument', (op, value, hit, miss) => {
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['sched_get_priority_max'], action: 'SCMP_ACT_ERRNO', errnoRet: 33, args: [{ index: 0, value, op }] }],
    };
    const values = [...hit, ...miss];
    const bundle = addProbe(
      box.bundle((s) => {
        withProfile(profile)(s);
        s.process!.args = sh(values.map((v) => `syscall-probe ${NR.sched_get_priority_max} ${v}`).join('; '));
      }),
    );
    const lines = box.run(bundle).stdout.trim().split('\n');
    values.forEach((v, i) => {
      if (hit.includes(v)) expect(`${v}: ${lines[i]}`).toMatch(/errno=33$/);
      else expect(`${v}: ${lines[i]}`).not.toMatch(/errno=33$/);
    });
  });

  (onX86_64 ? test : test.skip)('64-bit values compare whole: personality(0xffffffff) refused, personality(0) not', () => {
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 33, args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] }],
    };
    const bundle = addProbe(
      box.bundle((s) => {
        withProfile(profile)(s);
        s.process!.args = sh(`syscall-probe ${NR.personality} 0xffffffff; syscall-probe ${NR.personality} 0x1ffffffff; syscall-probe ${NR.personality} 0`);
      }),
    );
    const r = box.run(bundle);
    const [query, wide, linux] = r.stdout.trim().split('\n');
    expect(query).toBe('ret=-1 errno=33');
    expect(wide).not.toContain('errno=33'); // the upper half differs
    expect(linux).toMatch(/^ret=\d+ errno=0$/);
  });
});

describe('syscalls newer than the profile', () => {
  const profile = (defaultErrnoRet?: number): LinuxSeccomp => ({
    defaultAction: 'SCMP_ACT_ERRNO',
    ...(defaultErrnoRet !== undefined && { defaultErrnoRet }),
    // a small allow-list whose highest syscall is rseq (334): what the static probe needs
    syscalls: [
      {
        names: ['execve', 'brk', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'readlink',
          'mprotect', 'getrandom', 'newfstatat', 'fstat', 'write', 'exit_group', 'exit', 'sched_get_priority_max'],
        action: 'SCMP_ACT_ALLOW',
      },
    ],
  });
  // stdout, or the error when the container did not run
  const probe = (args: string[], p: LinuxSeccomp) => {
    const r = box.run(addProbe(box.bundle((s) => {
      withProfile(p)(s);
      s.process!.args = ['syscall-probe', ...args];
    })));
    return { stdout: r.stdout || r.stderr };
  };

  (onX86_64 ? test : test.skip)('get ENOSYS (a libc falls back), while known ones get the default errno', () => {
    // landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION): the kernel has it
    expect(probe([String(NR.landlock_create_ruleset), '0', '0', '1'], { defaultAction: 'SCMP_ACT_ALLOW' }).stdout).toMatch(/^ret=\d+ errno=0\n$/);
    expect(probe([String(NR.landlock_create_ruleset), '0', '0', '1'], profile()).stdout).toBe('ret=-1 errno=38\n');
    expect(probe([String(NR.unshare), '0'], profile()).stdout).toBe('ret=-1 errno=1\n');
    expect(probe([String(NR.sched_get_priority_max), '1'], profile()).stdout).toBe('ret=99 errno=0\n');
  });

  (onX86_64 ? test : test.skip)('defaultErrnoRet is kept for everything below the profile\'s newest syscall', () => {
    expect(probe([String(NR.unshare), '0'], profile(95)).stdout).toBe('ret=-1 errno=95\n');
    expect(probe([String(NR.landlock_create_ruleset), '0', '0', '1'], profile(95)).stdout).toBe('ret=-1 errno=38\n');
  });
});

describe('the runtime\'s own work', () => {
  // Everything the init does after its setup would trip over these; the filter only arrives at execve.
  const hostile: LinuxSeccomp = allowExcept(
    ['getcwd', 'chdir', 'setresuid', 'setresgid', 'setgroups', 'capset', 'prctl', 'close_range', 'sethostname', 'pivot_root', 'mount', 'umount2', 'openat2', 'sched_setaffinity'],
    'SCMP_ACT_ERRNO',
  );

  test('a profile refusing the setup syscalls still starts the container', () => {
    const r = run(hostile, 'echo started; cd /tmp; echo rc=$?', (s) => {
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10] };
      s.process!.cwd = '/tmp';
    });
    expect(r.stderr).toContain("can't cd to /tmp");
    expect(r.stdout).toBe('started\nrc=2\n');
  });

  test('create/start: the filter is installed after start, with the startContainer hook before it', () => {
    const bundle = box.bundle((s) => {
      withProfile(hostile)(s);
      s.process!.args = sh('grep -E "^Seccomp:" /proc/self/status; cat /hook-ran');
      s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cd /tmp && pwd > /hook-ran'] }] };
    });
    const c = box.create(bundle);
    expect(c.result.status).toBe(0);
    expect(box.tsrun(['start', c.id]).status).toBe(0);
    box.waitStatus(c.id, 'stopped');
    expect(fs.readFileSync(c.out, 'utf8')).toBe('Seccomp:\t2\n/tmp\n');
  });

  test.each([
    ['root, no_new_privs off', { uid: 0, gid: 0 }, false],
    ['non-root, no_new_privs off', { uid: 1000, gid: 1000 }, false],
    ['non-root, no_new_privs on', { uid: 1000, gid: 1000 }, true],
  ])('%s: installs, and the process gets exactly its configured capabilities', (_name, user, nnp) => {
    const r = run(allowExcept(['mkdir'], 'SCMP_ACT_ERRNO'), 'grep -E "^(CapEff|CapPrm|NoNewPrivs|Seccomp):" /proc/self/status', (s) => {
      s.process!.user = user;
      s.process!.noNewPrivileges = nnp;
    });
    expect(r.status).toBe(0);
    // the default config's set: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE; never CAP_SYS_ADMIN
    const caps = user.uid === 0 ? '0000000020000420' : '0000000000000000';
    expect(r.stdout).toBe(`CapPrm:\t${caps}\nCapEff:\t${caps}\nNoNewPrivs:\t${nnp ? 1 : 0}\nSeccomp:\t2\n`);
  });

  test('non-root without a capabilities section and without no_new_privs still installs', () => {
    const r = run(allowExcept(['mkdir'], 'SCMP_ACT_ERRNO'), 'grep -E "^(CapEff|Seccomp):" /proc/self/status', (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.noNewPrivileges = false;
      delete s.process!.capabilities;
    });
    expect(r.stdout).toBe('CapEff:\t0000000000000000\nSeccomp:\t2\n');
  });
});
