// `containy-learn rootfs import FILE`: a `docker export` tarball or containy's
// debian.tar.gz becomes a rootfs. The host's tar does the extraction (it knows
// owners, modes, device files and compression); we check the archive is a root
// filesystem, strip a single top-level directory, and install it like a build.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../runtime/errors.js';
import { commandsInRoot, resolveInRoot } from './rootfs-copy.js';
import {
  ROOTFS_BUILD_VERSION,
  type RootfsMarker,
  checkReplaceable,
  checkTarget,
  installTree,
  measureTree,
  partialDirFor,
  removeStalePartials,
  writeMarker,
} from './rootfs-marker.js';

const execFileAsync = promisify(execFile);

export interface ImportOptions {
  /** A .tar (docker export) or .tar.gz/.tgz; other compressions tar recognises work too. */
  file: string;
  /** The directory to create; an existing containy rootfs there is replaced. */
  target: string;
  onProgress?: (p: { step: 'listing' | 'extracting' | 'finishing'; done: number; total: number }) => void;
}

export interface ImportResult {
  target: string;
  sizeBytes: number;
  files: number;
  commands: string[];
  /** The single top-level directory the archive had and that was stripped, or null. */
  strippedDir: string | null;
}

const NO_SHELL = 'the archive has no bin/sh: is it a root filesystem? try `docker export`';

export interface ArchiveLayout {
  /** --strip-components for tar: path components before the root's own entries ("./debian/bin/sh" -> 2). */
  strip: number;
  strippedDir: string | null;
  hasShell: boolean;
}

/** Entry names without "./" or "/" in front, or a trailing "/". */
function normalize(name: string): string[] {
  return name.split('/').filter((p) => p !== '' && p !== '.');
}

/**
 * Reads the archive's listing: is there a bin/sh (or usr/bin/sh under a merged
 * /usr), and is everything inside one top-level directory (`tar czf debian.tar.gz
 * debian/`) that has to be stripped?
 */
export function archiveLayout(names: string[]): ArchiveLayout {
  const entries = names.filter((n) => normalize(n).length > 0);
  const tops = new Set(entries.map((n) => normalize(n)[0]));
  const hasShellUnder = (prefix: string[]) => {
    const shells = [[...prefix, 'bin', 'sh'], [...prefix, 'usr', 'bin', 'sh']].map((p) => p.join('/'));
    return entries.some((n) => shells.includes(normalize(n).join('/')));
  };
  if (hasShellUnder([])) return { strip: 0, strippedDir: null, hasShell: true };
  if (tops.size === 1) {
    const top = [...tops][0];
    if (hasShellUnder([top])) {
      // tar counts "." as a component: "./debian/bin/sh" needs --strip-components=2.
      const sample = entries.find((n) => normalize(n).length > 1)!;
      const raw = sample.split('/').filter((p) => p !== '');
      return { strip: raw.indexOf(top) + 1, strippedDir: top, hasShell: true };
    }
  }
  return { strip: 0, strippedDir: null, hasShell: false };
}

async function listArchive(file: string): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('tar', ['-tf', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
    return stdout.split('\n').filter(Boolean);
  } catch (err) {
    const e = err as { code?: unknown; stderr?: string };
    if (e.code === 'ENOENT') throw new UserError('rootfs import: the host has no `tar`: install it (apt-get install tar)');
    const why = (e.stderr ?? '').split('\n').find((l) => l.trim()) ?? 'tar could not read it';
    throw new UserError(`rootfs import: ${file} is not a tar archive (${why.trim()}): give a .tar from \`docker export\` or a .tar.gz`);
  }
}

/** tar -x with -v, counting the names it prints for progress. Settles only once tar has exited. */
function extract(file: string, dir: string, strip: number, onEntry: () => void): Promise<void> {
  // Numeric owners: the archive's uids mean nothing in the host's /etc/passwd.
  // As root, tar also keeps owners, modes and device files by default; -p makes modes explicit.
  const args = ['-x', '-v', '-p', '--numeric-owner', '-f', file, '-C', dir];
  if (strip) args.push(`--strip-components=${strip}`);
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let pending = '';
    let aborted: { error: unknown } | null = null;
    tar.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (let i = 0; i < lines.length && !aborted; i++) {
        try {
          onEntry();
        } catch (error) {
          aborted = { error };
          tar.kill(); // its partial output is removed by the caller once it has exited
        }
      }
    });
    tar.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    tar.on('error', (err) => (aborted ??= { error: err }));
    tar.on('close', (code) => {
      if (aborted) return reject(aborted.error);
      if (code === 0) return resolve();
      const why = stderr.split('\n').find((l) => l.trim()) ?? `tar exited with ${code}`;
      const hint = process.getuid?.() === 0 ? '' : ' (device files and owners need root: run it with sudo)';
      reject(new UserError(`rootfs import: extracting ${file} failed: ${why.trim()}${hint}`));
    });
  });
}

/** Extracts a root filesystem archive to `opts.target`; nothing is left behind if it fails. */
export async function importRootfs(opts: ImportOptions): Promise<ImportResult> {
  const target = checkTarget(opts.target, 'rootfs import');
  const file = path.resolve(opts.file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new UserError(`rootfs import: ${opts.file} does not exist: give a .tar from \`docker export\` or a .tar.gz`);
  }
  if (!stat.isFile()) throw new UserError(`rootfs import: ${opts.file} is not a file: give a .tar from \`docker export\` or a .tar.gz`);
  checkReplaceable(target, 'rootfs import');

  const names = await listArchive(file);
  const layout = archiveLayout(names);
  if (!layout.hasShell) throw new UserError(`rootfs import: ${NO_SHELL}`);
  const total = names.length;
  opts.onProgress?.({ step: 'listing', done: total, total });

  await fsp.mkdir(path.dirname(target), { recursive: true });
  await removeStalePartials(target);
  const partial = partialDirFor(target);
  await fsp.rm(partial, { recursive: true, force: true });
  await fsp.mkdir(partial, { mode: 0o755 });
  try {
    let done = 0;
    const every = Math.max(1, Math.floor(total / 100));
    await extract(file, partial, layout.strip, () => {
      done++;
      if (done % every === 0 || done === total) opts.onProgress?.({ step: 'extracting', done, total });
    });
    // The listing only names bin/sh; a dangling symlink (sh -> busybox, no busybox) is found here.
    if (!resolveInRoot(partial, '/bin/sh').exists) throw new UserError(`rootfs import: ${NO_SHELL}`);
    opts.onProgress?.({ step: 'finishing', done: 0, total: 1 });
    const measured = await measureTree(partial);
    const commands = commandsInRoot(partial);
    const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => resolveInRoot(partial, p).exists) ?? null;
    const marker: RootfsMarker = {
      kind: 'imported',
      tools: null,
      version: ROOTFS_BUILD_VERSION,
      createdAt: new Date().toISOString(),
      ...measured,
      commands,
      python,
      source: { file, strippedDir: layout.strippedDir, entries: total },
    };
    await writeMarker(partial, marker);
    await installTree(partial, target, 'rootfs import', () => false);
    opts.onProgress?.({ step: 'finishing', done: 1, total: 1 });
    return { target, ...measured, commands, strippedDir: layout.strippedDir };
  } catch (err) {
    await fsp.rm(partial, { recursive: true, force: true });
    throw err;
  }
}
