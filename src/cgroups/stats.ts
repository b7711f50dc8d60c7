/**
 * Resource statistics of a container's cgroup in the shape `runc events` prints (runc's
 * types.Stats: field names, units, which fields are left out when zero), read from the v1
 * controllers or the v2 directory. Counters are bigints: limits like v1's "unlimited"
 * (9223372036854771712) and v2's "max" (2^64-1) do not fit a double.
 */
import * as fs from 'fs';
import * as path from 'path';
import { wrapError } from '../errors';
import { hugePageSizes } from './host';
import { parseCpuList } from './resources';

export interface MemoryEntry {
  limit: bigint;
  usage?: bigint;
  max?: bigint;
  failcnt: bigint;
}

export interface BlkioEntry {
  major?: bigint;
  minor?: bigint;
  op?: string;
  value?: bigint;
}

export interface Blkio {
  ioServiceBytesRecursive?: BlkioEntry[];
  ioServicedRecursive?: BlkioEntry[];
  ioQueueRecursive?: BlkioEntry[];
  ioServiceTimeRecursive?: BlkioEntry[];
  ioWaitTimeRecursive?: BlkioEntry[];
  ioMergedRecursive?: BlkioEntry[];
  ioTimeRecursive?: BlkioEntry[];
  sectorsRecursive?: BlkioEntry[];
}

export interface ContainerStats {
  cpu: {
    usage: { total?: bigint; percpu?: bigint[]; percpu_kernel?: bigint[]; percpu_user?: bigint[]; kernel: bigint; user: bigint };
    throttling: { periods?: bigint; throttledPeriods?: bigint; throttledTime?: bigint };
  };
  cpuset: {
    cpus?: number[];
    cpu_exclusive: bigint;
    mems?: number[];
    mem_hardwall: bigint;
    mem_exclusive: bigint;
    memory_migrate: bigint;
    memory_spread_page: bigint;
    memory_spread_slab: bigint;
    memory_pressure: bigint;
    sched_load_balance: bigint;
    sched_relax_domain_level: bigint;
  };
  memory: {
    cache?: bigint;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw?: Record<string, bigint>;
  };
  pids: { current?: bigint; limit?: bigint };
  blkio: Blkio;
  hugetlb: Record<string, { usage?: bigint; max?: bigint; failcnt: bigint }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

const UINT64_MAX = (1n << 64n) - 1n;

/** A cgroup counter: "max" is 2^64-1 and negative values (kernel accounting glitches) are 0, as runc reads them. */
export function parseCounter(text: string): bigint {
  const t = text.trim();
  if (t === 'max') return UINT64_MAX;
  if (!/^-?\d+$/.test(t)) throw new Error(`not a number: ${JSON.stringify(t)}`);
  const v = BigInt(t);
  return v < 0n ? 0n : v;
}

/** File contents, or undefined when the file does not exist (a controller or feature the kernel lacks). */
function readOptional(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw wrapError(`read ${path.join(dir, file)}`, err);
  }
}

