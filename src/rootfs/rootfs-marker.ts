// What makes a rootfs directory "ours and complete": a marker file written as the
// last step of a build or import, and a tree that only appears at its target by a
// rename, so an interrupted build never leaves half a rootfs where a container
// would use it.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../runtime/errors.js';
import { isAlive } from '../runtime/pids.js';
import { commandsInRoot, hostPathInRoot } from './root-paths.js';

/** Bump when the builder's output changes: a rootfs built by an older version is rebuilt. */
// 2: the marker says which tools (busybox or host); the host-tools base holds every lesson command.
export const ROOTFS_BUILD_VERSION = 2;

/** Inside the rootfs. */
export const MARKER_PATH = '/etc/containy-rootfs.json';

export type RootfsKind = 'built' | 'imported';

/** The programs of a built base: a static busybox and its applets, or the host's own tools with their libraries. */
export type RootfsTools = 'busybox' | 'host';

/** What a base is, in the words `rootfs status` and `check-all` print. */
export type BaseKind = 'busybox' | 'host tools' | 'imported';

export interface RootfsMarker {
  kind: RootfsKind;
  /** Which programs a build copied; null for an imported tree (its programs are the archive's). */
  tools: RootfsTools | null;
  /** ROOTFS_BUILD_VERSION of the code that wrote it. */
  version: number;
  createdAt: string;
  /** Regular files, symlinks and directories in the tree, and the bytes of its regular files. */
  files: number;
  sizeBytes: number;
  /** Programs on the container's PATH. */
  commands: string[];
  /** Container path of the Python interpreter, or null. */
  python: string | null;
  /** How it was made: the host programs copied, or the archive imported. */
  source: Record<string, unknown>;
}

export interface RootfsStatus {
  /** The directory exists. */
  exists: boolean;
  /** It holds a marker a finished build or import wrote. */
  complete: boolean;
  /** 'unknown' for a directory without our marker (someone's own rootfs, or not a rootfs at all). */
  kind: RootfsKind | 'unknown';
  /** The build version in its marker (imported trees keep the version that imported them). */
  version: number | null;
  /** Which programs a build copied (null: imported, or no marker). */
  tools: RootfsTools | null;
  /** busybox, host tools or imported; null without a marker. */
  base: BaseKind | null;
  /** Programs on the container's PATH (/usr/local/sbin ... /bin) inside it. */
  commands: string[];
}

export function readMarker(target: string): RootfsMarker | null {
  try {
    // Resolved inside the root: an imported tree may have etc -> /etc, which must not mean the host's.
    const marker = JSON.parse(fs.readFileSync(hostPathInRoot(target, MARKER_PATH), 'utf8')) as RootfsMarker;
    if ((marker.kind === 'built' || marker.kind === 'imported') && typeof marker.version === 'number') {
      // Version 1 markers had no `tools`: its source said whether busybox was copied.
      if (marker.tools === undefined) marker.tools = marker.kind === 'imported' ? null : marker.source?.busybox ? 'busybox' : 'host';
      return marker;
    }
  } catch {
    // missing or unreadable: not complete
  }
  return null;
}

export async function writeMarker(root: string, marker: RootfsMarker): Promise<void> {
  await fsp.mkdir(hostPathInRoot(root, path.posix.dirname(MARKER_PATH)), { recursive: true });
  await fsp.writeFile(hostPathInRoot(root, MARKER_PATH), JSON.stringify(marker, null, 2) + '\n');
}

/**
 * What is at `target`. Cheap: `commands` is only listed when read (it lstats every
 * entry of the PATH dirs, ~20 ms for busybox's 270 links; `run` needs only `complete`).
 */
