// Docker's masked and read-only paths, applied inside a root once /proc and /sys
// are mounted there, the way runc does it (libcontainer/rootfs_linux.go,
// maskPath and readonlyPath): a masked file gets /dev/null bound over it, a
// masked directory an empty read-only tmpfs; a read-only path is bound onto
// itself and remounted read-only, keeping the nosuid/nodev/noexec flags of the
// mount it sits on (a bind remount that drops them is refused in a user
// namespace, and would loosen them elsewhere). Paths that do not exist are skipped.
import fs from 'node:fs';
import path from 'node:path';
import * as libc from '../libc.js';

export { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from './docker-paths.js';

function kindOf(p: string): 'dir' | 'file' | undefined {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/**
 * Remount the mount at `target` read-only, keeping its nosuid/nodev/noexec.
 * Also what `--read-only` does to the container's root ("/" after pivot_root).
 */
export function remountReadonly(target: string): void {
  const keep = libc.mountFlagsOf(target) & (libc.MS.NOSUID | libc.MS.NODEV | libc.MS.NOEXEC);
  libc.mount(null, target, null, libc.MS.BIND | libc.MS.REMOUNT | libc.MS.RDONLY | keep);
}

/** Make each existing path under `root` read-only; returns the container paths done. */
export function applyReadonlyPaths(root: string, paths: readonly string[]): string[] {
  const done: string[] = [];
  for (const p of paths) {
    const target = path.join(root, p);
    if (!kindOf(target)) continue;
    libc.mount(target, target, null, libc.MS.BIND | libc.MS.REC);
    remountReadonly(target);
    done.push(p);
  }
  return done;
}

/** Hide each existing path under `root`; returns the container paths done. */
export function applyMaskedPaths(root: string, paths: readonly string[]): string[] {
  const done: string[] = [];
  for (const p of paths) {
    const target = path.join(root, p);
    const kind = kindOf(target);
    if (!kind) continue;
    if (kind === 'dir') libc.mount('tmpfs', target, 'tmpfs', libc.MS.RDONLY);
    else libc.mount('/dev/null', target, null, libc.MS.BIND);
    done.push(p);
  }
  return done;
}
