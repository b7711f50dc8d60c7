import type { LinuxDeviceCgroup } from '../spec/types';
import { deviceCgroupRules } from '../plan/devices';
import {
  ANY,
  DEVCG_ACC_MKNOD,
  DEVCG_ACC_READ,
  DEVCG_ACC_WRITE,
  DEVCG_DEV_BLOCK,
  DEVCG_DEV_CHAR,
  OP,
  deviceFilter,
  deviceFilterInsns,
  devicePolicy,
  encodeInsns,
} from './device-filter';

const R = DEVCG_ACC_READ;
const W = DEVCG_ACC_WRITE;
const M = DEVCG_ACC_MKNOD;

/**
 * A tiny eBPF interpreter for what a device program may contain, decoding the bytes as the
 * kernel would on a little-endian machine. Returns r0, or throws on anything unexpected
 * (an unknown opcode, a jump out of the program, falling off the end, too many steps).
 */
function runProgram(prog: Buffer, ctx: { type: number; access: number; major: number; minor: number }): number {
  const mem = Buffer.alloc(12);
  mem.writeUInt32LE(((ctx.access << 16) | ctx.type) >>> 0, 0);
  mem.writeUInt32LE(ctx.major >>> 0, 4);
  mem.writeUInt32LE(ctx.minor >>> 0, 8);
  const U64 = (1n << 64n) - 1n;
  const U32 = (1n << 32n) - 1n;
  const regs: (bigint | 'ctx')[] = new Array(11).fill(0n);
  regs[1] = 'ctx';
  const n = prog.length / 8;
  let pc = 0;
  for (let steps = 0; steps < 10000; steps++) {
    if (pc < 0 || pc >= n) throw new Error(`pc ${pc} outside the program`);
    const code = prog.readUInt8(pc * 8);
    const dst = prog.readUInt8(pc * 8 + 1) & 0xf;
    const src = prog.readUInt8(pc * 8 + 1) >> 4;
    const off = prog.readInt16LE(pc * 8 + 2);
    const imm = BigInt(prog.readInt32LE(pc * 8 + 4));
    const val = (r: number): bigint => {
      const v = regs[r];
      if (v === 'ctx') throw new Error(`r${r} is the context pointer at pc ${pc}`);
      return v;
    };
    pc++;
    switch (code) {
      case OP.LDX_W: {
        if (regs[src] !== 'ctx' || off < 0 || off > 8 || off % 4) throw new Error(`bad load at pc ${pc - 1}`);
        regs[dst] = BigInt(mem.readUInt32LE(off));
        break;
      }
      case OP.AND32_K:
        regs[dst] = (val(dst) & imm) & U32;
        break;
      case OP.RSH32_K:
        regs[dst] = (val(dst) & U32) >> imm;
        break;
      case OP.MOV32_K:
        regs[dst] = imm & U32;
        break;
      case OP.MOV32_X:
        regs[dst] = val(src) & U32;
        break;
      case OP.JEQ_K:
        if (val(dst) === (imm & U64)) pc += off;
        break;
      case OP.JNE_K:
        if (val(dst) !== (imm & U64)) pc += off;
        break;
      case OP.JNE_X:
        if (val(dst) !== val(src)) pc += off;
        break;
      case OP.EXIT:
        return Number(val(0));
      default:
        throw new Error(`unknown opcode 0x${code.toString(16)} at pc ${pc - 1}`);
    }
  }
  throw new Error('program did not finish');
}

/**
 * The kernel's cgroup v1 device controller, written out separately: a list of exceptions to
 * the default, changed rule by rule; deny-by-default needs one exception covering the whole
 * access, allow-by-default is refused by any exception touching part of it.
 */
