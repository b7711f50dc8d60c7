/**
 * Id-mapped bind mounts (idmap/ridmap). The id-mapping must be set by a process privileged over
 * the filesystem's own user namespace, which the init inside a container's user namespace is
 * not; so tsrun makes each detached, id-mapped tree here, as host root, and the init only
 * attaches it (move_mount) at its destination inside the rootfs.
 */
import * as fs from 'fs';
import { wrapError } from '../errors';
import { native } from '../native';
import { MS } from '../plan/linux';
import type { LaunchPlan } from '../plan/types';

/** One tree fd per id-mapped mount of the plan, in plan order. The caller closes them. */
export function openIdmappedTrees(plan: LaunchPlan): number[] {
  const mounts = plan.mounts.filter((m) => m.idmap);
  if (mounts.length === 0) return [];
  const n = native();
  const trees: number[] = [];
  // mounts with the same mapping share one user namespace, as runc does
  const usernsByKey = new Map<string, number>();
  try {
    for (const m of mounts) {
      const idmap = m.idmap!;
      try {
        const key = idmap.usernsPath !== undefined ? `path:${idmap.usernsPath}` : `map:${idmap.uidMap}|${idmap.gidMap}`;
        let userns = usernsByKey.get(key);
        if (userns === undefined) {
          userns = idmap.usernsPath !== undefined ? fs.openSync(idmap.usernsPath, 'r') : n.makeUserns(idmap.uidMap, idmap.gidMap);
          usernsByKey.set(key, userns);
        }
        trees.push(n.idmappedTree(m.source!, userns, (m.flags & MS.REC) !== 0, idmap.recursive));
      } catch (err) {
        throw wrapError(`${idmap.where}: id-mapped mount of ${m.source} on ${m.destination}`, err);
      }
    }
    return trees;
  } catch (err) {
    for (const fd of trees) n.close(fd);
    throw err;
  } finally {
    for (const fd of usernsByKey.values()) n.close(fd);
  }
}
