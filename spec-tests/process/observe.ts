/**
 * Parsers for what a container reports about itself (/proc/self/status, /proc/self/limits,
 * /proc/self/stat), shared by the process, namespace, security and differential spec tests.
 */
import * as fs from 'fs';

/** "Key:\tvalue" lines of /proc/<pid>/status. */
export function parseStatus(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

/** Capability numbers from the kernel's uapi header, written out so the test does not trust tsrun's own table. */
export const CAP = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  FOWNER: 3,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  NET_BIND_SERVICE: 10,
  NET_RAW: 13,
  SYS_CHROOT: 18,
  SYS_ADMIN: 21,
  AUDIT_WRITE: 29,
} as const;

/** The 16-hex-digit mask /proc/self/status prints for a set of capability numbers. */
export function capHex(caps: readonly number[]): string {
  let mask = 0n;
  for (const c of caps) mask |= 1n << BigInt(c);
  return mask.toString(16).padStart(16, '0');
}

export interface Limit {
  soft: string;
  hard: string;
}

/** /proc/<pid>/limits keyed by the description ("Max open files"). */
export function parseLimits(text: string): Record<string, Limit> {
  const out: Record<string, Limit> = {};
  for (const line of text.split('\n').slice(1)) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m) out[m[1]] = { soft: m[2], hard: m[3] };
  }
  return out;
}

/** Fields of /proc/<pid>/stat, 1-based as proc(5) numbers them (the comm may hold spaces). */
export function statField(text: string, n: number): string {
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).trim().split(/\s+/);
  return rest[n - 3];
}

/** The inode string of a namespace link ("net:[4026531840]") as the host sees it for a pid. */
export function hostNamespace(pid: number | 'self', type: string): string {
  return fs.readlinkSync(`/proc/${pid}/ns/${type}`);
}

/** Lines printed by `KEY=value` style output, as a map. */
export function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