function v1Model(rules: LinuxDeviceCgroup[]) {
  let allowAll = false;
  let list: { type: string; major: number; minor: number; access: number }[] = [];
  const bits = (a = 'rwm') => [...a].reduce((acc, ch) => acc | ({ r: R, w: W, m: M } as Record<string, number>)[ch], 0);
  const num = (n: number | null | undefined) => (n === undefined || n === null || n < 0 ? ANY : n);
  for (const rule of rules) {
    const type = rule.type ?? 'a';
    if (type === 'a') {
      allowAll = rule.allow;
      list = [];
      continue;
    }
    const ex = { type, major: num(rule.major), minor: num(rule.minor), access: bits(rule.access) };
    const same = list.find((e) => e.type === ex.type && e.major === ex.major && e.minor === ex.minor);
    if (rule.allow !== allowAll) {
      if (same) same.access |= ex.access;
      else list.push(ex);
    } else if (same) {
      same.access &= ~ex.access;
      if (!same.access) list = list.filter((e) => e !== same);
    }
  }
  return (type: 'b' | 'c', major: number, minor: number, access: number): boolean => {
    const matching = list.filter((e) => e.type === type && (e.major === ANY || e.major === major) && (e.minor === ANY || e.minor === minor));
    if (allowAll) return !matching.some((e) => e.access & access);
    return matching.some((e) => (access & ~e.access) === 0);
  };
}

function allowed(prog: Buffer, type: 'b' | 'c', major: number, minor: number, access: number): boolean {
  const verdict = runProgram(prog, { type: type === 'c' ? DEVCG_DEV_CHAR : DEVCG_DEV_BLOCK, access, major, minor });
  expect([0, 1]).toContain(verdict);
  return verdict === 1;
}

const allow = (type: string, major: number | undefined, minor: number | undefined, access = 'rwm'): LinuxDeviceCgroup => ({ allow: true, type, major, minor, access });
const deny = (type: string, major: number | undefined, minor: number | undefined, access = 'rwm'): LinuxDeviceCgroup => ({ allow: false, type, major, minor, access });

describe('device policy (cgroup v1 semantics)', () => {
  test('starts from deny-all; allows become exceptions, merged per device', () => {
    expect(devicePolicy([])).toEqual({ defaultAllow: false, exceptions: [] });
    expect(devicePolicy([allow('c', 1, 3, 'r'), allow('c', 1, 3, 'w'), allow('b', 8, undefined, 'm')])).toEqual({
      defaultAllow: false,
      exceptions: [
        { type: 'c', major: 1, minor: 3, access: R | W },
        { type: 'b', major: 8, minor: ANY, access: M },
      ],
    });
  });

  test('an "a" rule resets everything, whatever its numbers and access', () => {
    expect(devicePolicy([allow('c', 1, 3), { allow: true, access: 'r' }])).toEqual({ defaultAllow: true, exceptions: [] });
    expect(devicePolicy([{ allow: true }, deny('c', 1, 3), { allow: false, type: 'a', major: 4, minor: 4, access: 'm' }])).toEqual({
      defaultAllow: false,
      exceptions: [],
    });
  });

  test('a rule agreeing with the default takes access away from an exception', () => {
    expect(devicePolicy([allow('c', 1, 3), deny('c', 1, 3, 'w')]).exceptions).toEqual([{ type: 'c', major: 1, minor: 3, access: R | M }]);
    expect(devicePolicy([allow('c', 1, 3, 'r'), deny('c', 1, 3, 'r')]).exceptions).toEqual([]);
    // Nothing to take away: a no-op, as in the kernel.
    expect(devicePolicy([deny('c', 1, 3)]).exceptions).toEqual([]);
  });

  test('refuses to punch a hole in a wildcard exception (v1 would silently ignore it)', () => {
    expect(() => devicePolicy([allow('c', undefined, undefined, 'm'), deny('c', 1, 3, 'm')])).toThrow(
      'device cgroup rule "deny c 1:3 m" cannot take access away from part of the wildcard rule "c *:* m"',
    );
    expect(() => devicePolicy([{ allow: true }, deny('c', 1, undefined, 'w'), allow('c', 1, 3, 'rw')])).toThrow('"c 1:* w"');
    // No overlap in access, or a different type: fine.
    expect(() => devicePolicy([allow('c', undefined, undefined, 'm'), deny('c', 1, 3, 'rw')])).not.toThrow();
    expect(() => devicePolicy([allow('b', undefined, undefined, 'm'), deny('c', 1, 3, 'm')])).not.toThrow();
  });

  test('bad rules are refused', () => {
    expect(() => devicePolicy([allow('p', 1, 3)])).toThrow('invalid device cgroup type "p"');
    expect(() => devicePolicy([allow('c', 1, 3, 'rx')])).toThrow('invalid device cgroup access "rx"');
    expect(() => devicePolicy([allow('c', 1, 3, '')])).toThrow('invalid device cgroup access ""');
    expect(() => devicePolicy([allow('c', 2 ** 32, 3)])).toThrow('invalid device cgroup major 4294967296');
    expect(() => devicePolicy([allow('c', 1, 1.5)])).toThrow('invalid device cgroup minor 1.5');
  });

  test('null and negative numbers are wildcards; missing access is rwm', () => {
    expect(devicePolicy([{ allow: true, type: 'b', major: null, minor: -1 }]).exceptions).toEqual([{ type: 'b', major: ANY, minor: ANY, access: R | W | M }]);
  });
});

