// Directories and files on the host that a caller owns (a work directory of
// its own): made, written, listed and removed here, so that callers outside the
// runtime never touch the host themselves. removeTree() refuses to delete through
// a mount point: under a bind of / it would take the host's files with it.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { readMountinfo } from './mountinfo.js';

/** The first executable regular file `name` in `dirs` (as execvp searches PATH), or null. */
export function findExecutable(name: string, dirs: string[]): string | null {
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** The directories of a PATH value, empty entries left out. */
export const pathDirs = (searchPath: string): string[] => searchPath.split(':').filter(Boolean);

/** Make `dir` and its missing parents; true when it did not exist before. */
export function makeDirectory(dir: string, mode = 0o755): boolean {
  return fs.mkdirSync(dir, { recursive: true, mode }) !== undefined;
}

/** Write `content` to `file`, making its directory first. */
export function writeHostFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** The names in `dir`, sorted; none when it does not exist or cannot be read. */
export function listNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export type TreeEntryType = 'directory' | 'symlink' | 'character-device' | 'block-device' | 'fifo' | 'socket' | 'file';

export interface TreeEntry {
  /** Relative to the listed directory, with / between components. */
  path: string;
  type: TreeEntryType;
  /** Bytes, for a regular file. */
  size: number;
  /** A symlink's target, as stored. */
  linkTarget?: string;
  /** A device file's numbers. */
  device?: { major: number; minor: number };
  /** overlayfs marks a file deleted in the upper layer with a 0/0 character device (a whiteout). */
  whiteout: boolean;
  /** The owner as the host sees it (a user namespace's root writes as its mapped host uid). */
  uid: number;
  gid: number;
}

// Linux's dev_t encoding (glibc's gnu_dev_major/minor).
const major = (rdev: number) => Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
const minor = (rdev: number) => Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);

function typeOf(st: fs.Stats): TreeEntryType {
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  return 'file';
}

/**
 * What is under `dir`, as `ls -lR` walks it (sorted, each directory followed by
 * what it holds), `depth` levels down, at most `max` entries; `more` counts the
 * names seen past that. Symlinks are not followed. Throws the fs error (ENOENT) when
 * `dir` is missing.
 */
export function listTree(dir: string, opts: { depth: number; max: number }): { entries: TreeEntry[]; more: number } {
  const entries: TreeEntry[] = [];
  let more = 0;
  const walk = (rel: string, level: number) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      if (entries.length >= opts.max) {
        more++;
        continue;
      }
      const relPath = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, relPath);
      const st = fs.lstatSync(full);
      const type = typeOf(st);
      const entry: TreeEntry = { path: relPath, type, size: type === 'file' ? st.size : 0, whiteout: type === 'character-device' && st.rdev === 0, uid: st.uid, gid: st.gid };
      if (type === 'symlink') entry.linkTarget = fs.readlinkSync(full);
      if (type === 'character-device' || type === 'block-device') entry.device = { major: major(st.rdev), minor: minor(st.rdev) };
      entries.push(entry);
      if (type === 'directory' && level < opts.depth) walk(relPath, level + 1);
    }
  };
  walk('', 1);
  return { entries, more };
}

/** Mount points at or below `dir` in our mount namespace. */
export function mountsUnder(dir: string): string[] {
  const resolved = path.resolve(dir);
  return readMountinfo()
    .map((m) => m.mountPoint)
    .filter((m) => m === resolved || m.startsWith(resolved + '/'));
}

/** Delete `dir` and everything in it; nothing when it is missing. Throws UserError, deleting nothing, while anything is mounted there. */
export function removeTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const mounted = mountsUnder(dir);
  if (mounted.length) throw new UserError(`${dir} still has mounts (${mounted.join(', ')}): unmount them, then run \`sudo containy-learn cleanup\``);
  fs.rmSync(dir, { recursive: true, force: true });
}
