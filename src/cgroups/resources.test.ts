import {
  blkioWeightToIoWeight,
  cpuSharesToWeight,
  deviceRuleLine,
  deviceValueLine,
  hasSettings,
  hugePageSizeNames,
  ioMaxLine,
  memorySwapForV2,
  parseCpuList,
  parseRamSize,
  pidsMax,
  rdmaLine,
  v2Limit,
} from './resources';

test('cpu shares map onto cpu.weight through both ends and the defaults', () => {
  expect(cpuSharesToWeight(0)).toBe(0);
  expect(cpuSharesToWeight(2)).toBe(1);
  expect(cpuSharesToWeight(1024)).toBe(100);
  expect(cpuSharesToWeight(512)).toBe(59);
  expect(cpuSharesToWeight(262144)).toBe(10000);
  expect(cpuSharesToWeight(1 << 20)).toBe(10000);
});

test('memory+swap becomes v2 swap alone', () => {
  expect(memorySwapForV2(undefined, 100)).toBeUndefined();
  expect(memorySwapForV2(300, 100)).toBe('200');
  expect(memorySwapForV2(100, 100)).toBe('0');
  expect(memorySwapForV2(-1, 100)).toBe('max');
  expect(memorySwapForV2(undefined, -1)).toBe('max');
  expect(memorySwapForV2(300, -1)).toBe('300');
  expect(() => memorySwapForV2(300, undefined)).toThrow(/needs memory.limit/);
  expect(() => memorySwapForV2(50, 100)).toThrow(/at least/);
});

test('limits and pids', () => {
  expect(v2Limit(undefined)).toBeUndefined();
  expect(v2Limit(0)).toBeUndefined();
  expect(v2Limit(-1)).toBe('max');
  expect(v2Limit(4096)).toBe('4096');
  expect(pidsMax(20)).toBe('20');
  expect(pidsMax(0)).toBe('max');
  expect(pidsMax(-1)).toBe('max');
});

test('device rules in the v1 file syntax', () => {
  expect(deviceRuleLine({ allow: false, access: 'rwm' })).toBe('a *:* rwm');
  expect(deviceRuleLine({ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' })).toBe('c 1:3 rw');
  expect(deviceRuleLine({ allow: true, type: 'c', major: 136, minor: null })).toBe('c 136:* rwm');
  expect(() => deviceRuleLine({ allow: true, type: 'x' })).toThrow(/type/);
  expect(() => deviceRuleLine({ allow: true, access: 'rx' })).toThrow(/access/);
});

test('hasSettings ignores empty objects and arrays', () => {
  expect(hasSettings(undefined)).toBe(false);
  expect(hasSettings({})).toBe(false);
  expect(hasSettings([])).toBe(false);
  expect(hasSettings({ weightDevice: [] })).toBe(false);
  expect(hasSettings({ weight: 10 })).toBe(true);
});

test('blkio weight maps onto io.weight end to end', () => {
  expect(blkioWeightToIoWeight(0)).toBe(0);
  expect(blkioWeightToIoWeight(10)).toBe(1);
  expect(blkioWeightToIoWeight(500)).toBe(4950);
  expect(blkioWeightToIoWeight(1000)).toBe(10000);
});

test('device lines for blkio, io.max and rdma.max', () => {
  expect(deviceValueLine({ major: 8, minor: 0 }, 500)).toBe('8:0 500');
  expect(ioMaxLine({ major: 254, minor: 0, rate: 1048576 }, 'rbps')).toBe('254:0 rbps=1048576');
  expect(ioMaxLine({ major: 254, minor: 0, rate: 100 }, 'wiops')).toBe('254:0 wiops=100');
  expect(rdmaLine('mlx4_0', { hcaHandles: 2, hcaObjects: 2000 })).toBe('mlx4_0 hca_handle=2 hca_object=2000');
  expect(rdmaLine('mlx4_0', { hcaObjects: 7 })).toBe('mlx4_0 hca_object=7');
});

test('huge page sizes as cgroup files name them', () => {
  expect(hugePageSizeNames(['hugepages-2048kB', 'hugepages-1048576kB', 'hugepages-64kB', 'other'])).toEqual(['2MB', '1GB', '64KB']);
});

test('cpu lists', () => {
  expect(parseCpuList('0-2,4\n')).toEqual([0, 1, 2, 4]);
  expect(parseCpuList('')).toEqual([]);
  expect(() => parseCpuList('3-1')).toThrow(/3 > 1/);
  expect(() => parseCpuList('a')).toThrow(/invalid/);
});

test('memory sizes as runc update takes them', () => {
  expect(parseRamSize('4096')).toBe(4096);
  expect(parseRamSize('512m')).toBe(512 * 1024 * 1024);
  expect(parseRamSize('512M')).toBe(512 * 1024 * 1024);
  expect(parseRamSize('1g')).toBe(1024 ** 3);
  expect(parseRamSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
  expect(parseRamSize('64 kb')).toBe(65536);
  expect(parseRamSize('12x')).toBeUndefined();
  expect(parseRamSize('-5')).toBeUndefined();
  expect(parseRamSize('')).toBeUndefined();
  expect(parseRamSize('1.2.3m')).toBeUndefined();
});
