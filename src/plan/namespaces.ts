/** Namespaces to create and to join, as clone flags and paths. */
import type { Linux, NamespaceType } from '../spec/types';
import { CLONE } from './linux';
import type { NamespaceJoin } from './types';

export const NAMESPACE_FLAGS: Record<NamespaceType, number> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

export interface NamespacePlan {
  cloneFlags: number;
  joins: NamespaceJoin[];
  timeOffsets?: string;
}

export function namespacePlan(linux: Linux | undefined): NamespacePlan {
  let cloneFlags = 0;
  const joins: NamespaceJoin[] = [];
  for (const ns of linux?.namespaces ?? []) {
    const flag = NAMESPACE_FLAGS[ns.type];
    if (ns.path) joins.push({ flag, path: ns.path });
    else cloneFlags |= flag;
  }
  let timeOffsets: string | undefined;
  if (cloneFlags & CLONE.NEWTIME && linux?.timeOffsets) {
    timeOffsets = Object.entries(linux.timeOffsets)
      .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
      .join('');
  }
  return { cloneFlags, joins, timeOffsets };
}

export function hasNamespace(linux: Linux | undefined, type: NamespaceType): boolean {
  return (linux?.namespaces ?? []).some((n) => n.type === type);
}

export function createsNamespace(linux: Linux | undefined, type: NamespaceType): boolean {
  return (linux?.namespaces ?? []).some((n) => n.type === type && !n.path);
}
