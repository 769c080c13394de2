// Mounts the launcher (host root) hands to a user-namespace container's mount
// namespace before the stage runs. Root inside is an unprivileged host uid: it
// may not search the way to a host path (a bind source in a clone under /root,
// a 0700 mktemp, an Ubuntu home at 0750), and it has no privilege over a tree
// it cannot see. The launcher can: it clones the tree with open_tree(2)
// (OPEN_TREE_CLONE) and attaches it with move_mount(2) inside the container's
// mount namespace, where the stage reaches it by a path of its own.
import fs from 'node:fs';
import path from 'node:path';
import * as libc from '../libc.js';
import { CLONE } from '../linux.js';
import type { BindMount } from '../start/protocol.js';

/**
 * Run `fn` with this thread in the mount namespace of `pid`, then come back.
 * unshare(CLONE_FS) makes the thread's root and cwd its own first (setns into
 * a mount namespace refuses a thread that shares them): from then on this
 * thread's cwd is its own, so call it on a thread that does not chdir later
 * (a worker, or the CLI's).
 */
export function inMountNamespaceOf(pid: number, fn: () => void): void {
  const containerMnt = fs.openSync(`/proc/${pid}/ns/mnt`, 'r');
  const ownMnt = fs.openSync('/proc/thread-self/ns/mnt', 'r');
  const cwd = process.cwd();
  try {
    libc.unshare(CLONE.FS);
    libc.setns(containerMnt, CLONE.NEWNS, 'the container\'s mount namespace');
    try {
      fn();
    } finally {
      libc.setns(ownMnt, CLONE.NEWNS, 'back to our own mount namespace');
      process.chdir(cwd);
    }
  } finally {
    for (const fd of [containerMnt, ownMnt]) fs.closeSync(fd);
  }
}

/**
 * Each bind's source, cloned from the host and attached at `dir`/N in the
 * mount namespace of `pid` (a directory or an empty file, as the source is);
 * returns the binds with those as their sources, for the stage's binds step.
 * The attached copies live only in the container's mount namespace and go
 * with it; `dir` is in the container's own directory, removed with it.
 */
export function attachBindSources(binds: BindMount[], pid: number, dir: string): BindMount[] {
  if (binds.length === 0) return binds;
  const staged = binds.map((bind, i) => {
    let isDir: boolean;
    try {
      isDir = fs.statSync(bind.source).isDirectory();
    } catch {
      return bind; // missing: the stage's binds step names it
    }
    const at = path.join(dir, String(i));
    fs.mkdirSync(isDir ? at : dir, { recursive: true });
    if (!isDir) fs.writeFileSync(at, '');
    return { ...bind, source: at, tree: libc.openTreeClone(bind.source) };
  });
  try {
    inMountNamespaceOf(pid, () => {
      for (const b of staged) if ('tree' in b) libc.moveMountTo(b.tree, b.source);
    });
  } finally {
    for (const b of staged) if ('tree' in b) fs.closeSync(b.tree);
  }
  return staged.map((b) => ('tree' in b ? { source: b.source, target: b.target, readonly: b.readonly } : b));
}
