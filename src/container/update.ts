/**
 * `update`: change the limits of a live container. The new values come either from a
 * LinuxResources document (--resources FILE, or - for stdin) or from runc's flags, and are
 * written straight to the container's cgroup; what is not mentioned stays as it is.
 */
import * as fs from 'fs';
import { TsrunError } from '../errors';
import { logger } from '../log';
import type { LinuxResources } from '../spec/types';
import { parseRamSize } from '../cgroups/resources';
import { withLock } from './lock';
import { containerCgroup } from './pause';
import { deriveStatus, StateStore } from './state';
import type { GlobalOptions } from './options';

/** runc's update flags, as given (strings are what followed the flag; undefined when absent). */
export interface UpdateFlags {
  blkioWeight?: number;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuBurst?: string;
  cpuShares?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpuIdle?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  pidsLimit?: number;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

function unsigned(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new TsrunError(`invalid value for ${flag}: ${JSON.stringify(text)} is not an unsigned integer`);
  return Number(text);
}

function signed(flag: string, text: string): number {
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new TsrunError(`invalid value for ${flag}: ${JSON.stringify(text)} is not an integer`);
  return Number(text);
}

/** "-1" (unlimited) or a size like runc takes ("512m", "1g", "1048576"). */
function memorySize(flag: string, text: string): number {
  if (text === '-1') return -1;
  const bytes = parseRamSize(text);
  if (bytes === undefined) throw new TsrunError(`invalid value for ${flag}: invalid size: '${text}'`);
  return bytes;
}

/** The LinuxResources runc's flags describe; empty flags are left out. */
export function resourcesFromFlags(f: UpdateFlags): LinuxResources {
  const r: LinuxResources = {};
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (f.blkioWeight) r.blockIO = { weight: f.blkioWeight };
  if (f.cpusetCpus) cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems) cpu.mems = f.cpusetMems;
  if (f.cpuIdle) cpu.idle = signed('cpu-idle', f.cpuIdle);
  if (f.cpuBurst) cpu.burst = unsigned('cpu-burst', f.cpuBurst);
  if (f.cpuPeriod) cpu.period = unsigned('cpu-period', f.cpuPeriod);
  if (f.cpuRtPeriod) cpu.realtimePeriod = unsigned('cpu-rt-period', f.cpuRtPeriod);
  if (f.cpuShares) cpu.shares = unsigned('cpu-share', f.cpuShares);
  if (f.cpuQuota) cpu.quota = signed('cpu-quota', f.cpuQuota);
  if (f.cpuRtRuntime) cpu.realtimeRuntime = signed('cpu-rt-runtime', f.cpuRtRuntime);
  if (f.memory) memory.limit = memorySize('memory', f.memory);
  if (f.memorySwap) memory.swap = memorySize('memory-swap', f.memorySwap);
  if (f.kernelMemory) memory.kernel = memorySize('kernel-memory', f.kernelMemory);
  if (f.kernelMemoryTcp) memory.kernelTCP = memorySize('kernel-memory-tcp', f.kernelMemoryTcp);
  if (f.memoryReservation) memory.reservation = memorySize('memory-reservation', f.memoryReservation);
  if (f.pidsLimit !== undefined) r.pids = { limit: f.pidsLimit };
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (Object.keys(memory).length) r.memory = memory;
  return r;
}

/** A LinuxResources document from a file or stdin ("-"), checked against the config schema. */
export function readResources(source: string): LinuxResources {
  const name = source === '-' ? 'stdin' : source;
  let text: string;
  try {
    text = fs.readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    throw new TsrunError(`read resources from ${name}: ${(err as Error).message}`, { cause: err });
  }
  const validate = require('../spec/validate') as typeof import('../spec/validate');
  const doc = validate.parseJson(text, name);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new TsrunError(`${name}: must be a JSON object (LinuxResources)`);
  // The compiled schema checks whole configs: wrap the document in the smallest one.
  const spec = validate.validateConfig(
    { ociVersion: '1.0.0', root: { path: '.' }, process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['-'] }, linux: { resources: doc } },
    name,
  );
  return spec.linux!.resources!;
}

/**
 * What update changes, as runc's update does: memory (without the obsolete kernel limits),
 * cpu, blockIO, pids and unified. checkBeforeUpdate holds only when the document asks for it.
 */
export function updatableResources(r: LinuxResources): LinuxResources {
  const out: LinuxResources = {};
  if (r.memory) {
    const { kernel, kernelTCP, ...memory } = r.memory;
    if (kernel !== undefined || kernelTCP !== undefined) logger.warn('Kernel memory settings are ignored and will be removed');
    out.memory = memory;
  }
  if (r.cpu) out.cpu = r.cpu;
  if (r.blockIO) out.blockIO = r.blockIO;
  if (r.pids) out.pids = r.pids;
  if (r.unified) out.unified = r.unified;
  for (const field of ['devices', 'hugepageLimits', 'network', 'rdma'] as const) {
    if (r[field] !== undefined) logger.warn(`update does not change linux.resources.${field}; ignored`);
  }
  return out;
}

function resctrlHas(resource: 'L3' | 'MB'): boolean {
  try {
    return fs.readFileSync('/sys/fs/resctrl/schemata', 'utf8').split('\n').some((l) => l.trim().startsWith(`${resource}:`));
  } catch {
    return false;
  }
}

export function update(g: GlobalOptions, id: string, r: LinuxResources, flags: Pick<UpdateFlags, 'l3CacheSchema' | 'memBwSchema'> = {}): void {
  if (flags.l3CacheSchema && !resctrlHas('L3')) throw new TsrunError('Intel RDT/CAT: l3 cache schema is not enabled');
  if (flags.memBwSchema && !resctrlHas('MB')) throw new TsrunError('Intel RDT/MBA: memory bandwidth schema is not enabled');
  // tsrun never sets up an Intel RDT group, so there is nothing to update.
  if (flags.l3CacheSchema || flags.memBwSchema) throw new TsrunError('updating a non-existent Intel RDT configuration is not supported');
  const store = new StateStore(g.root);
  withLock(g.root, id, () => {
    const state = store.read(id);
    if (deriveStatus(store, state) === 'stopped') throw new TsrunError('container not running');
    containerCgroup(state).apply(updatableResources(r));
  });
}
