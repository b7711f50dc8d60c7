/**
 * What the host offers beyond the cgroup files themselves (huge page sizes), and the shape of
 * a write planned before any is made, so a setting the host cannot honour fails cleanly.
 */
import * as fs from 'fs';
import { TsrunError } from '../errors';
import type { LinuxHugepageLimit } from '../spec/types';
import { hugePageSizeNames } from './resources';

/** [directory, file, value], written in order once every check has passed. */
export type PendingWrite = [string, string, string];

let cachedSizes: string[] | undefined;

/** The huge page sizes the kernel supports, as cgroup files name them ("2MB", "1GB"). */
export function hugePageSizes(): string[] {
  if (!cachedSizes) {
    try {
      cachedSizes = hugePageSizeNames(fs.readdirSync('/sys/kernel/mm/hugepages'));
    } catch {
      cachedSizes = [];
    }
  }
  return cachedSizes;
}

export function checkHugePageSizes(limits: LinuxHugepageLimit[]): void {
  const sizes = hugePageSizes();
  for (const [i, { pageSize }] of limits.entries()) {
    if (!sizes.includes(pageSize)) {
      const offered = sizes.length ? `this host supports ${sizes.join(', ')}` : 'this host has no huge pages';
      throw new TsrunError(`linux.resources.hugepageLimits[${i}].pageSize ${JSON.stringify(pageSize)} is not supported (${offered})`);
    }
  }
}
