/**
 * Conversions from OCI linux.resources values to cgroup file contents that do not depend on
 * the filesystem, shared by the v1 and v2 managers and unit-tested on their own.
 */
import { TsrunError } from '../errors';
import type { LinuxDeviceCgroup } from '../spec/types';

/** True when an optional resource object carries at least one setting. */
export function hasSettings(value: object | undefined): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  return Object.values(value).some((v) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0));
}

/**
 * cpu.shares (v1, 2..262144, default 1024) to cpu.weight (v2, 1..10000, default 100).
 * The curve runc uses since 1.3: quadratic in log2(shares), through the two ends and
 * 1024 -> 100, so a default container keeps the default weight (the older linear map
 * turned 1024 into 39). 0 means unset.
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(Math.pow(10, exponent));
}

/**
 * OCI memory.swap is memory+swap (v1's memsw); v2's memory.swap.max is swap alone.
 * Returns the v2 value: -1 for "max", 0 for "leave alone" unless swap was given equal to
 * the limit (then "0", no swap at all), else the difference.
 */
export function memorySwapForV2(swap: number | undefined, limit: number | undefined): string | undefined {
  const s = swap ?? 0;
  const m = limit ?? 0;
  if (m === -1 && s === 0) return 'max';
  if (s === 0) return undefined;
  if (s === -1) return 'max';
  if (m === -1) return String(s);
  if (m === 0) throw new TsrunError('linux.resources.memory.swap needs memory.limit on cgroup v2 (swap there excludes memory)');
  if (s < m) throw new TsrunError(`linux.resources.memory.swap (${s}) must be at least memory.limit (${m})`);
  return String(s - m);
}

/** A limit as v2 spells it: -1 is "max", 0 is "not set". */
export function v2Limit(value: number | undefined): string | undefined {
  if (value === undefined || value === 0) return undefined;
  return value === -1 ? 'max' : String(value);
}

/** pids.limit: positive is the limit; 0 or negative means no limit. */
export function pidsMax(limit: number): string {
  return limit > 0 ? String(limit) : 'max';
}

/** A v1 devices.allow/devices.deny line: "c 1:3 rwm", with "*" for any major or minor. */
export function deviceRuleLine(rule: LinuxDeviceCgroup): string {
  const type = rule.type ?? 'a';
  if (!['a', 'b', 'c'].includes(type)) throw new TsrunError(`invalid device cgroup type ${JSON.stringify(type)}`);
  const num = (n: number | null | undefined): string => (n === undefined || n === null || n < 0 ? '*' : String(n));
  const access = rule.access ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access)) throw new TsrunError(`invalid device cgroup access ${JSON.stringify(access)}`);
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}
