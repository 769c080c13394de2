// Copying host programs into a root directory, the way lesson 1 does it by hand:
// a program, then every library `ldd` names, each at the same path it has on the
// host, plus the dynamic loader. Paths inside the root are resolved inside the
// root (an absolute symlink there points into the root, never back to the host).
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../runtime/errors.js';
import { CONTAINER_PATH } from '../runtime/paths.js';
import { resolveInRoot } from './root-paths.js';

const execFileAsync = promisify(execFile);

// The PATH a container gets is also where we look for host programs to copy.
export { CONTAINER_PATH };

// ---------------------------------------------------------------------------
// ELF: is a file a program, and does it need a dynamic loader?

export interface ElfInfo {
  /** The PT_INTERP path (the dynamic loader), or null for a static program. */
  interpreter: string | null;
}

/** Reads the ELF program headers; null when the file is not ELF (a script, a shim, data). */
export function readElf(file: string): ElfInfo | null {
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(64);
    if (fs.readSync(fd, header, 0, 64, 0) < 52) return null;
    if (header.readUInt32BE(0) !== 0x7f454c46) return null; // "\x7fELF"
    const is64 = header[4] === 2;
    const le = header[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const addr = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
    const phoff = addr(header, is64 ? 0x20 : 0x1c);
    const phentsize = u16(header, is64 ? 0x36 : 0x2a);
    const phnum = u16(header, is64 ? 0x38 : 0x2c);
    const table = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const ph = table.subarray(i * phentsize);
      if (u32(ph, 0) !== 3) continue; // PT_INTERP
      const offset = addr(ph, is64 ? 8 : 4);
      const size = addr(ph, is64 ? 32 : 16);
      const interp = Buffer.alloc(size);
      fs.readSync(fd, interp, 0, size, offset);
      return { interpreter: interp.toString('latin1').replace(/\0.*$/s, '') };
    }
    return { interpreter: null };
  } finally {
    fs.closeSync(fd);
  }
}

/** A static program runs in a root that holds nothing else (no PT_INTERP). */
export function isStaticProgram(file: string): boolean {
  const elf = readElf(file);
  return elf !== null && elf.interpreter === null;
}

// ---------------------------------------------------------------------------
// ldd

export interface LddReport {
  /** Absolute host paths of the libraries, the dynamic loader included, in ldd's order. */
  libraries: string[];
  /** Libraries ldd could not find on the host ("libfoo.so => not found"). */
  missing: string[];
  /** ldd said "not a dynamic executable" (a static program, or a script) or "statically linked". */
  notDynamic: boolean;
}

/**
 * Parses ldd's output:
 *   linux-vdso.so.1 (0x...)                    the kernel's, no file: skipped
 *   libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)
 *   /lib64/ld-linux-x86-64.so.2 (0x...)        the loader
 *   libfoo.so => not found
 */
export function parseLddOutput(output: string): LddReport {
  const report: LddReport = { libraries: [], missing: [], notDynamic: false };
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (/not a dynamic executable|statically linked/.test(line)) {
      report.notDynamic = true;
      continue;
    }
    const arrow = /^(\S+)\s+=>\s+(.*)$/.exec(line);
    if (arrow) {
      if (arrow[2].startsWith('not found')) report.missing.push(arrow[1]);
      else {
        const lib = /^(\/\S+)/.exec(arrow[2]);
        if (lib && !report.libraries.includes(lib[1])) report.libraries.push(lib[1]);
      }
      continue;
    }
    const loader = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(line);
    if (loader && !report.libraries.includes(loader[1])) report.libraries.push(loader[1]);
  }
  return report;
}

function lddFailure(binary: string, err: unknown): LddReport {
  // ldd exits 1 for a static program or a script; its words are what tell us so.
  const e = err as { stdout?: string; stderr?: string; code?: unknown };
  const report = parseLddOutput(`${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  if (report.notDynamic) return report;
  if (e.code === 'ENOENT') throw new UserError('`ldd` is not installed on the host: install libc-bin (it ships with glibc)');
  throw new UserError(`ldd ${binary} failed: ${(e.stderr ?? String(err)).trim().split('\n')[0]}`);
}

function requireFile(binary: string): void {
  if (!fs.existsSync(binary)) throw new UserError(`${binary} does not exist on the host: give the path of a program`);
}

/** Runs ldd on a host file, synchronously (lessons show its list). Missing libraries are reported, not thrown. */
export function lddReport(binary: string): LddReport {
  requireFile(binary);
  try {
    return parseLddOutput(execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (err) {
    return lddFailure(binary, err);
  }
}

/** The same without blocking the event loop (the builder runs it on dozens of files). */
export async function lddReportAsync(binary: string): Promise<LddReport> {
  requireFile(binary);
  try {
    return parseLddOutput((await execFileAsync('ldd', [binary], { encoding: 'utf8' })).stdout);
  } catch (err) {
    return lddFailure(binary, err);
  }
}

/** A program whose libraries are not all on the host cannot be made to run by copying. */
function requireComplete(binary: string, report: LddReport): LddReport {
  if (report.missing.length) {
    throw new UserError(`${binary} needs ${report.missing.join(', ')}, which the host's loader cannot find (see \`ldd ${binary}\`)`);
  }
  return report;
}

/** Host paths of the shared libraries a program needs, the dynamic loader included (empty for a static one). */
export function sharedLibrariesOf(binary: string): string[] {
  const program = resolveHostProgram(binary);
  return requireComplete(program, lddReport(program)).libraries;
}

// ---------------------------------------------------------------------------
// Copying host files into a root

