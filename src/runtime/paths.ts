// Where things live. Everything we create on the host is under stateRoot()
// (overlay dirs, run records) or under our cgroup parent, so cleanup knows
// where to look.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('containy-learn: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** The installed package (holds dist/, rootfs/, and the workshop's own directories). */
export const PACKAGE_ROOT = findPackageRoot();

/** Compiled runtime scripts that run as their own thread or process (tests run from src/, these always from dist/). */
export function distScript(relative: string): string {
  return path.join(PACKAGE_ROOT, 'dist', relative);
}

/** Where the base rootfs is built. */
export function defaultRootfs(): string {
  return process.env.CONTAINY_ROOTFS ?? path.join(PACKAGE_ROOT, 'rootfs', 'base');
}

/** Overlay upper/work dirs and run records. */
export const DEFAULT_STATE_ROOT = '/var/lib/containy-learn';

export function stateRoot(): string {
  return process.env.CONTAINY_STATE_DIR ?? DEFAULT_STATE_ROOT;
}

/** PATH inside a container, as docker sets it. */
export const CONTAINER_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
