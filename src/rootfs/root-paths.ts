// Paths inside a root filesystem, resolved as a process chrooted into it would
// see them. A module of its own, with no child processes: the CLI's check of
// the base rootfs before the workshop's menu (rootfs-marker.ts) needs only this.
import fs from 'node:fs';
import path from 'node:path';
import { CONTAINER_PATH } from '../runtime/paths.js';

/**
 * Resolves a path as a process chrooted into `root` would: symlinks are followed
 * inside the root (an absolute target starts again at the root, `..` stops at it).
 * Components that do not exist are kept as written. Returns the path inside the root.
 */
export function resolveInRoot(root: string, containerPath: string, followLast = true): { path: string; exists: boolean } {
  const pending = containerPath.split('/').filter(Boolean);
  let resolved: string[] = [];
  let hops = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(path.join(root, ...candidate));
    } catch {
      return { path: '/' + [...candidate, ...pending].join('/'), exists: false };
    }
    if (stat.isSymbolicLink() && (pending.length > 0 || followLast)) {
      if (++hops > 40) return { path: '/' + [...candidate, ...pending].join('/'), exists: false }; // ELOOP
      const link = fs.readlinkSync(path.join(root, ...candidate));
      pending.unshift(...link.split('/').filter(Boolean));
      if (link.startsWith('/')) resolved = [];
      continue;
    }
    resolved = candidate;
  }
  return { path: '/' + resolved.join('/'), exists: true };
}

/** The host path of `containerPath` inside `root`, symlinks resolved inside the root. */
export function hostPathInRoot(root: string, containerPath: string, followLast = true): string {
  return path.join(root, resolveInRoot(root, containerPath, followLast).path);
}

/** Is `containerPath` a program a process in `root` could execute (a regular file with an x bit)? */
export function isExecutableInRoot(root: string, containerPath: string): boolean {
  const { path: p, exists } = resolveInRoot(root, containerPath);
  if (!exists) return false;
  const stat = fs.statSync(path.join(root, p));
  return stat.isFile() && (stat.mode & 0o111) !== 0;
}

/** Names of the programs on the container's PATH inside `root`, sorted. */
export function commandsInRoot(root: string): string[] {
  const names = new Set<string>();
  for (const dir of CONTAINER_PATH) {
    const resolved = resolveInRoot(root, dir);
    if (!resolved.exists) continue;
    let entries: string[];
    try {
      entries = fs.readdirSync(path.join(root, resolved.path));
    } catch {
      continue;
    }
    for (const name of entries) if (isExecutableInRoot(root, path.posix.join(resolved.path, name))) names.add(name);
  }
  return [...names].sort();
}
