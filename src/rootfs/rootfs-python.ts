// Python in the base rootfs, so cgroups_example/mem.py and proc.py run in a
// container: the real interpreter (not a pyenv shim script), its libraries, and
// its standard library without tests, GUI toolkits and third-party packages.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CONTAINER_PATH, readElf } from './rootfs-copy.js';

const execFileAsync = promisify(execFile);

export interface HostPython {
  /** The command we asked (a shim is fine: it runs the real one). */
  command: string;
  /** The real interpreter, an ELF program (symlinks resolved). */
  executable: string;
  /** "3.11" */
  version: string;
  /** Directories holding the standard library and its C extension modules. */
  libraryDirs: string[];
}

// Asked of the interpreter itself: only it knows where its stdlib and lib-dynload are.
const INFO_SCRIPT = `
import json, os, sys, sysconfig
paths = sysconfig.get_paths()
dirs = [paths['stdlib'], paths['platstdlib'], sysconfig.get_config_var('DESTSHARED') or '']
print(json.dumps({'executable': os.path.realpath(sys.executable),
  'version': '%d.%d' % sys.version_info[:2], 'dirs': dirs}))
`;

async function askPython(command: string): Promise<HostPython | null> {
  try {
    const { stdout } = await execFileAsync(command, ['-c', INFO_SCRIPT], { encoding: 'utf8', timeout: 15_000 });
    const info = JSON.parse(stdout.trim().split('\n').pop()!) as { executable: string; version: string; dirs: string[] };
    if (!readElf(info.executable)) return null; // not a real interpreter
    // Nested dirs (lib-dynload inside the stdlib) are copied with their parent.
    const existing = [...new Set(info.dirs.filter((d) => d && fs.existsSync(d)).map((d) => path.resolve(d)))];
    const libraryDirs = existing.filter((d) => !existing.some((o) => o !== d && d.startsWith(o + '/')));
    return { command, executable: info.executable, version: info.version, libraryDirs };
  } catch {
    return null;
  }
}

/**
 * Finds the Python to copy. An explicit command wins. Otherwise a python3 in the
 * standard system dirs is preferred over the caller's PATH: it has system paths
 * (a pyenv interpreter would put /root/.pyenv into the container) and it is what
 * `sudo` finds anyway. Null when there is none.
 */
export async function findHostPython(command?: string): Promise<HostPython | null> {
  if (command) return askPython(command);
  for (const dir of CONTAINER_PATH) {
    const candidate = path.join(dir, 'python3');
    if (fs.existsSync(candidate)) {
      const found = await askPython(candidate);
      if (found) return found;
    }
  }
  return askPython('python3');
}

// Left out of the copy. Measured on Debian 12's 3.11: the stdlib is 54 MB, 27 MB after these.
const EXCLUDED_DIRS = new Set(['test', 'tests', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'lib2to3']);
/** Kept as empty dirs: third-party packages are not the stdlib. */
const EMPTIED_DIRS = new Set(['site-packages', 'dist-packages']);
// Test and Tk extension modules in lib-dynload.
const EXCLUDED_FILES = /^(_test\w*|_ctypes_test|_xxtestfuzz|xxlimited\w*|_tkinter)(\.[\w-]+)?\.so$/;
// Only plain .pyc files are kept: they let Python start without compiling and
// without writing __pycache__ into a container's overlay upper dir.
const PLAIN_PYC = /^[^.]+\.cpython-\d+\.pyc$/;

/** Whether a stdlib entry is copied. `rel` is relative to a library dir. */
export function keepStdlibEntry(rel: string, isDir: boolean): boolean {
  const parts = rel.split('/');
  const name = parts[parts.length - 1];
  if (parts.slice(0, -1).some((p) => EMPTIED_DIRS.has(p))) return false;
  if (isDir) return !EXCLUDED_DIRS.has(name) && !/^config-\d/.test(name); // config-3.11-*: headers and libpython.a for building extensions
  if (parts.length >= 2 && parts[parts.length - 2] === '__pycache__') return PLAIN_PYC.test(name);
  return !EXCLUDED_FILES.test(name);
}

export interface StdlibEntry {
  hostPath: string;
  isDir: boolean;
}

/** Lists what to copy of the library dirs (dirs first, so parents exist). */
export async function listStdlib(libraryDirs: string[]): Promise<StdlibEntry[]> {
  const entries: StdlibEntry[] = [];
  const walk = async (base: string, dir: string): Promise<void> => {
    for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
      const hostPath = path.join(dir, entry.name);
      const isDir = entry.isDirectory();
      if (!keepStdlibEntry(path.relative(base, hostPath), isDir)) continue;
      entries.push({ hostPath, isDir });
      if (isDir) await walk(base, hostPath);
    }
  };
  for (const dir of libraryDirs) {
    entries.push({ hostPath: dir, isDir: true });
    await walk(dir, dir);
  }
  return entries;
}

/** Extension modules (.so) among the entries: their libraries have to be copied too. */
export function extensionModules(entries: StdlibEntry[]): string[] {
  return entries.filter((e) => !e.isDir && e.hostPath.endsWith('.so')).map((e) => e.hostPath);
}
