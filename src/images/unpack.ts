// Unpacking a tar into a directory without letting it reach outside: every
// entry is judged before it is written, and the caller unpacks into a partial
// directory it renames only once everything is in (so a refusal leaves nothing).
// In a layer, docker's whiteouts become overlayfs's: `.wh.NAME` a 0/0 character
// device, `.wh..wh..opq` the xattr trusted.overlay.opaque=y on its directory.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../runtime/errors.js';
import * as libc from '../runtime/libc.js';
import { type TarEntry, readTar } from './tar.js';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

export interface UnpackOptions {
  /** Device nodes are made only for a trusted archive (a device file is a door to the host's hardware). */
  trusted: boolean;
  /** Turn docker's whiteout files into overlayfs's whiteouts. */
  layer: boolean;
  onEntry?: (entry: TarEntry) => void;
}

export interface UnpackResult {
  entries: number;
  /** Bytes of file data written. */
  bytes: number;
  /** sha256 of the uncompressed tar stream, as "sha256:<hex>" (docker's diff_id for a layer). */
  digest: string;
}

/** An entry refused: names the entry and why, so the message can be one sentence. */
export class UnsafeEntryError extends UserError {
  constructor(readonly entry: string, readonly reason: string) {
    super(`refused entry '${entry}': ${reason}`);
  }
}

/** The entry's path as components inside the root, or why it would leave it. */
function partsOf(name: string, entry: string, what = 'its path'): string[] {
  if (name.startsWith('/')) throw new UnsafeEntryError(entry, `${what} is absolute (${name}), which would write outside the root`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeEntryError(entry, `${what} climbs out of the root with '..' (${name})`);
  return parts;
}

function lstat(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

export async function unpackTar(source: AsyncIterable<Buffer>, root: string, opts: UnpackOptions): Promise<UnpackResult> {
  const hash = createHash('sha256');
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
  }
  // Directories known to be real directories inside the root (not symlinks): checked once.
  const knownDirs = new Set<string>([root]);
  let bytes = 0;

  /** The parent of parts, made if missing; refused if any component is a symlink or not a directory. */
  function parentOf(parts: string[], entry: string): string {
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      const next = path.join(dir, part);
      if (!knownDirs.has(next)) {
        const st = lstat(next);
        if (st === null) fs.mkdirSync(next, { mode: 0o755 });
        else if (st.isSymbolicLink()) {
          throw new UnsafeEntryError(entry, `it would be written through the symlink ${path.relative(root, next)} (-> ${fs.readlinkSync(next)}), which may point outside the root`);
        } else if (!st.isDirectory()) throw new UnsafeEntryError(entry, `${path.relative(root, next)} is not a directory`);
        knownDirs.add(next);
      }
      dir = next;
    }
    return dir;
  }

  /** Clear the way for a non-directory at p (an earlier entry of the same name is replaced, as tar does). */
  function clear(p: string, entry: string): void {
    const st = lstat(p);
    if (st === null) return;
    if (st.isDirectory()) throw new UnsafeEntryError(entry, 'it would replace a directory with a file');
    fs.unlinkSync(p);
  }

  function owner(p: string, e: TarEntry): void {
    fs.lchownSync(p, e.uid, e.gid);
  }

  const stream = hashed();
  const entries = await readTar(stream, async (e, data) => {
    const entry = e.name;
    const parts = partsOf(e.name, entry);
    opts.onEntry?.(e);
    if (parts.length === 0) {
      if (e.type === 'dir') {
        fs.chmodSync(root, e.mode);
        owner(root, e);
      }
      return;
    }
    const base = parts[parts.length - 1];
    const parent = parentOf(parts, entry);
    const target = path.join(parent, base);

    if (opts.layer && base.startsWith(WHITEOUT_PREFIX)) {
      if (base === OPAQUE_MARKER) {
        libc.lsetxattr(parent, 'trusted.overlay.opaque', 'y');
        return;
      }
      if (base.startsWith(OPAQUE_MARKER.slice(0, 8))) return; // aufs's own metadata (.wh..wh.plnk): nothing for overlayfs
      const hidden = path.join(parent, base.slice(WHITEOUT_PREFIX.length));
      const st = lstat(hidden);
      if (st?.isDirectory()) fs.rmSync(hidden, { recursive: true });
      else if (st) fs.unlinkSync(hidden);
      libc.mknod(hidden, S_IFCHR, 0, 0);
      return;
    }

    switch (e.type) {
      case 'dir': {
        const st = lstat(target);
        if (st && !st.isDirectory()) fs.unlinkSync(target);
        if (!st?.isDirectory()) fs.mkdirSync(target);
        knownDirs.add(target);
        owner(target, e);
        fs.chmodSync(target, e.mode);
        return;
      }
      case 'file': {
        clear(target, entry);
        const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of data) {
            fs.writeSync(fd, chunk);
            bytes += chunk.length;
          }
          fs.fchownSync(fd, e.uid, e.gid);
          fs.fchmodSync(fd, e.mode); // after chown, which clears set-uid bits
          fs.futimesSync(fd, e.mtime, e.mtime);
        } finally {
          fs.closeSync(fd);
        }
        return;
      }
      case 'symlink': {
        // Any target may be written (inside the container it means the container's path);
        // what is refused is writing *through* it (parentOf).
        clear(target, entry);
        fs.symlinkSync(e.linkname, target);
        owner(target, e);
        return;
      }
      case 'hardlink': {
        const linkParts = partsOf(e.linkname, entry, 'its link target');
        const existing = path.join(parentOf(linkParts, entry), linkParts[linkParts.length - 1] ?? '');
        const st = linkParts.length ? lstat(existing) : null;
        if (st === null || st.isDirectory()) throw new UnsafeEntryError(entry, `it is a hard link to ${e.linkname}, which is not a file unpacked before it`);
        clear(target, entry);
        fs.linkSync(existing, target); // link(2) does not follow a symlink: the link is to the entry itself
        return;
      }
      case 'char':
      case 'block': {
        if (!opts.trusted) {
          throw new UnsafeEntryError(entry, `it is a device node (${e.type} ${e.devmajor}:${e.devminor}); import it with --trusted only if you trust where the archive comes from`);
        }
        clear(target, entry);
        libc.mknod(target, (e.type === 'char' ? S_IFCHR : S_IFBLK) | e.mode, e.devmajor, e.devminor);
        owner(target, e);
        return;
      }
      case 'fifo': {
        clear(target, entry);
        libc.mknod(target, S_IFIFO | e.mode, 0, 0);
        owner(target, e);
        return;
      }
    }
  });
  for await (const _ of stream) { /* the end-of-archive padding counts in the digest too */ }
  return { entries, bytes, digest: `sha256:${hash.digest('hex')}` };
}
