import { resourcesFromFlags, updatableResources } from './update';

test('runc update flags become LinuxResources', () => {
  expect(resourcesFromFlags({})).toEqual({});
  expect(
    resourcesFromFlags({
      memory: '512m',
      memorySwap: '-1',
      memoryReservation: '256M',
      cpuShares: '512',
      cpuQuota: '-1',
      cpuPeriod: '100000',
      cpuBurst: '1000',
      cpuIdle: '1',
      cpusetCpus: '0-1',
      cpusetMems: '0',
      cpuRtPeriod: '1000000',
      cpuRtRuntime: '950000',
      pidsLimit: 0,
      blkioWeight: 500,
    }),
  ).toEqual({
    blockIO: { weight: 500 },
    cpu: { cpus: '0-1', mems: '0', idle: 1, burst: 1000, period: 100000, realtimePeriod: 1000000, shares: 512, quota: -1, realtimeRuntime: 950000 },
    memory: { limit: 512 * 1024 * 1024, swap: -1, reservation: 256 * 1024 * 1024 },
    pids: { limit: 0 },
  });
});

test('bad flag values are named', () => {
  expect(() => resourcesFromFlags({ memory: '12x' })).toThrow("invalid value for memory: invalid size: '12x'");
  expect(() => resourcesFromFlags({ cpuPeriod: '-5' })).toThrow('invalid value for cpu-period');
  expect(() => resourcesFromFlags({ cpuQuota: 'abc' })).toThrow('invalid value for cpu-quota');
});

test('update keeps what runc changes and drops kernel memory', () => {
  expect(
    updatableResources({ memory: { limit: 1, kernel: 2, kernelTCP: 3, checkBeforeUpdate: true }, pids: { limit: 3 }, unified: { 'pids.max': '4' } }),
  ).toEqual({ memory: { limit: 1, checkBeforeUpdate: true }, pids: { limit: 3 }, unified: { 'pids.max': '4' } });
});
