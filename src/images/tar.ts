// A streaming tar reader: ustar, GNU long names (type L/K) and pax headers
// (type x/g: path, linkpath, size, uid, gid, mtime). gzip is undone by
// node:zlib when the stream starts with its magic. Nothing shells out to tar.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { UserError } from '../runtime/errors.js';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** As written in the archive (may start with "./" or "/"); the unpacker judges it. */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

const BLOCK = 512;
const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

/** Pulls exact byte counts out of a stream of chunks. */
class ChunkReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        this.buffered.push(next.value);
        this.length += next.value.length;
      }
    }
    return this.length >= n;
  }

  /** Exactly n bytes, or null at a clean end of the stream. */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.length === 0) return null;
      throw new TarFormatError('the archive ends in the middle of an entry (truncated?)');
    }
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    const out = all.subarray(0, n);
    const left = all.subarray(n);
    this.buffered = left.length ? [left] : [];
    this.length = left.length;
    return out;
  }

  /** n bytes as chunks (for a file's data), without holding them all. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.length === 0 && !(await this.fill(1))) throw new TarFormatError('the archive ends in the middle of a file (truncated?)');
      const first = this.buffered[0];
      const take = Math.min(left, first.length);
      yield first.subarray(0, take);
      if (take === first.length) this.buffered.shift();
      else this.buffered[0] = first.subarray(take);
      this.length -= take;
      left -= take;
    }
  }
}

/** The archive is not a tar (or is damaged); the caller words it for the user. */
export class TarFormatError extends Error {}

function cString(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? len : end).toString('utf8');
}

/** An octal field, or GNU's base-256 (high bit set) for large values. */
function number(buf: Buffer, start: number, len: number): number {
  if (buf[start] & 0x80) {
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + buf[i];
    return v;
  }
  const text = cString(buf, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`a header field holds '${text}', not an octal number`);
  return parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  const field = cString(header, 148, 8).trim();
  return /^[0-7]+$/.test(field) && parseInt(field, 8) === sum;
}

function parsePax(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = Buffer.from(text, 'utf8');
  while (rest.length) {
    const space = rest.indexOf(0x20);
    const len = Number(rest.subarray(0, space).toString());
    if (!(len > 0) || space < 0) throw new TarFormatError('a pax header record is malformed');
    const record = rest.subarray(space + 1, len - 1).toString('utf8');
    const eq = record.indexOf('=');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    rest = rest.subarray(len);
  }
  return out;
}

/** The bytes of a file as chunks, gunzipped when they start with gzip's magic. */
export async function* fileChunks(file: string, onRead?: (bytesRead: number) => void): AsyncGenerator<Buffer> {
  const fd = fs.openSync(file, 'r');
  const magic = Buffer.alloc(2);
  const got = fs.readSync(fd, magic, 0, 2, 0);
  fs.closeSync(fd);
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = got === 2 && magic[0] === 0x1f && magic[1] === 0x8b ? raw.pipe(zlib.createGunzip()) : raw;
  if (stream !== raw) raw.on('error', (e) => stream.destroy(e));
  try {
    for await (const chunk of stream) {
      onRead?.(raw.bytesRead);
      yield chunk as Buffer;
    }
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('Z_')) throw new TarFormatError(`its gzip data is damaged (${(err as Error).message})`);
    throw err;
  } finally {
    raw.destroy();
  }
}

/**
 * Calls `onEntry` for each entry in order; `data` yields a file's bytes and
 * must be read through (or not at all: what is left is skipped).
 */
