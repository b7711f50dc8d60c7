import { seccompNative as native } from '../native';
import type { LinuxSeccomp } from '../spec/types';
import {
  capabilitiesForSeccomp,
  containerProcessState,
  seccompAction,
  seccompCompileInput,
  seccompFilterFlags,
  wantsEnosys,
} from './seccomp';

const ALLOW = 0x7fff0000;
const errno = (n: number) => 0x00050000 | n;
const SYS_ADMIN = 1n << 21n;

describe('actions and operators', () => {
  test('errno-carrying actions default to EPERM and keep 16 bits', () => {
    expect(seccompAction('SCMP_ACT_ERRNO')).toBe(errno(1));
    expect(seccompAction('SCMP_ACT_ERRNO', 38)).toBe(errno(38));
    expect(seccompAction('SCMP_ACT_TRACE')).toBe(0x7ff00001);
    expect(seccompAction('SCMP_ACT_KILL')).toBe(0);
    expect(seccompAction('SCMP_ACT_KILL_THREAD')).toBe(0);
    expect(seccompAction('SCMP_ACT_KILL_PROCESS')).toBe(0x80000000);
    expect(seccompAction('SCMP_ACT_NOTIFY')).toBe(0x7fc00000);
    expect(seccompAction('SCMP_ACT_LOG')).toBe(0x7ffc0000);
    expect(seccompAction('SCMP_ACT_TRAP')).toBe(0x00030000);
  });

  test('compile input: names kept, arches as libseccomp names, values as u64', () => {
    const input = seccompCompileInput({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 95,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 8 }] }],
    });
    expect(input).toEqual({
      defaultAction: errno(95),
      architectures: ['x86_64', 'aarch64'],
      enosys: true,
      rules: [{ names: ['personality'], action: ALLOW, args: [{ index: 0, value: 0xffffffffn, valueTwo: 8n, op: 7 }] }],
    });
    const huge = seccompCompileInput({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_KILL', args: [{ index: 1, value: 2 ** 64, op: 'SCMP_CMP_EQ' }] }] });
    expect(huge.rules[0].args[0].value).toBe(0xffffffffffffffffn);
  });

  test('the ENOSYS prologue only under a refusing default', () => {
    expect(wantsEnosys({ defaultAction: 'SCMP_ACT_ERRNO' })).toBe(true);
    expect(wantsEnosys({ defaultAction: 'SCMP_ACT_KILL_PROCESS' })).toBe(true);
    expect(wantsEnosys({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38 })).toBe(false);
    for (const a of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'] as const) expect(wantsEnosys({ defaultAction: a })).toBe(false);
  });
});

