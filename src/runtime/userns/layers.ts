// The overlay's directories for a container with a user namespace. The
// overlay is mounted by root inside, which has no privilege over host files
// (capable_wrt_inode_uidgid()): its upper and work directories must belong to
// the host ids of container root, and every directory above them must be
// searchable by "other". The base below is an idmapped mount, attached by
// the launcher (idmapped-mount.ts) at `lower` in the container's mount namespace.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { hostIdOf, type IdMapping, type UsernsSpec } from './idmap.js';

/** The empty directory the idmapped base is attached at, next to upper and work. */
export function idmappedLowerDir(upper: string): string {
  return path.join(path.dirname(upper), 'lower');
}

/** The directory the bind sources are attached under (host-mounts.ts), next to the idmapped lower. */
export function bindStagingDir(idmappedLower: string): string {
  return path.join(path.dirname(idmappedLower), 'binds');
}

const isMapped = (map: IdMapping[], hostId: number) => map.some((m) => hostId >= m.hostID && hostId < m.hostID + m.size);

/**
 * The first directory above `dir` that root inside the namespace cannot
 * search, or undefined. Root inside has no privilege over a host inode unless
 * both its owner and group are mapped (capable_wrt_inode_uidgid() in
 * kernel/capability.c); otherwise "other"'s x bit decides. ACLs are not read.
 */
export function closedToMappedRoot(dir: string, spec: UsernsSpec): string | undefined {
  const parts = path.resolve(dir).split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const at = '/' + parts.slice(0, i).join('/');
    const st = fs.statSync(at);
    if (isMapped(spec.uidMappings, st.uid) && isMapped(spec.gidMappings, st.gid)) continue;
    if ((st.mode & 0o1) === 0) return at;
  }
  return undefined;
}

/** chown upper and work to container root's host ids, make the idmapped lower's mount point, and refuse a path root inside cannot reach. */
export function prepareUsernsLayers(layers: { upper: string; work: string }, spec: UsernsSpec): string {
  const uid = hostIdOf(spec.uidMappings, 0)!;
  const gid = hostIdOf(spec.gidMappings, 0)!;
  const blocked = closedToMappedRoot(layers.upper, spec);
  if (blocked) {
    throw new UserError(`userns: ${blocked} is closed to root inside the container (host uid ${uid}), which mounts the overlay: chmod o+x ${blocked}, or set CONTAINY_STATE_DIR to a directory others may search`);
  }
  for (const dir of [layers.upper, layers.work]) fs.chownSync(dir, uid, gid);
  const lower = idmappedLowerDir(layers.upper);
  fs.mkdirSync(lower, { recursive: true });
  return lower;
}