export async function readTar(
  source: AsyncIterable<Buffer>,
  onEntry: (entry: TarEntry, data: AsyncGenerator<Buffer>) => Promise<void>,
): Promise<number> {
  const reader = new ChunkReader(source[Symbol.asyncIterator]());
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  let globalPax: Record<string, string> = {};
  let count = 0;
  for (;;) {
    const header = await reader.read(BLOCK);
    if (header === null) {
      if (count === 0) throw new TarFormatError('it is empty');
      return count; // no end-of-archive blocks: tolerated, as GNU tar does (with a warning)
    }
    if (header.every((b) => b === 0)) return count;
    if (!checksumOk(header)) throw new TarFormatError(count === 0 ? 'it does not start with a tar header' : `the header after entry ${count} has a bad checksum`);
    const typeflag = String.fromCharCode(header[156]);
    const size = number(header, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g') {
      const body = (await reader.read(padded)) ?? Buffer.alloc(0);
      const text = body.subarray(0, size).toString('utf8');
      if (typeflag === 'L') longName = text.replace(/\0+$/, '');
      else if (typeflag === 'K') longLink = text.replace(/\0+$/, '');
      else if (typeflag === 'x') pax = parsePax(text);
      else globalPax = { ...globalPax, ...parsePax(text) };
      continue;
    }
    const type = TYPES[typeflag];
    if (type === undefined) throw new TarFormatError(`entry ${cString(header, 0, 100)} has tar type '${typeflag}', which is not supported`);
    const meta = { ...globalPax, ...pax };
    const magic = cString(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? cString(header, 345, 155) : '';
    const plainName = prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100);
    const entrySize = meta.size !== undefined ? Number(meta.size) : size;
    const entry: TarEntry = {
      name: meta.path ?? longName ?? plainName,
      type,
      mode: number(header, 100, 8) & 0o7777,
      uid: meta.uid !== undefined ? Number(meta.uid) : number(header, 108, 8),
      gid: meta.gid !== undefined ? Number(meta.gid) : number(header, 116, 8),
      size: type === 'file' ? entrySize : 0,
      mtime: meta.mtime !== undefined ? Number(meta.mtime) : number(header, 136, 12),
      linkname: meta.linkpath ?? longLink ?? cString(header, 157, 100),
      devmajor: number(header, 329, 8),
      devminor: number(header, 337, 8),
    };
    longName = longLink = undefined;
    pax = {};
    count++;
    const dataSize = type === 'file' ? entrySize : 0;
    const data = reader.chunks(dataSize);
    await onEntry(entry, data);
    for await (const _ of data) { /* skip what the caller did not read */ }
    const pad = Math.ceil(dataSize / BLOCK) * BLOCK - dataSize;
    if (pad) await reader.read(pad);
    // A link or dir with a size field: its body (if any) is skipped too.
    if (type !== 'file' && size) await reader.read(padded);
  }
}

/** For tests and fixtures: a minimal ustar writer (names up to 100 bytes or a GNU long name). */
export interface TarWriteEntry {
  name: string;
  type?: TarEntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  data?: Buffer | string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const TYPE_FLAGS: Record<TarEntryType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function headerBlock(name: string, typeflag: string, size: number, e: TarWriteEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  const octal = (v: number, start: number, len: number) => h.write(v.toString(8).padStart(len - 1, '0') + '\0', start, len, 'ascii');
  h.write(name.slice(0, 100), 0, 100, 'utf8');
  octal(e.mode ?? (typeflag === '5' ? 0o755 : 0o644), 100, 8);
  octal(e.uid ?? 0, 108, 8);
  octal(e.gid ?? 0, 116, 8);
  octal(size, 124, 12);
  octal(0, 136, 12);
  h.write(typeflag, 156, 1, 'ascii');
  h.write((e.linkname ?? '').slice(0, 100), 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  octal(e.devmajor ?? 0, 329, 8);
  octal(e.devminor ?? 0, 337, 8);
  h.fill(32, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

function padTo(buf: Buffer): Buffer {
  const pad = (BLOCK - (buf.length % BLOCK)) % BLOCK;
  return pad ? Buffer.concat([buf, Buffer.alloc(pad)]) : buf;
}

export function writeTar(entries: TarWriteEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'dir' : 'file');
    const data = type === 'file' ? Buffer.from(e.data ?? '') : Buffer.alloc(0);
    if (Buffer.byteLength(e.name) > 100) {
      const long = Buffer.from(e.name + '\0');
      parts.push(headerBlock('././@LongLink', 'L', long.length, { name: '' }), padTo(long));
    }
    parts.push(headerBlock(e.name, TYPE_FLAGS[type], data.length, e), padTo(data));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** For callers that word their own message: is this a format problem? */
export function tarProblem(err: unknown): string | null {
  return err instanceof TarFormatError ? err.message : null;
}

export function notATarball(what: string, file: string, problem: string, fix: string): UserError {
  return new UserError(`${what}: ${file} is not a tar archive (${problem}): ${fix}`);
}