describe('filter flags', () => {
  const all = { SECCOMP_FILTER_FLAG_TSYNC: 1, SECCOMP_FILTER_FLAG_LOG: 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32 };
  const notify: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/l', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };

  test('kernel flags map to bits; missing ones are reported', () => {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] };
    expect(seccompFilterFlags(p, all)).toEqual({ flags: 6, unsupported: [] });
    expect(seccompFilterFlags(p, { SECCOMP_FILTER_FLAG_LOG: 2 })).toEqual({ flags: 2, unsupported: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'] });
  });

  test('a notify rule asks for a listener; TSYNC is dropped beside it, WAIT_KILLABLE_RECV needs it', () => {
    expect(seccompFilterFlags({ ...notify, flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, all).flags).toBe(8 | 32);
    expect(seccompFilterFlags({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, all).flags).toBe(1);
  });

  test('containerProcessState: runtime-spec field order, metadata only when given', () => {
    const state = { ociVersion: '1.2.0', id: 'c', status: 'creating' as const, pid: 42, bundle: '/b', annotations: {} };
    expect(JSON.stringify(containerProcessState({ ...notify, listenerMetadata: 'm' }, '1.2.1', 42, state))).toBe(
      '{"ociVersion":"1.2.1","fds":["seccompFd"],"pid":42,"metadata":"m","state":{"ociVersion":"1.2.0","id":"c","status":"creating","pid":42,"bundle":"/b","annotations":{}}}',
    );
    expect(containerProcessState(notify, '1.2.1', 42, state)).not.toHaveProperty('metadata');
  });
});

describe('capabilities while installing', () => {
  const caps = { bounding: 0x20000420n, effective: 0x20000420n, inheritable: 0n, permitted: 0x20000420n, ambient: 0n };
  test('without no_new_privs the init keeps CAP_SYS_ADMIN in effective and permitted only', () => {
    expect(capabilitiesForSeccomp(caps, false)).toEqual({ ...caps, effective: caps.effective | SYS_ADMIN, permitted: caps.permitted | SYS_ADMIN });
  });
  test('with no_new_privs nothing changes', () => {
    expect(capabilitiesForSeccomp(caps, true)).toBe(caps);
    expect(capabilitiesForSeccomp(undefined, false)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Programs compiled by the addon, run through a classic BPF interpreter on made-up syscalls.

const AUDIT_X86_64 = 0xc000003e;
const AUDIT_I386 = 0x40000003;
const AUDIT_AARCH64 = 0xc00000b7;
const X32_BIT = 0x40000000;

function runBpf(program: Buffer, nr: number, arch: number, args: bigint[] = []): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr | 0, 0);
  data.writeUInt32LE(arch, 4);
  args.forEach((a, i) => data.writeBigUInt64LE(a, 16 + 8 * i));
  const mem = new Uint32Array(16);
  let A = 0;
  let X = 0;
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program[pc * 8 + 2];
    const jf = program[pc * 8 + 3];
    const k = program.readUInt32LE(pc * 8 + 4);
    const cls = code & 0x07;
    const src = code & 0x08 ? X : k;
    if (cls === 0x00) {
      // LD
      if ((code & 0xe0) === 0x20) A = data.readUInt32LE(k);
      else if ((code & 0xe0) === 0x60) A = mem[k];
      else if ((code & 0xe0) === 0x00) A = k;
      else throw new Error(`ld mode ${code.toString(16)}`);
    } else if (cls === 0x01) X = (code & 0xe0) === 0x60 ? mem[k] : k;
    else if (cls === 0x02) mem[k] = A;
    else if (cls === 0x03) mem[k] = X;
    else if (cls === 0x04) {
      const op = code & 0xf0;
      const ops: Record<number, (a: number, b: number) => number> = {
        0x00: (a, b) => a + b, 0x10: (a, b) => a - b, 0x20: (a, b) => Math.imul(a, b), 0x30: (a, b) => Math.floor(a / b),
        0x40: (a, b) => a | b, 0x50: (a, b) => a & b, 0x60: (a, b) => a << b, 0x70: (a, b) => a >>> b, 0xa0: (a, b) => a ^ b,
      };
      if (op === 0x80) A = -A;
      else if (ops[op]) A = ops[op](A, src);
      else throw new Error(`alu ${code.toString(16)}`);
      A >>>= 0;
    } else if (cls === 0x05) {
      const op = code & 0xf0;
      if (op === 0x00) {
        pc += k;
        continue;
      }
      const b = src >>> 0;
      const cond = op === 0x10 ? A === b : op === 0x20 ? A > b : op === 0x30 ? A >= b : op === 0x40 ? (A & b) !== 0 : undefined;
      if (cond === undefined) throw new Error(`jmp ${code.toString(16)}`);
      pc += cond ? jt : jf;
    } else if (cls === 0x06) return ((code & 0x18) === 0x10 ? A : k) >>> 0;
    else if (cls === 0x07) {
      if (code & 0x80) A = X;
      else X = A;
    }
  }
  throw new Error('fell off the end of the program');
}

function compile(profile: LinuxSeccomp): Buffer {
  return native().compileSeccomp(seccompCompileInput(profile)).bpf;
}

describe('compiled programs', () => {
  // x86_64: read 0, write 1, open 2, mkdir 83, personality 135, openat 257; io_uring_setup 425
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['read', 'write', 'openat', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ],
  };
  const program = compile(profile);

  test('allowed, default errno, the rule\'s errno, argument matches', () => {
    expect(runBpf(program, 0, AUDIT_X86_64)).toBe(ALLOW);
    expect(runBpf(program, 2, AUDIT_X86_64)).toBe(errno(1)); // open: known era, not allowed
    expect(runBpf(program, 83, AUDIT_X86_64)).toBe(errno(18));
    expect(runBpf(program, 135, AUDIT_X86_64, [8n])).toBe(ALLOW);
    expect(runBpf(program, 135, AUDIT_X86_64, [0xffffffffn])).toBe(errno(1));
  });

  test('syscalls above the highest the profile names get ENOSYS, per arch and x32 mode', () => {
    expect(runBpf(program, 258, AUDIT_X86_64)).toBe(errno(38)); // mkdirat > openat
    expect(runBpf(program, 435, AUDIT_X86_64)).toBe(errno(38)); // clone3
    expect(runBpf(program, 257, AUDIT_X86_64)).toBe(ALLOW);
    expect(runBpf(program, X32_BIT | 0, AUDIT_X86_64)).toBe(ALLOW);
    expect(runBpf(program, X32_BIT | 435, AUDIT_X86_64)).toBe(errno(38));
    expect(runBpf(program, 3, AUDIT_I386)).toBe(ALLOW); // i386 read
    expect(runBpf(program, 296, AUDIT_I386)).toBe(errno(38)); // above i386 openat (295)
    expect(runBpf(program, 5, AUDIT_I386)).toBe(errno(1)); // i386 open
  });

  test('a permissive or ENOSYS default has no prologue', () => {
    const allow = compile({ ...profile, defaultAction: 'SCMP_ACT_ALLOW' });
    expect(runBpf(allow, 435, AUDIT_X86_64)).toBe(ALLOW);
    const enosys = compile({ ...profile, defaultErrnoRet: 38 });
    expect(runBpf(enosys, 2, AUDIT_X86_64)).toBe(errno(38));
    expect(enosys.length).toBeLessThan(program.length);
  });

  test('an arch outside the profile gets libseccomp\'s bad-arch kill', () => {
    expect(runBpf(program, 63, AUDIT_AARCH64)).toBe(0);
  });

  test('several conditions on one argument are alternatives (runc\'s rule)', () => {
    const p = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: 2, op: 'SCMP_CMP_EQ' }] }],
    });
    expect(runBpf(p, 135, AUDIT_X86_64, [1n])).toBe(errno(1));
    expect(runBpf(p, 135, AUDIT_X86_64, [2n])).toBe(errno(1));
    expect(runBpf(p, 135, AUDIT_X86_64, [3n])).toBe(ALLOW);
  });

  test('unknown names are reported, rules equal to the default are dropped', () => {
    const out = native().compileSeccomp(
      seccompCompileInput({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read', 'bogus1', 'bogus1', 'bogus2'], action: 'SCMP_ACT_ALLOW' }] }),
    );
    expect(out.unknownSyscalls).toEqual(['bogus1', 'bogus2']);
  });

  test('an architecture libseccomp lacks names its index', () => {
    const known = native().seccompInfo(['loongarch64']).archs;
    if (known.length) return; // newer libseccomp: nothing to refuse
    expect(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_LOONGARCH64'] })).toThrow(
      expect.objectContaining({ archIndex: 1 }),
    );
  });
});
