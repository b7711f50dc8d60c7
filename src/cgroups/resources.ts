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

/**
 * blkio weight (v1, 10..1000) to io.weight (v2, 1..10000): runc's linear map, which sends the
 * v1 bounds onto the v2 bounds (10 -> 1, 1000 -> 10000). 0 means unset.
 */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** "major:minor value", the line the v1 blkio device files take. */
export function deviceValueLine(d: { major: number; minor: number }, value: number): string {
  return `${d.major}:${d.minor} ${value}`;
}

/** One io.max line: "major:minor rbps=N" (key one of rbps, wbps, riops, wiops). */
export function ioMaxLine(d: { major: number; minor: number; rate: number }, key: 'rbps' | 'wbps' | 'riops' | 'wiops'): string {
  return `${d.major}:${d.minor} ${key}=${d.rate}`;
}

/** One rdma.max line: "mlx4_0 hca_handle=2 hca_object=2000" (only the limits given). */
export function rdmaLine(device: string, limits: { hcaHandles?: number; hcaObjects?: number }): string {
  let line = device;
  if (limits.hcaHandles !== undefined) line += ` hca_handle=${limits.hcaHandles}`;
  if (limits.hcaObjects !== undefined) line += ` hca_object=${limits.hcaObjects}`;
  return line;
}

/**
 * Huge page sizes as cgroup file names spell them ("2MB", "1GB"), from the entries of
 * /sys/kernel/mm/hugepages ("hugepages-2048kB").
 */
export function hugePageSizeNames(entries: string[]): string[] {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  const out: string[] = [];
  for (const e of entries) {
    const m = /^hugepages-(\d+)kB$/.exec(e);
    if (!m) continue;
    let size = Number(m[1]);
    let unit = 1;
    while (size >= 1024 && unit < units.length - 1) {
      size /= 1024;
      unit++;
    }
    out.push(`${size}${units[unit]}`);
  }
  return out;
}

/** A cpuset list ("0-2,4") as the numbers it names. Empty text is an empty list. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new TsrunError(`invalid cpu/node list ${JSON.stringify(text)}`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > to) throw new TsrunError(`invalid cpu/node list ${JSON.stringify(text)}: ${from} > ${to}`);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

const RAM_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * A memory size as `update`'s flags take it (what runc reads with go-units' RAMInBytes):
 * a number, optionally fractional, then an optional binary unit k/m/g/t/p with optional
 * "i" and "b" ("512m", "1.5GiB", "4096", "64 kb"). Returns undefined when malformed.
 */
export function parseRamSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  if (!Number.isFinite(value)) return undefined;
  return Math.trunc(value * RAM_UNITS[(m[2] ?? '').toLowerCase()]);
}
