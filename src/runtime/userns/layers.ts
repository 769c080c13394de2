// The overlay's directories for a container with a user namespace. The
// overlay is mounted by root inside, which has no privilege over host files
// (capable_wrt_inode_uidgid()): its upper and work directories must belong to
// the host ids of container root, and every directory above them must be
// searchable by "other". The base below is an idmapped mount, attached by
// the launcher (idmapped-mount.ts) at `lower` in the container's mount namespace.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { blockedForMappedRoot } from './helper.js';
import { hostIdOf, type UsernsSpec } from './idmap.js';

/** The empty directory the idmapped base is attached at, next to upper and work. */
export function idmappedLowerDir(upper: string): string {
  return path.join(path.dirname(upper), 'lower');
}

/** The directory the bind sources are attached under (host-mounts.ts), next to the idmapped lower. */
export function bindStagingDir(idmappedLower: string): string {
  return path.join(path.dirname(idmappedLower), 'binds');
}

/** chown upper and work to container root's host ids, make the idmapped lower's mount point, and refuse a path root inside cannot reach. */
export function prepareUsernsLayers(layers: { upper: string; work: string }, spec: UsernsSpec): string {
  const uid = hostIdOf(spec.uidMappings, 0)!;
  const gid = hostIdOf(spec.gidMappings, 0)!;
  const blocked = blockedForMappedRoot(layers.upper, spec, { execute: false });
  if (blocked) {
    throw new UserError(`userns: ${blocked} is closed to root inside the container (host uid ${uid}), which mounts the overlay: chmod o+x ${blocked}, or set CONTAINY_STATE_DIR to a directory others may search`);
  }
  for (const dir of [layers.upper, layers.work]) fs.chownSync(dir, uid, gid);
  const lower = idmappedLowerDir(layers.upper);
  fs.mkdirSync(lower, { recursive: true });
  return lower;
}
