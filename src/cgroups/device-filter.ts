/**
 * The cgroup v2 device controller: linux.resources.devices as an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE, which the native addon loads and attaches to the container's
 * cgroup. Pure: rules in, struct bpf_insn bytes out.
 *
 * The rules mean what they mean to cgroup v1's devices.allow/devices.deny written in order
 * (which is how runc treats them too): an "a" rule resets everything to allow-all or deny-all,
 * any other rule adds an exception to the current default or takes access away from an
 * exception with the same type, major and minor. The program then checks the exceptions left.
 */
import { endianness } from 'os';
import { TsrunError } from '../errors';
import type { LinuxDeviceCgroup } from '../spec/types';

/** bpf_cgroup_dev_ctx.access_type: the device type in the low 16 bits, the access above. */
export const DEVCG_DEV_BLOCK = 1;
export const DEVCG_DEV_CHAR = 2;
export const DEVCG_ACC_MKNOD = 1;
export const DEVCG_ACC_READ = 2;
export const DEVCG_ACC_WRITE = 4;
const ACC_ALL = DEVCG_ACC_MKNOD | DEVCG_ACC_READ | DEVCG_ACC_WRITE;

/** Major or minor matching every number. */
export const ANY = -1;

export interface DeviceException {
  type: 'b' | 'c';
  major: number;
  minor: number;
  /** DEVCG_ACC_* bits */
  access: number;
}