describe('device filter program', () => {
  test('instruction by instruction, for a deny-all list with two exceptions', () => {
    const insns = deviceFilterInsns(devicePolicy([deny('a', undefined, undefined), allow('c', 1, 3, 'rw'), allow('b', 8, undefined)]));
    const I = (code: number, dst: number, src: number, off: number, imm: number) => ({ code, dst, src, off, imm });
    expect(insns).toEqual([
      I(OP.LDX_W, 2, 1, 0, 0),
      I(OP.AND32_K, 2, 0, 0, 0xffff),
      I(OP.LDX_W, 3, 1, 0, 0),
      I(OP.RSH32_K, 3, 0, 0, 16),
      I(OP.LDX_W, 4, 1, 4, 0),
      I(OP.LDX_W, 5, 1, 8, 0),
      // c 1:3 rw
      I(OP.JNE_K, 2, 0, 7, DEVCG_DEV_CHAR),
      I(OP.MOV32_X, 1, 3, 0, 0),
      I(OP.AND32_K, 1, 0, 0, R | W),
      I(OP.JNE_X, 1, 3, 4, 0),
      I(OP.JNE_K, 4, 0, 3, 1),
      I(OP.JNE_K, 5, 0, 2, 3),
      I(OP.MOV32_K, 0, 0, 0, 1),
      I(OP.EXIT, 0, 0, 0, 0),
      // b 8:* rwm: no access or minor check
      I(OP.JNE_K, 2, 0, 3, DEVCG_DEV_BLOCK),
      I(OP.JNE_K, 4, 0, 2, 8),
      I(OP.MOV32_K, 0, 0, 0, 1),
      I(OP.EXIT, 0, 0, 0, 0),
      // default: deny
      I(OP.MOV32_K, 0, 0, 0, 0),
      I(OP.EXIT, 0, 0, 0, 0),
    ]);
  });

  test('struct bpf_insn layout: code, dst in the low nibble, off, imm (little-endian)', () => {
    const buf = encodeInsns([{ code: OP.JNE_X, dst: 1, src: 3, off: -2, imm: -5 }], false);
    expect([...buf]).toEqual([0x5d, 0x31, 0xfe, 0xff, 0xfb, 0xff, 0xff, 0xff]);
    const be = encodeInsns([{ code: OP.JNE_X, dst: 1, src: 3, off: -2, imm: -5 }], true);
    expect([...be]).toEqual([0x5d, 0x13, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfb]);
  });

  test('no rules: everything denied; allow-all: everything allowed', () => {
    for (const [rules, want] of [
      [[], false],
      [[{ allow: true }], true],
      [[{ allow: true }, { allow: false }], false],
    ] as [LinuxDeviceCgroup[], boolean][]) {
      const prog = deviceFilter(rules);
      expect(prog.length).toBe(8 * 8);
      for (const type of ['b', 'c'] as const) expect(allowed(prog, type, 1, 3, R | W)).toBe(want);
    }
  });

  test('the default container rules: its own nodes, pty devices, tun and mknod of anything; no other access', () => {
    const prog = deviceFilter(deviceCgroupRules([{ allow: false, access: 'rwm' }]));
    for (const [major, minor] of [
      [1, 3],
      [1, 5],
      [1, 7],
      [1, 8],
      [1, 9],
      [5, 0],
      [5, 2],
      [136, 0],
      [136, 42],
      [10, 200],
    ]) {
      expect(allowed(prog, 'c', major, minor, R | W)).toBe(true);
      expect(allowed(prog, 'c', major, minor, M)).toBe(true);
    }
    expect(allowed(prog, 'c', 1, 11, R)).toBe(false); // /dev/kmsg
    expect(allowed(prog, 'c', 10, 237, R)).toBe(false);
    expect(allowed(prog, 'c', 1, 11, M)).toBe(true);
    expect(allowed(prog, 'b', 8, 0, R)).toBe(false);
    expect(allowed(prog, 'b', 8, 0, W)).toBe(false);
    expect(allowed(prog, 'b', 8, 0, M)).toBe(true);
    expect(allowed(prog, 'b', 1, 3, R)).toBe(false); // type matters
    // linux.devices entries are allowed too
    const withFuse = deviceFilter(deviceCgroupRules([{ allow: false, access: 'rwm' }], [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }]));
    expect(allowed(withFuse, 'c', 10, 229, R | W)).toBe(true);
    expect(allowed(withFuse, 'c', 10, 230, R)).toBe(false);
  });

  test('deny-all with "c 1:3 r": read allowed, write and read+write refused', () => {
    const prog = deviceFilter([{ allow: false }, allow('c', 1, 3, 'r')]);
    expect(allowed(prog, 'c', 1, 3, R)).toBe(true);
    expect(allowed(prog, 'c', 1, 3, W)).toBe(false);
    expect(allowed(prog, 'c', 1, 3, R | W)).toBe(false);
    expect(allowed(prog, 'c', 1, 4, R)).toBe(false);
  });

  test('allow-all with "c 1:3 w" denied: an O_RDWR open is refused too, as on v1', () => {
    const prog = deviceFilter([{ allow: true }, deny('c', 1, 3, 'w')]);
    expect(allowed(prog, 'c', 1, 3, R)).toBe(true);
    expect(allowed(prog, 'c', 1, 3, M)).toBe(true);
    expect(allowed(prog, 'c', 1, 3, W)).toBe(false);
    expect(allowed(prog, 'c', 1, 3, R | W)).toBe(false);
    expect(allowed(prog, 'c', 1, 5, W)).toBe(true);
    expect(allowed(prog, 'b', 1, 3, W)).toBe(true);
  });

  test('numbers past 2^31 match nothing and do not break the program', () => {
    const prog = deviceFilter([{ allow: false }, allow('c', 0xffffffff, 3), allow('c', 1, 0x80000000)]);
    expect(allowed(prog, 'c', 1, 3, R)).toBe(false);
    expect(allowed(prog, 'c', 0xfff, 3, R)).toBe(false);
  });

  test('agrees with the v1 model on random rule lists', () => {
    // A small deterministic generator (mulberry32), so a failure reproduces.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const accesses = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
    let compared = 0;
    let refused = 0;
    for (let round = 0; round < 400; round++) {
      const rules: LinuxDeviceCgroup[] = [];
      const count = 1 + Math.floor(rand() * 7);
      for (let i = 0; i < count; i++) {
        rules.push({
          allow: rand() < 0.5,
          type: pick(['a', 'b', 'c', 'c', 'c']),
          major: pick([undefined, 1, 1, 5]),
          minor: pick([undefined, 3, 3, 7]),
          access: pick(accesses),
        });
      }
      let prog: Buffer;
      try {
        prog = deviceFilter(rules);
      } catch (err) {
        expect(String(err)).toContain('cannot take access away from part of the wildcard rule');
        refused++;
        continue;
      }
      const model = v1Model(rules);
      for (const type of ['b', 'c'] as const) {
        for (const major of [1, 5, 9]) {
          for (const minor of [3, 7, 8]) {
            for (const access of [R, W, M, R | W, R | W | M]) {
              const got = allowed(prog, type, major, minor, access);
              if (got !== model(type, major, minor, access)) {
                throw new Error(`${JSON.stringify(rules)}: ${type} ${major}:${minor} access ${access}: program says ${got}`);
              }
              compared++;
            }
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(10000);
    expect(refused).toBeGreaterThan(0);
  });
});