function counter(dir: string, file: string): bigint | undefined {
  const text = readOptional(dir, file);
  if (text === undefined) return undefined;
  try {
    return parseCounter(text);
  } catch (err) {
    throw wrapError(`parse ${path.join(dir, file)}`, err);
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as a map. */
export function parseKeyValues(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    try {
      out.set(line.slice(0, sp), parseCounter(line.slice(sp + 1)));
    } catch {
      // A line that is not "key number" (some kernels add others) is skipped.
    }
  }
  return out;
}

function keyValues(dir: string, file: string): Map<string, bigint> | undefined {
  const text = readOptional(dir, file);
  return text === undefined ? undefined : parseKeyValues(text);
}

/** Drop the keys whose value is zero, empty or absent: Go's omitempty. */
function omitEmpty<T extends object>(obj: T, keys: (keyof T)[]): T {
  for (const k of keys) {
    const v = obj[k] as unknown;
    if (v === undefined || v === 0n || v === '' || (Array.isArray(v) && v.length === 0)) delete obj[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) delete obj[k];
  }
  return obj;
}

function memoryEntry(limit = 0n, usage = 0n, max = 0n, failcnt = 0n): MemoryEntry {
  return omitEmpty({ limit, usage, max, failcnt }, ['usage', 'max']);
}

function emptyStats(): ContainerStats {
  return {
    cpu: { usage: { kernel: 0n, user: 0n }, throttling: {} },
    cpuset: {
      cpu_exclusive: 0n,
      mem_hardwall: 0n,
      mem_exclusive: 0n,
      memory_migrate: 0n,
      memory_spread_page: 0n,
      memory_spread_slab: 0n,
      memory_pressure: 0n,
      sched_load_balance: 0n,
      sched_relax_domain_level: 0n,
    },
    memory: { usage: memoryEntry(), swap: memoryEntry(), kernel: memoryEntry(), kernelTCP: memoryEntry() },
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

function sortedRecord(m: Map<string, bigint>): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}

function throttling(cpuStat: Map<string, bigint> | undefined, timeKey: string, timeScale: bigint): ContainerStats['cpu']['throttling'] {
  if (!cpuStat) return {};
  const time = cpuStat.get(timeKey);
  return omitEmpty(
    {
      periods: cpuStat.get('nr_periods'),
      throttledPeriods: cpuStat.get('nr_throttled'),
      throttledTime: time === undefined ? undefined : time * timeScale,
    },
    ['periods', 'throttledPeriods', 'throttledTime'],
  );
}

// ---- cgroup v1 ----

/** CPU time in cpuacct.stat is in USER_HZ ticks, 100 a second on every Linux architecture. */
const NS_PER_TICK = 10_000_000n;

function v1Cpu(cpuDir: string | undefined, cpuacctDir: string | undefined, s: ContainerStats): void {
  if (cpuacctDir && fs.existsSync(cpuacctDir)) {
    const stat = keyValues(cpuacctDir, 'cpuacct.stat');
    const usage: ContainerStats['cpu']['usage'] = {
      total: counter(cpuacctDir, 'cpuacct.usage'),
      percpu: (readOptional(cpuacctDir, 'cpuacct.usage_percpu') ?? '').split(/\s+/).filter(Boolean).map(parseCounter),
      kernel: (stat?.get('system') ?? 0n) * NS_PER_TICK,
      user: (stat?.get('user') ?? 0n) * NS_PER_TICK,
    };
    // "cpu user system" then one line per CPU, in nanoseconds.
    const all = readOptional(cpuacctDir, 'cpuacct.usage_all');
    if (all) {
      const kernel: bigint[] = [];
      const user: bigint[] = [];
      for (const line of all.split('\n').slice(1)) {
        const f = line.split(' ');
        if (f.length < 3) continue;
        user.push(parseCounter(f[1]));
        kernel.push(parseCounter(f[2]));
      }
      usage.percpu_kernel = kernel;
      usage.percpu_user = user;
    }
    s.cpu.usage = omitEmpty(
      { total: usage.total, percpu: usage.percpu, percpu_kernel: usage.percpu_kernel, percpu_user: usage.percpu_user, kernel: usage.kernel, user: usage.user },
      ['total', 'percpu', 'percpu_kernel', 'percpu_user'],
    );
  }
  if (cpuDir) s.cpu.throttling = throttling(keyValues(cpuDir, 'cpu.stat'), 'throttled_time', 1n);
}

function v1Cpuset(dir: string, s: ContainerStats): void {
  if (!fs.existsSync(dir)) return;
  const num = (name: string): bigint => {
    const text = readOptional(dir, `cpuset.${name}`);
    return text === undefined ? 0n : BigInt(text.trim() || '0');
  };
  const list = (name: string): number[] | undefined => {
    const text = readOptional(dir, `cpuset.${name}`);
    return text === undefined ? undefined : parseCpuList(text);
  };
  s.cpuset = omitEmpty(
    {
      cpus: list('cpus'),
      cpu_exclusive: num('cpu_exclusive'),
      mems: list('mems'),
      mem_hardwall: num('mem_hardwall'),
      mem_exclusive: num('mem_exclusive'),
      memory_migrate: num('memory_migrate'),
      memory_spread_page: num('memory_spread_page'),
      memory_spread_slab: num('memory_spread_slab'),
      memory_pressure: num('memory_pressure'),
      sched_load_balance: num('sched_load_balance'),
      sched_relax_domain_level: num('sched_relax_domain_level'),
    },
    ['cpus', 'mems'],
  );
}

/** usage/max_usage/failcnt/limit of memory, memory.memsw, memory.kmem or memory.kmem.tcp. */
function v1MemoryEntry(dir: string, prefix: string): MemoryEntry {
  const usage = counter(dir, `${prefix}.usage_in_bytes`);
  // Swap and kernel accounting are optional in the kernel.
  if (usage === undefined) return memoryEntry();
  return memoryEntry(
    counter(dir, `${prefix}.limit_in_bytes`) ?? 0n,
    usage,
    counter(dir, `${prefix}.max_usage_in_bytes`) ?? 0n,
    counter(dir, `${prefix}.failcnt`) ?? 0n,
  );
}

function v1Memory(dir: string, s: ContainerStats): void {
  const raw = keyValues(dir, 'memory.stat');
  if (!raw) return;
  s.memory = omitEmpty(
    {
      cache: raw.get('cache') ?? 0n,
      usage: v1MemoryEntry(dir, 'memory'),
      swap: v1MemoryEntry(dir, 'memory.memsw'),
      kernel: v1MemoryEntry(dir, 'memory.kmem'),
      kernelTCP: v1MemoryEntry(dir, 'memory.kmem.tcp'),
      raw: sortedRecord(raw),
    },
    ['cache', 'raw'],
  );
}

function pidsStats(dir: string, s: ContainerStats): void {
  const current = counter(dir, 'pids.current');
  if (current === undefined) return;
  const max = counter(dir, 'pids.max') ?? 0n;
  s.pids = omitEmpty({ current, limit: max === UINT64_MAX ? 0n : max }, ['current', 'limit']);
}

/** Lines "8:0 Read 1234" (or "8:0 1234"); the "Total N" line is skipped. */
export function parseBlkioLines(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(/[ :]/).filter(Boolean);
    if (f.length < 3) continue;
    const [major, minor] = [BigInt(f[0]), BigInt(f[1])];
    const entry: BlkioEntry = f.length === 4 ? { major, minor, op: f[2], value: BigInt(f[3]) } : { major, minor, value: BigInt(f[2]) };
    out.push(omitEmpty(entry, ['major', 'minor', 'op', 'value']));
  }
  return out;
}

/**
 * The first family of blkio statistics the kernel offers (BFQ debug, BFQ, CFQ, throttle
 * recursive, throttle), as runc picks them: a family counts when its first file exists.
 */
const BLKIO_FAMILIES: [string, keyof Blkio][][] = [
  [
    ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
    ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.sectors_recursive', 'sectorsRecursive'],
    ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.time_recursive', 'ioTimeRecursive'],
    ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
  ],
];

function v1Blkio(dir: string, s: ContainerStats): void {
  for (const family of BLKIO_FAMILIES) {
    if (readOptional(dir, family[0][0]) === undefined) continue;
    const blkio: Blkio = {};
    for (const [file, key] of family) {
      const entries = parseBlkioLines(readOptional(dir, file) ?? '');
      if (entries.length) blkio[key] = entries;
    }
    // Go prints the fields in declaration order, not in the order they were filled.
    const order: (keyof Blkio)[] = [
      'ioServiceBytesRecursive',
      'ioServicedRecursive',
      'ioQueueRecursive',
      'ioServiceTimeRecursive',
      'ioWaitTimeRecursive',
      'ioMergedRecursive',
      'ioTimeRecursive',
      'sectorsRecursive',
    ];
    s.blkio = {};
    for (const k of order) if (blkio[k]) s.blkio[k] = blkio[k];
    return;
  }
}

function v1Hugetlb(dir: string, s: ContainerStats): void {
  if (!fs.existsSync(dir)) return;
  for (const size of hugePageSizes()) {
    // Reservation accounting (".rsvd") when the kernel has it: it counts what mmap promised.
    const rsvd = fs.existsSync(path.join(dir, `hugetlb.${size}.rsvd.usage_in_bytes`)) ? '.rsvd' : '';
    const prefix = `hugetlb.${size}${rsvd}`;
    const usage = counter(dir, `${prefix}.usage_in_bytes`);
    if (usage === undefined) continue;
    s.hugetlb[size] = omitEmpty(
      { usage, max: counter(dir, `${prefix}.max_usage_in_bytes`) ?? 0n, failcnt: counter(dir, `${prefix}.failcnt`) ?? 0n },
      ['usage', 'max'],
    );
  }
}

/** Statistics from the v1 directories (keyed by controller, as the v1 manager persists them). */
export function v1Stats(dirs: Record<string, string>): ContainerStats {
  const s = emptyStats();
  v1Cpu(dirs.cpu, dirs.cpuacct, s);
  if (dirs.cpuset) v1Cpuset(dirs.cpuset, s);
  if (dirs.memory) v1Memory(dirs.memory, s);
  if (dirs.pids) pidsStats(dirs.pids, s);
  if (dirs.blkio) v1Blkio(dirs.blkio, s);
  if (dirs.hugetlb) v1Hugetlb(dirs.hugetlb, s);
  return s;
}

// ---- cgroup v2 ----

function v2MemoryEntry(dir: string, prefix: string): MemoryEntry | undefined {
  const usage = counter(dir, `${prefix}.current`);
  if (usage === undefined) return undefined;
  return memoryEntry(counter(dir, `${prefix}.max`) ?? 0n, usage, counter(dir, `${prefix}.peak`) ?? 0n);
}

function v2Memory(dir: string, s: ContainerStats): void {
  const raw = keyValues(dir, 'memory.stat');
  if (!raw) return;
  const usage = v2MemoryEntry(dir, 'memory') ?? memoryEntry();
  // runc's "swap" is memory plus swap, as v1's memsw was.
  const swapOnly = v2MemoryEntry(dir, 'memory.swap');
  let swap = memoryEntry();
  if (swapOnly) {
    const limit = swapOnly.limit === UINT64_MAX || usage.limit === UINT64_MAX ? UINT64_MAX : swapOnly.limit + usage.limit;
    swap = memoryEntry(limit, (swapOnly.usage ?? 0n) + (usage.usage ?? 0n));
  }
  s.memory = omitEmpty(
    { cache: raw.get('file') ?? 0n, usage, swap, kernel: memoryEntry(), kernelTCP: memoryEntry(), raw: sortedRecord(raw) },
    ['cache', 'raw'],
  );
}

function v2Cpu(dir: string, s: ContainerStats): void {
  const stat = keyValues(dir, 'cpu.stat');
  if (!stat) return;
  const usec = (k: string): bigint | undefined => {
    const v = stat.get(k);
    return v === undefined ? undefined : v * 1000n;
  };
  s.cpu.usage = omitEmpty({ total: usec('usage_usec'), kernel: usec('system_usec') ?? 0n, user: usec('user_usec') ?? 0n }, ['total']);
  s.cpu.throttling = throttling(stat, 'throttled_usec', 1000n);
}

/** io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
export function parseIoStat(text: string): Blkio {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const [dev, ...items] = line.split(' ').filter(Boolean);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const [major, minor] = [BigInt(m[1]), BigInt(m[2])];
    for (const item of items) {
      const [key, value] = item.split('=');
      if (value === undefined || !/^\d+$/.test(value)) continue;
      const table = key === 'rbytes' || key === 'wbytes' ? bytes : key === 'rios' || key === 'wios' ? ios : undefined;
      if (!table) continue;
      table.push(omitEmpty({ major, minor, op: key[0] === 'r' ? 'Read' : 'Write', value: BigInt(value) }, ['major', 'minor', 'value']));
    }
  }
  const out: Blkio = {};
  if (bytes.length) out.ioServiceBytesRecursive = bytes;
  if (ios.length) out.ioServicedRecursive = ios;
  return out;
}

function v2Hugetlb(dir: string, s: ContainerStats): void {
  for (const size of hugePageSizes()) {
    const rsvd = fs.existsSync(path.join(dir, `hugetlb.${size}.rsvd.current`)) ? '.rsvd' : '';
    const usage = counter(dir, `hugetlb.${size}${rsvd}.current`);
    if (usage === undefined) continue;
    const failcnt = keyValues(dir, `hugetlb.${size}.events`)?.get('max') ?? 0n;
    s.hugetlb[size] = omitEmpty({ usage, failcnt }, ['usage']);
  }
}

/** Statistics from a v2 directory. */
export function v2Stats(dir: string): ContainerStats {
  const s = emptyStats();
  v2Cpu(dir, s);
  v2Memory(dir, s);
  pidsStats(dir, s);
  if (s.pids.current === undefined) {
    // No pids controller: count the processes as runc does.
    const procs = readOptional(dir, 'cgroup.procs');
    if (procs !== undefined) s.pids = omitEmpty({ current: BigInt(procs.split('\n').filter(Boolean).length) }, ['current']);
  }
  const io = readOptional(dir, 'io.stat');
  if (io !== undefined) s.blkio = parseIoStat(io);
  v2Hugetlb(dir, s);
  return s;
}

const BIGINT_MARK = '__tsrun_u64__';

/** JSON for an event line, with bigints written as plain JSON numbers (as Go prints uint64). */
export function toJsonLine(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${BIGINT_MARK}${v}` : v));
  return text.replace(new RegExp(`"${BIGINT_MARK}(-?\\d+)"`, 'g'), '$1') + '\n';
}