/** Finds a program on the host: a path as given, or a name looked up in the standard PATH dirs. */
export function findHostProgram(nameOrPath: string): string | null {
  if (nameOrPath.includes('/')) return fs.existsSync(nameOrPath) ? path.resolve(nameOrPath) : null;
  for (const dir of CONTAINER_PATH) {
    const candidate = path.join(dir, nameOrPath);
    try {
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this dir
    }
  }
  return null;
}

function resolveHostProgram(nameOrPath: string): string {
  const found = findHostProgram(nameOrPath);
  if (!found) throw new UserError(`${nameOrPath} is not on the host (looked in ${CONTAINER_PATH.join(':')}): give a program that exists`);
  return found;
}

async function lexists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Awaits a create; false when the entry already existed. */
async function ignoreExisting(create: Promise<unknown>): Promise<boolean> {
  try {
    await create;
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Makes a directory inside the root, following the root's own symlinks (bin -> usr/bin). */
async function ensureDirInRoot(root: string, containerDir: string): Promise<string> {
  const resolved = resolveInRoot(root, containerDir).path;
  await fsp.mkdir(path.join(root, resolved), { recursive: true });
  return resolved;
}

/**
 * Copies one host file into the root at `containerPath` (the host path by default).
 * A symlink is copied as a symlink and its target is copied too, so a chain like
 * /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 works
 * inside. Mode and times are kept (Python's .pyc files check the source's mtime).
 * Returns the container paths written; an existing entry is left as it is.
 */
export async function copyHostPath(root: string, hostPath: string, containerPath: string = hostPath, depth = 0): Promise<string[]> {
  if (depth > 40) throw new UserError(`${hostPath}: too many levels of symbolic links`);
  const stat = await fsp.lstat(hostPath);
  const parent = await ensureDirInRoot(root, path.posix.dirname(containerPath));
  const inside = path.posix.join(parent, path.posix.basename(containerPath));
  const dest = path.join(root, inside);
  if (await lexists(dest)) return [];
  if (stat.isSymbolicLink()) {
    const link = await fsp.readlink(hostPath);
    if (!(await ignoreExisting(fsp.symlink(link, dest)))) return []; // a concurrent copy made it
    const absolute = link.startsWith('/');
    const hostTarget = absolute ? link : path.resolve(await fsp.realpath(path.dirname(hostPath)), link);
    const containerTarget = absolute ? link : path.posix.resolve(parent, link);
    return [inside, ...(await copyHostPath(root, hostTarget, containerTarget, depth + 1))];
  }
  if (stat.isDirectory()) {
    if (!(await ignoreExisting(fsp.mkdir(dest, { mode: stat.mode & 0o7777 })))) return [];
  } else if (stat.isFile()) {
    await fsp.copyFile(hostPath, dest, fs.constants.COPYFILE_FICLONE);
    await fsp.chmod(dest, stat.mode & 0o7777);
  } else {
    throw new UserError(`${hostPath} is not a regular file, a directory or a symlink: it cannot be copied into a rootfs`);
  }
  await fsp.utimes(dest, stat.atime, stat.mtime);
  return [inside];
}

/** The interpreter named on a script's "#!" line, or null. */
export function scriptInterpreter(file: string): string | null {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(256);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString('latin1');
    if (!text.startsWith('#!')) return null;
    return text.slice(2).split('\n')[0].trim().split(/\s+/)[0] || null;
  } finally {
    fs.closeSync(fd);
  }
}

export interface ProgramClosure {
  /** The program's host path, as found, then the interpreters of scripts it is (#!/bin/sh -> /bin/sh). */
  files: string[];
  /** Host paths of every library (and loader) those files need. */
  libraries: string[];
}

/** What has to be in a root for `program` to run there. Throws if the host lacks one of its libraries. */
export async function programClosure(binary: string): Promise<ProgramClosure> {
  const closure: ProgramClosure = { files: [], libraries: [] };
  let next: string | null = resolveHostProgram(binary);
  while (next && !closure.files.includes(next) && closure.files.length < 8) {
    closure.files.push(next);
    const real = await fsp.realpath(next);
    if (readElf(real)) {
      for (const lib of requireComplete(next, await lddReportAsync(real)).libraries) {
        if (!closure.libraries.includes(lib)) closure.libraries.push(lib);
      }
      next = null;
    } else {
      const interpreter = scriptInterpreter(real);
      next = interpreter ? resolveHostProgram(interpreter) : null;
    }
  }
  return closure;
}

export interface CopyReport {
  /** The program's host path, as found. */
  program: string;
  /** Its libraries (and loader) on the host, whether they were copied or not. */
  libraries: string[];
  /** Container paths written by this call. */
  copied: string[];
}

/**
 * Copies a host program into `targetRoot` at the same path and, with
 * `withLibraries`, every library ldd names, the loader included (lesson 1's
 * `cp /bin/bash ./bin; ldd /bin/bash; cp ... ./lib`); for a script, its
 * interpreter too. `binary` is a path or a name on the host's standard PATH.
 */
export async function copyWithLibraries(binary: string, targetRoot: string, opts: { withLibraries: boolean }): Promise<CopyReport> {
  const closure = await programClosure(binary);
  await fsp.mkdir(targetRoot, { recursive: true });
  const wanted = opts.withLibraries ? [...closure.files, ...closure.libraries] : closure.files.slice(0, 1);
  const copied: string[] = [];
  for (const file of wanted) copied.push(...(await copyHostPath(targetRoot, file)));
  return { program: closure.files[0], libraries: closure.libraries, copied };
}

/**
 * Runs `fn` on every item, at most `limit` at a time. On the first failure no new
 * item starts, and the call rejects only once the running ones have settled, so a
 * caller that cleans up after a failure does not race with writes still going on.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
}
