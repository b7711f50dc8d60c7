import { cpuSharesToWeight, deviceRuleLine, hasSettings, memorySwapForV2, pidsMax, v2Limit } from './resources';

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