export function rootfsStatus(target: string): RootfsStatus {
  let exists = false;
  try {
    exists = fs.statSync(target).isDirectory();
  } catch {
    // missing
  }
  if (!exists) return { exists, complete: false, kind: 'unknown', version: null, tools: null, base: null, commands: [] };
  const marker = readMarker(target);
  let commands: string[] | undefined;
  return {
    exists,
    complete: marker !== null,
    kind: marker?.kind ?? 'unknown',
    version: marker?.version ?? null,
    tools: marker?.tools ?? null,
    base: marker ? baseKind(marker) : null,
    get commands() {
      return (commands ??= commandsInRoot(target));
    },
  };
}

export function baseKind(marker: Pick<RootfsMarker, 'kind' | 'tools'>): BaseKind {
  if (marker.kind === 'imported') return 'imported';
  return marker.tools === 'busybox' ? 'busybox' : 'host tools';
}

export function missingRootfsMessage(target: string): string {
  return `the base rootfs is missing at ${target}: run \`sudo containy-learn rootfs build\``;
}

/** Counts the tree's entries and the bytes of its regular files (what `du --apparent-size` says). */
export async function measureTree(root: string): Promise<{ files: number; sizeBytes: number }> {
  let files = 0;
  let sizeBytes = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
      files++;
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile()) sizeBytes += (await fsp.lstat(p)).size;
    }
  };
  await walk(root);
  return { files, sizeBytes };
}

// ---------------------------------------------------------------------------
// Building beside the target, then renaming onto it

const SIDE_DIR = /^(.*)\.(partial|old)-(\d+)$/;

/** Where a build or import of `target` writes before it is complete. */
export function partialDirFor(target: string): string {
  return `${target}.partial-${process.pid}`;
}

/**
 * Removes `${target}.partial-<pid>` and `${target}.old-<pid>` dirs whose process
 * is gone (a build killed midway). Returns the paths removed.
 */
export async function removeStalePartials(target: string): Promise<string[]> {
  const parent = path.dirname(target);
  const base = path.basename(target);
  let entries: string[];
  try {
    entries = await fsp.readdir(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    const m = SIDE_DIR.exec(name);
    if (!m || m[1] !== base) continue;
    const pid = Number(m[3]);
    if (pid !== process.pid && isAlive(pid)) continue; // another build is running
    if (pid === process.pid && m[2] === 'partial') continue; // ours, in progress
    await fsp.rm(path.join(parent, name), { recursive: true, force: true });
    removed.push(path.join(parent, name));
  }
  return removed;
}

/** Refuses targets we must never build over or delete. */
export function checkTarget(target: string, command: string): string {
  if (!target) throw new UserError(`${command}: the target directory is empty: give a path such as rootfs/base`);
  const resolved = path.resolve(target);
  if (resolved === '/' || resolved === path.resolve('/usr') || resolved === path.resolve('/etc')) {
    throw new UserError(`${command}: refusing to use ${resolved} as a rootfs target: give a new directory such as rootfs/base`);
  }
  return resolved;
}

function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/**
 * Makes `partial` appear at `target` in one rename. An existing target is replaced
 * only when it is ours (it has a marker) or empty; anything else is someone's data.
 * Returns false when `keepExisting(marker)` says an existing complete target wins
 * (a concurrent build finished first): then `partial` is removed.
 */
export async function installTree(partial: string, target: string, command: string, keepExisting: (m: RootfsMarker) => boolean): Promise<boolean> {
  try {
    await fsp.rename(partial, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
  }
  const existing = readMarker(target);
  if (existing && keepExisting(existing)) {
    await fsp.rm(partial, { recursive: true, force: true });
    return false;
  }
  checkReplaceable(target, command);
  const old = `${target}.old-${process.pid}`;
  await fsp.rename(target, old);
  await fsp.rename(partial, target);
  await fsp.rm(old, { recursive: true, force: true });
  return true;
}

/** Fails early, before any work, if the target is someone else's non-empty directory. */
export function checkReplaceable(target: string, command: string): void {
  if (fs.existsSync(target) && !readMarker(target) && !isEmptyDir(target)) {
    throw new UserError(`${command}: ${target} exists and is not a containy rootfs (no ${MARKER_PATH}): remove it or choose another target`);
  }
}