/** Allow or deny by default, with the exceptions that do the opposite. */
export interface DevicePolicy {
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

/** The license string the kernel records for the program (no GPL-only helpers are used). */
export const DEVICE_FILTER_LICENSE = 'Apache-2.0';

function accessBits(access: string | undefined): number {
  const text = access ?? 'rwm';
  if (!/^[rwm]+$/.test(text)) throw new TsrunError(`invalid device cgroup access ${JSON.stringify(text)}`);
  let bits = 0;
  for (const ch of text) bits |= ch === 'r' ? DEVCG_ACC_READ : ch === 'w' ? DEVCG_ACC_WRITE : DEVCG_ACC_MKNOD;
  return bits;
}

function deviceNumber(n: number | null | undefined, what: string): number {
  if (n === undefined || n === null || n < 0) return ANY;
  if (!Number.isInteger(n) || n > 0xffffffff) throw new TsrunError(`invalid device cgroup ${what} ${n}`);
  return n;
}

function accessText(bits: number): string {
  return `${bits & DEVCG_ACC_READ ? 'r' : ''}${bits & DEVCG_ACC_WRITE ? 'w' : ''}${bits & DEVCG_ACC_MKNOD ? 'm' : ''}`;
}

/** An exception as v1's devices.allow/devices.deny take it: "c 1:3 rw", "*" for any number. */
export function exceptionLine(e: DeviceException): string {
  const num = (n: number) => (n === ANY ? '*' : String(n));
  return `${e.type} ${num(e.major)}:${num(e.minor)} ${accessText(e.access)}`;
}

/**
 * The policy the rules leave behind, starting from deny-all (a container's devices are denied
 * unless allowed). Like runc, taking access away from a number that a partly-wildcard
 * exception still covers is an error: cgroup v1 would silently keep the wildcard, which is
 * not what the rule's author meant.
 */
export function devicePolicy(rules: readonly LinuxDeviceCgroup[]): DevicePolicy {
  let defaultAllow = false;
  let exceptions = new Map<string, DeviceException>();
  const keyOf = (type: string, major: number, minor: number) => `${type} ${major}:${minor}`;
  for (const rule of rules) {
    const type = rule.type ?? 'a';
    const access = accessBits(rule.access);
    if (type === 'a') {
      defaultAllow = rule.allow;
      exceptions = new Map();
      continue;
    }
    if (type !== 'b' && type !== 'c') throw new TsrunError(`invalid device cgroup type ${JSON.stringify(type)}`);
    const major = deviceNumber(rule.major, 'major');
    const minor = deviceNumber(rule.minor, 'minor');
    const key = keyOf(type, major, minor);
    const existing = exceptions.get(key);
    if (rule.allow !== defaultAllow) {
      // An exception to the default: merged with one for the same device.
      exceptions.set(key, { type, major, minor, access: (existing?.access ?? 0) | access });
      continue;
    }
    // The same as the default: narrows an exception.
    for (const [wMajor, wMinor] of [
      [ANY, minor],
      [major, ANY],
      [ANY, ANY],
    ]) {
      const wildcard = exceptions.get(keyOf(type, wMajor, wMinor));
      if (!wildcard || (wMajor === major && wMinor === minor) || (wildcard.access & access) === 0) continue;
      const verb = rule.allow ? 'allow' : 'deny';
      throw new TsrunError(
        `device cgroup rule "${verb} ${exceptionLine({ type, major, minor, access })}" cannot take access away from part of the wildcard rule "${exceptionLine(wildcard)}"`,
      );
    }
    if (!existing) continue;
    const left = existing.access & ~access;
    if (left === 0) exceptions.delete(key);
    else exceptions.set(key, { ...existing, access: left });
  }
  // In the order the rules first name each device: v1's devices.list then lists them as the
  // config does (the runtime-spec asks for entries applied in the listed order).
  return { defaultAllow, exceptions: [...exceptions.values()] };
}

// struct bpf_insn opcodes (include/uapi/linux/bpf.h, bpf_common.h)
const BPF_LDX = 0x01;
const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
const BPF_W = 0x00;
const BPF_MEM = 0x60;
const BPF_K = 0x00;
const BPF_X = 0x08;
const BPF_AND = 0x50;
const BPF_RSH = 0x70;
const BPF_MOV = 0xb0;
const BPF_JEQ = 0x10;
const BPF_JNE = 0x50;
const BPF_EXIT = 0x90;

export const OP = {
  LDX_W: BPF_LDX | BPF_MEM | BPF_W,
  AND32_K: BPF_ALU | BPF_AND | BPF_K,
  RSH32_K: BPF_ALU | BPF_RSH | BPF_K,
  MOV32_K: BPF_ALU | BPF_MOV | BPF_K,
  MOV32_X: BPF_ALU | BPF_MOV | BPF_X,
  JEQ_K: BPF_JMP | BPF_JEQ | BPF_K,
  JNE_K: BPF_JMP | BPF_JNE | BPF_K,
  JNE_X: BPF_JMP | BPF_JNE | BPF_X,
  EXIT: BPF_JMP | BPF_EXIT,
} as const;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** A jump still aimed at the end of its block; resolved once the block is complete. */
const TO_NEXT_BLOCK = 0x7fff;

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/**
 * The program, instruction by instruction. Registers: r1 the context (then scratch), r2 the
 * device type, r3 the access asked for, r4 major, r5 minor, r0 the verdict (1 allows).
 * One block per exception, each falling through to the next when it does not match.
 */
export function deviceFilterInsns(policy: DevicePolicy): Insn[] {
  const out: Insn[] = [
    insn(OP.LDX_W, 2, 1, 0, 0),
    insn(OP.AND32_K, 2, 0, 0, 0xffff),
    insn(OP.LDX_W, 3, 1, 0, 0),
    insn(OP.RSH32_K, 3, 0, 0, 16),
    insn(OP.LDX_W, 4, 1, 4, 0),
    insn(OP.LDX_W, 5, 1, 8, 0),
  ];
  const verdict = policy.defaultAllow ? 0 : 1;
  for (const e of policy.exceptions) {
    const block: Insn[] = [insn(OP.JNE_K, 2, 0, TO_NEXT_BLOCK, e.type === 'c' ? DEVCG_DEV_CHAR : DEVCG_DEV_BLOCK)];
    if ((e.access & ACC_ALL) !== ACC_ALL) {
      block.push(insn(OP.MOV32_X, 1, 3, 0, 0), insn(OP.AND32_K, 1, 0, 0, e.access));
      // An allowed exception must cover all the access asked for; a denied one applies when it
      // covers any of it (an O_RDWR open of a device denied "w" is refused, as on v1).
      if (policy.defaultAllow) block.push(insn(OP.JEQ_K, 1, 0, TO_NEXT_BLOCK, 0));
      else block.push(insn(OP.JNE_X, 1, 3, TO_NEXT_BLOCK, 0));
    }
    // Registers hold zero-extended u32s and immediates are sign-extended, so a number
    // above 2^31-1 never matches: no device has one (majors have 12 bits, minors 20).
    if (e.major !== ANY) block.push(insn(OP.JNE_K, 4, 0, TO_NEXT_BLOCK, e.major | 0));
    if (e.minor !== ANY) block.push(insn(OP.JNE_K, 5, 0, TO_NEXT_BLOCK, e.minor | 0));
    block.push(insn(OP.MOV32_K, 0, 0, 0, verdict), insn(OP.EXIT, 0, 0, 0, 0));
    block.forEach((ins, i) => {
      if (ins.off === TO_NEXT_BLOCK) ins.off = block.length - (i + 1);
    });
    out.push(...block);
  }
  out.push(insn(OP.MOV32_K, 0, 0, 0, policy.defaultAllow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0));
  return out;
}

/** struct bpf_insn { u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm; } in host byte order. */
export function encodeInsns(insns: readonly Insn[], bigEndian = endianness() === 'BE'): Buffer {
  const view = new DataView(new ArrayBuffer(insns.length * 8));
  const little = !bigEndian;
  insns.forEach((ins, i) => {
    const at = i * 8;
    view.setUint8(at, ins.code);
    // The bitfields fill from the low bits on little-endian machines, from the high on big.
    view.setUint8(at + 1, bigEndian ? (ins.dst << 4) | ins.src : (ins.src << 4) | ins.dst);
    view.setInt16(at + 2, ins.off, little);
    view.setInt32(at + 4, ins.imm, little);
  });
  return Buffer.from(view.buffer);
}

/** The rules as the bytes BPF_PROG_LOAD takes. */
export function deviceFilter(rules: readonly LinuxDeviceCgroup[], bigEndian = endianness() === 'BE'): Buffer {
  return encodeInsns(deviceFilterInsns(devicePolicy(rules)), bigEndian);
}
