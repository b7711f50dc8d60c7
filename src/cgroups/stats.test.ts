import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseBlkioLines, parseCounter, parseIoStat, parseKeyValues, toJsonLine, v1Stats, v2Stats } from './stats';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-stats-test-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function dirWith(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return dir;
}

test('counters: max, negatives, garbage', () => {
  expect(parseCounter('max\n')).toBe((1n << 64n) - 1n);
  expect(parseCounter('9223372036854771712')).toBe(9223372036854771712n);
  expect(parseCounter('-5')).toBe(0n);
  expect(() => parseCounter('x')).toThrow();
  expect(parseKeyValues('a 1\nb 2\nweird\n')).toEqual(new Map([['a', 1n], ['b', 2n]]));
});

test('bigints are written as plain JSON numbers', () => {
  expect(toJsonLine({ a: 9223372036854771712n, b: [1n, 2n], c: 'x', d: null })).toBe('{"a":9223372036854771712,"b":[1,2],"c":"x","d":null}\n');
});

test('blkio and io.stat lines', () => {
  expect(parseBlkioLines('254:0 Read 4096\n254:0 Write 0\n254:0 Total 4096\nTotal 4096\n')).toEqual([
    { major: 254n, op: 'Read', value: 4096n },
    { major: 254n, op: 'Write' },
    { major: 254n, op: 'Total', value: 4096n },
  ]);
  expect(parseIoStat('254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n')).toEqual({
    ioServiceBytesRecursive: [
      { major: 254n, op: 'Read', value: 10n },
      { major: 254n, op: 'Write', value: 20n },
    ],
    ioServicedRecursive: [
      { major: 254n, op: 'Read', value: 1n },
      { major: 254n, op: 'Write', value: 2n },
    ],
  });
});

test('v1 statistics in runc events shape', () => {
  const unlimited = '9223372036854771712';
  const memory = dirWith('v1/memory', {
    'memory.stat': 'cache 0\nrss 49152\ntotal_rss 49152\n',
    'memory.usage_in_bytes': '618496',
    'memory.max_usage_in_bytes': '2740224',
    'memory.failcnt': '0',
    'memory.limit_in_bytes': '67108864',
    'memory.kmem.tcp.usage_in_bytes': '0',
    'memory.kmem.tcp.max_usage_in_bytes': '0',
    'memory.kmem.tcp.failcnt': '0',
    'memory.kmem.tcp.limit_in_bytes': unlimited,
  });
  const cpuacct = dirWith('v1/cpuacct', {
    'cpuacct.usage': '57007773',
    'cpuacct.usage_percpu': '53132212 3875561 \n',
    'cpuacct.usage_all': 'cpu user system\n0 16000000 28000000\n1 0 4000000\n',
    'cpuacct.stat': 'user 1\nsystem 3\n',
  });
  const cpu = dirWith('v1/cpu', { 'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n' });
  const pids = dirWith('v1/pids', { 'pids.current': '1', 'pids.max': 'max' });
  const s = v1Stats({ memory, cpuacct, cpu, pids, blkio: dirWith('v1/blkio', {}) });
  const json = JSON.parse(toJsonLine(s).replace(new RegExp(unlimited, 'g'), '"U"'));
  expect(json.cpu).toEqual({
    usage: { total: 57007773, percpu: [53132212, 3875561], percpu_kernel: [28000000, 4000000], percpu_user: [16000000, 0], kernel: 30000000, user: 10000000 },
    throttling: {},
  });
  expect(json.memory).toEqual({
    usage: { limit: 67108864, usage: 618496, max: 2740224, failcnt: 0 },
    swap: { limit: 0, failcnt: 0 },
    kernel: { limit: 0, failcnt: 0 },
    kernelTCP: { limit: 'U', failcnt: 0 },
    raw: { cache: 0, rss: 49152, total_rss: 49152 },
  });
  expect(json.pids).toEqual({ current: 1 });
  expect(json.blkio).toEqual({});
  expect(Object.keys(json)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
  expect(json.network_interfaces).toBeNull();
});

test('v2 statistics in runc events shape', () => {
  const dir = dirWith('v2', {
    'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n',
    'memory.stat': 'anon 4096\nfile 8192\n',
    'memory.current': '12288',
    'memory.max': '33554432',
    'memory.peak': '20000',
    'memory.swap.current': '0',
    'memory.swap.max': 'max',
    'pids.current': '3',
    'pids.max': '10',
    'io.stat': '',
  });
  const json = JSON.parse(toJsonLine(v2Stats(dir)).replace(/18446744073709551615/g, '"MAX"'));
  expect(json.cpu).toEqual({ usage: { total: 1500000, kernel: 500000, user: 1000000 }, throttling: { periods: 4, throttledPeriods: 1, throttledTime: 7000 } });
  expect(json.memory).toEqual({
    cache: 8192,
    usage: { limit: 33554432, usage: 12288, max: 20000, failcnt: 0 },
    swap: { limit: 'MAX', usage: 12288, failcnt: 0 },
    kernel: { limit: 0, failcnt: 0 },
    kernelTCP: { limit: 0, failcnt: 0 },
    raw: { anon: 4096, file: 8192 },
  });
  expect(json.pids).toEqual({ current: 3, limit: 10 });
});
