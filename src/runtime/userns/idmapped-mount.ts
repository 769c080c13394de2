// An idmapped view of the base rootfs, for the overlay's lower layer in a
// user-namespace container: the base stays owned by host root on disk, and
// through the mount its files belong to container root (host uid 0 is read as
// uid 0 of the namespace, i.e. host 100000 for the map 0 100000 65536).
//
// Chosen over podman's chowned copy of the base per mapping: measured on this
// 6.18 kernel (ext4), the idmapped mount takes under a millisecond and no
// disk (src/bench/userns-bench.ts), while copying the 63 MB base and shifting
// its ids took 0.2 s with a warm cache and 66 MB per mapping; and chown()
// clears setuid bits, which a copy would have to restore.
// Overlayfs takes an idmapped lower layer since 5.19; idmapped ext4, xfs and
// btrfs since 5.12-5.15. Measured, too, what the wiring must respect:
//  - overlayfs refuses the detached tree as a lowerdir (/proc/self/fd/N):
//    "failed to clone lowerpath", because clone_private_mount() needs
//    CAP_SYS_ADMIN over the owner of the tree's anonymous mount namespace,
//    which is the host's. Attached with move_mount into the container's own
//    mount namespace (by a process in it, or a thread that setns'd there),
//    it works, and the host's mount table never shows it.
//  - overlayfs mounted inside a user namespace should get "userxattr" (5.11+):
//    without it the mount succeeds, but overlayfs cannot set its trusted.*
//    xattrs (they need CAP_SYS_ADMIN in the initial namespace) and falls back
//    (dmesg: "failed to set xattr on upper", redirect_dir=nofollow,
//    uuid=null); with it, they are user.overlay.* on the upper layer.
import fs from 'node:fs';
import * as libc from '../libc.js';
import { inMountNamespaceOf } from './host-mounts.js';

/**
 * A detached copy of the tree at `source` whose ids are mapped through the
 * user namespace open on `usernsFd` (e.g. /proc/HELPER/ns/user). Returns its
 * fd (close-on-exec); it is unmounted when the last fd and mount are gone.
 * Needs CAP_SYS_ADMIN in the initial user namespace.
 */
export function idmappedTree(source: string, usernsFd: number): number {
  const fd = libc.openTreeClone(source);
  try {
    libc.idmapTree(fd, usernsFd, source);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * The base, idmapped through the user namespace of `pid`, attached at
 * `target` inside the mount namespace of `pid` (the helper or the stage,
 * once the container's mount namespace exists), from this thread (see
 * inMountNamespaceOf).
 */
export function attachIdmappedBase(source: string, pid: number, target: string): void {
  const userns = fs.openSync(`/proc/${pid}/ns/user`, 'r');
  let tree: number;
  try {
    tree = idmappedTree(source, userns);
  } finally {
    fs.closeSync(userns);
  }
  try {
    inMountNamespaceOf(pid, () => libc.moveMountTo(tree, target));
  } finally {
    fs.closeSync(tree);
  }
}
