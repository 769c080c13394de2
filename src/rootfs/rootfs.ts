// The base rootfs every container starts from, made from the host alone (no
// network): a static busybox and its applets, or bash and the host's own tools
// copied with their ldd libraries (lesson 1's technique), plus Python for
// cgroups_example. Built beside the target and renamed onto it at the end.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../runtime/errors.js';
import {
  CONTAINER_PATH,
  copyHostPath,
  findHostProgram,
  forEachLimit,
  isStaticProgram,
  lddReportAsync,
  programClosure,
  readElf,
} from './rootfs-copy.js';
import { commandsInRoot, resolveInRoot } from './root-paths.js';
import {
  ROOTFS_BUILD_VERSION,
  type RootfsMarker,
  type RootfsTools,
  checkReplaceable,
  checkTarget,
  installTree,
  measureTree,
  partialDirFor,
  readMarker,
  removeStalePartials,
  writeMarker,
} from './rootfs-marker.js';
import { type HostPython, extensionModules, findHostPython, listStdlib } from './rootfs-python.js';

export {
  CONTAINER_PATH,
  copyWithLibraries,
  isStaticProgram,
  sharedLibrariesOf,
  type CopyReport,
} from './rootfs-copy.js';
export { commandsInRoot, isExecutableInRoot, resolveInRoot } from './root-paths.js';
export {
  MARKER_PATH,
  ROOTFS_BUILD_VERSION,
  baseKind,
  missingRootfsMessage,
  removeStalePartials,
  rootfsStatus,
  type BaseKind,
  type RootfsKind,
  type RootfsMarker,
  type RootfsStatus,
  type RootfsTools,
} from './rootfs-marker.js';

const execFileAsync = promisify(execFile);

/**
 * The programs a container's shell finds: what the host-tools base copies (with
 * bash and python3), and what busybox 1.35 offers as applets. Every command a
 * lesson runs in the base must be here: test/unit/rootfs.test.ts derives them
 * from lessons/*.md and fails naming the lesson, step and command. `[`, `echo`,
 * `kill`... are shell builtins too, but an argv list or `env`/`xargs` runs the program.
 */
export const WANTED_COMMANDS = [
  // the shell and the builtins that are also programs
  'sh', '[', 'test', 'echo', 'printf', 'true', 'false', 'pwd', 'kill', 'sleep',
  // coreutils
  'ls', 'cat', 'head', 'tail', 'wc', 'cut', 'tr', 'sort', 'uniq', 'seq', 'yes', 'tee', 'tac', 'od', 'expr',
  'env', 'uname', 'id', 'date', 'touch', 'rm', 'rmdir', 'mkdir', 'mknod', 'mktemp', 'mv', 'cp', 'ln', 'stat',
  'readlink', 'realpath', 'basename', 'dirname', 'chmod', 'chown', 'du', 'df', 'dd', 'sync', 'nproc', 'chroot',
  'timeout',
  // text, files, editors
  'grep', 'sed', 'awk', 'find', 'xargs', 'diff', 'less', 'more', 'vi', 'which',
  // procps
  'ps', 'top', 'free', 'uptime', 'watch',
  // util-linux, hostname
  'mount', 'umount', 'unshare', 'nsenter', 'pivot_root', 'setsid', 'dmesg', 'hostname',
  // iproute2, net-tools
  'ip', 'ifconfig',
] as const;

/** Where a distribution's busybox-static puts busybox. */
export const HOST_BUSYBOX_PATHS = ['/bin/busybox', '/usr/bin/busybox'];

export type BuildStep = 'skeleton' | 'busybox' | 'host tools' | 'python stdlib' | 'libraries' | 'finishing';

export interface BuildProgress {
  step: BuildStep;
  done: number;
  total: number;
}

export interface BuildOptions {
  /** The directory to create, e.g. defaultRootfs(). */
  target: string;
  /** Called as work is done (about a hundred times per step at most). Throwing aborts the build. */
  onProgress?: (p: BuildProgress) => void;
  /** Rebuild even if a complete rootfs of this build version is there. */
  force?: boolean;
  /** busybox or the host's tools. Default: busybox when a static one is found (busyboxFile, or /bin/busybox, /usr/bin/busybox), else host. */
  tools?: RootfsTools;
  /** The static busybox to copy instead of looking in HOST_BUSYBOX_PATHS (e.g. one unpacked from busybox-static's .deb). */
  busyboxFile?: string;
  /** The Python to copy (a command or path; a pyenv shim is fine), or false for none. Default: found on the host. */
  python?: string | false;
}

export interface BuildResult {
  /** False when a complete rootfs was already there and nothing was done. */
  built: boolean;
  target: string;
  sizeBytes: number;
  files: number;
  /** Which programs it holds. */
  tools: RootfsTools | null;
  /** Programs on the container's PATH. */
  commands: string[];
  /** Container path of the Python interpreter, or null. */
  python: string | null;
  /** Commands of WANTED_COMMANDS (and python3) the host could not provide. */
  missingCommands: string[];
}

// One build per target per process: a second caller shares the first's promise.
const buildsInFlight = new Map<string, Promise<BuildResult>>();

/** Makes the base rootfs at `opts.target` unless a complete one is there. See BuildOptions. */
export function buildBaseRootfs(opts: BuildOptions): Promise<BuildResult> {
  const target = checkTarget(opts.target, 'rootfs build');
  const running = buildsInFlight.get(target);
  if (running) return running;
  const build = buildAt(target, opts).finally(() => buildsInFlight.delete(target));
  buildsInFlight.set(target, build);
  return build;
}

function resultFromMarker(target: string, marker: RootfsMarker, built: boolean): BuildResult {
  const wanted = [...WANTED_COMMANDS, 'python3'];
  return {
    built,
    target,
    sizeBytes: marker.sizeBytes,
    files: marker.files,
    tools: marker.tools,
    commands: marker.commands,
    python: marker.python,
    missingCommands: wanted.filter((c) => !marker.commands.includes(c)),
  };
}

/** A rootfs that needs no build: imported by the user, or built by this version. */
function isCurrent(marker: RootfsMarker): boolean {
  return marker.kind === 'imported' || marker.version === ROOTFS_BUILD_VERSION;
}

async function buildAt(target: string, opts: BuildOptions): Promise<BuildResult> {
  const tools = await chooseTools(opts); // bad input is refused before anything is made
  const existing = readMarker(target);
  // Asked for one kind of tools by name (--tools, or --busybox FILE), a base of another kind is rebuilt.
  const named = opts.tools !== undefined || opts.busyboxFile !== undefined;
  const wanted = (m: RootfsMarker) => !opts.force && isCurrent(m) && (!named || m.tools === tools.kind);
  if (existing && wanted(existing)) return resultFromMarker(target, existing, false);
  checkReplaceable(target, 'rootfs build');
  await fsp.mkdir(path.dirname(target), { recursive: true });
  await removeStalePartials(target);
  const partial = partialDirFor(target);
  await fsp.rm(partial, { recursive: true, force: true });
  const report = progressReporter(opts.onProgress);
  try {
    await makeSkeleton(partial);
    report('skeleton', 1, 1);
    const libraries = new Set<string>();
    const source: Record<string, unknown> = {};
    if (tools.kind === 'busybox') source.busybox = await installBusybox(partial, tools, report);
    else source.copied = await installHostTools(partial, libraries, report);
    const python = opts.python === false ? null : await findPython(opts.python);
    if (python) source.python = await installPython(partial, python, libraries, report);
    addNssModules(libraries);
    await copyLibraries(partial, [...libraries], report);
    await writeEtc(partial, { tools: tools.kind, pythonVersion: python?.version ?? null });
    report('finishing', 0, 1);
    const measured = await measureTree(partial);
    const marker: RootfsMarker = {
      kind: 'built',
      tools: tools.kind,
      version: ROOTFS_BUILD_VERSION,
      createdAt: new Date().toISOString(),
      ...measured,
      commands: commandsInRoot(partial),
      python: python ? python.executable : null,
      source,
    };
    await writeMarker(partial, marker);
    const installed = await installTree(partial, target, 'rootfs build', wanted);
    report('finishing', 1, 1);
    if (!installed) return resultFromMarker(target, readMarker(target)!, false);
    return resultFromMarker(target, marker, true);
  } catch (err) {
    await fsp.rm(partial, { recursive: true, force: true });
    throw err;
  }
}

type Report = (step: BuildStep, done: number, total: number) => void;

/** Calls onProgress at the start and end of a step and about every 1% between. */
function progressReporter(onProgress: BuildOptions['onProgress']): Report {
  return (step, done, total) => {
    if (!onProgress) return;
    const every = Math.max(1, Math.floor(total / 100));
    if (done === 0 || done === total || done % every === 0) onProgress({ step, done, total });
  };
}

// ---------------------------------------------------------------------------
// Skeleton

// A merged /usr, as Debian 12 and Fedora have: files copied from /bin, /lib or
// /usr/lib all land under usr/, whatever layout the host has.
const USR_LINKS: [string, string][] = [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']];
const DIRS: [string, number][] = [
  ['usr/bin', 0o755], ['usr/sbin', 0o755], ['usr/lib', 0o755], ['usr/lib64', 0o755],
  ['usr/local/bin', 0o755], ['usr/local/sbin', 0o755], ['usr/local/lib', 0o755],
  ['etc', 0o755], ['var/log', 0o755], ['var/tmp', 0o1777], ['run', 0o755], ['home', 0o755], ['mnt', 0o755],
  ['root', 0o700], ['tmp', 0o1777],
  // Mount points: the runtime mounts onto these, so it never has to create them
  // (a mkdir in an overlay would land in the container's upper dir).
  ['proc', 0o555], ['sys', 0o555], ['dev', 0o755], ['cgroups_example', 0o755],
];

async function makeSkeleton(root: string): Promise<void> {
  await fsp.mkdir(root, { recursive: true, mode: 0o755 });
  await fsp.chmod(root, 0o755);
  for (const [dir, mode] of DIRS) {
    await fsp.mkdir(path.join(root, dir), { recursive: true });
    await fsp.chmod(path.join(root, dir), mode); // mkdir's mode is cut by the umask
  }
  for (const [link, to] of USR_LINKS) await fsp.symlink(to, path.join(root, link));
  await fsp.symlink('../run', path.join(root, 'var/run'));
  await fsp.symlink('/proc/self/mounts', path.join(root, 'etc/mtab'));
}

async function writeEtc(root: string, made: { tools: RootfsTools; pythonVersion: string | null }): Promise<void> {
  const what = [made.tools === 'busybox' ? 'busybox' : 'host tools', made.pythonVersion ? `python ${made.pythonVersion}` : null].filter(Boolean).join(', ');
  const files: Record<string, string> = {
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    'etc/hostname': 'containy\n',
    'etc/hosts': '127.0.0.1\tlocalhost containy\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    'etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
    'etc/profile': `export PATH=${CONTAINER_PATH.join(':')}\nexport PS1='\\h:\\w\\$ '\n`,
    'etc/os-release': [
      'NAME="containy-learn base"',
      'ID=containy-learn',
      `VERSION_ID=${ROOTFS_BUILD_VERSION}`,
      `PRETTY_NAME="containy-learn base rootfs (${what}), built from the host by \`containy-learn rootfs build\`"`,
      '',
    ].join('\n'),
  };
  for (const [file, text] of Object.entries(files)) await fsp.writeFile(path.join(root, file), text, { mode: 0o644 });
}

// ---------------------------------------------------------------------------
// Programs

type Tools = { kind: 'host' } | { kind: 'busybox'; busybox: string; applets: string[] };

const NO_BUSYBOX_FIX = 'install busybox-static or give --busybox FILE';

/** The first static busybox of HOST_BUSYBOX_PATHS, or null. */
export function findStaticBusybox(): string | null {
  for (const candidate of HOST_BUSYBOX_PATHS) {
    try {
      if (fs.statSync(candidate).isFile() && isStaticProgram(candidate)) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Which tools to copy, checked before anything is made: a busybox asked for must be static and run. */
async function chooseTools(opts: BuildOptions): Promise<Tools> {
  if (opts.busyboxFile !== undefined) {
    if (opts.tools === 'host') throw new UserError('rootfs build: --busybox FILE makes a busybox base, not a host-tools one: drop --tools host or --busybox');
    const file = path.resolve(opts.busyboxFile);
    let stat: fs.Stats | null = null;
    try {
      stat = fs.statSync(file);
    } catch {
      // reported below
    }
    if (!stat?.isFile()) throw new UserError(`rootfs build: --busybox ${opts.busyboxFile} is not a file: give the path of a static busybox (bin/busybox of busybox-static)`);
    const elf = readElf(file);
    if (!elf) throw new UserError(`rootfs build: --busybox ${opts.busyboxFile} is not a program (no ELF header): give the static busybox of busybox-static`);
    if (elf.interpreter !== null) {
      throw new UserError(`rootfs build: --busybox ${opts.busyboxFile} is not static (it needs ${elf.interpreter}): give the static busybox of busybox-static`);
    }
    return { kind: 'busybox', busybox: file, applets: await busyboxApplets(file, `--busybox ${opts.busyboxFile}`) };
  }
  if (opts.tools === 'host') return { kind: 'host' };
  const found = findStaticBusybox();
  if (found) return { kind: 'busybox', busybox: found, applets: await busyboxApplets(found, found) };
  if (opts.tools === 'busybox') {
    throw new UserError(`rootfs build: --tools busybox found no static busybox at ${HOST_BUSYBOX_PATHS.join(' or ')}: ${NO_BUSYBOX_FIX}`);
  }
  return { kind: 'host' };
}

/** busybox as /bin/busybox and a symlink per applet where `busybox --list-full` puts it. */
async function installBusybox(root: string, tools: { busybox: string; applets: string[] }, report: Report): Promise<Record<string, unknown>> {
  const { busybox: hostBusybox, applets } = tools;
  await fsp.copyFile(hostBusybox, path.join(root, 'usr/bin/busybox'));
  await fsp.chmod(path.join(root, 'usr/bin/busybox'), 0o755);
  const { stdout: banner } = await execFileAsync(hostBusybox, [], { encoding: 'utf8' }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  let done = 0;
  for (const applet of applets) {
    const inside = resolveInRoot(root, '/' + path.posix.dirname(applet)).path;
    await fsp.mkdir(path.join(root, inside), { recursive: true });
    // The same name twice in the list: keep the first (an existence check would
    // follow the absolute link out to the host's /bin/busybox).
    await fsp.symlink('/bin/busybox', path.join(root, inside, path.posix.basename(applet))).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    report('busybox', ++done, applets.length);
  }
  return { from: hostBusybox, version: banner.split('\n')[0].trim(), applets: applets.length };
}

/** Applet paths relative to /, e.g. "usr/bin/awk"; older busyboxes only have --list (all in bin/). */
async function busyboxApplets(hostBusybox: string, named: string): Promise<string[]> {
  let list: string[];
  try {
    list = (await execFileAsync(hostBusybox, ['--list-full'], { encoding: 'utf8' })).stdout.split('\n');
  } catch {
    try {
      list = (await execFileAsync(hostBusybox, ['--list'], { encoding: 'utf8' })).stdout.split('\n').map((n) => `bin/${n}`);
    } catch {
      throw new UserError(`rootfs build: ${named} does not list applets with --list: give the static busybox of busybox-static`);
    }
  }
  // "linuxrc" (an init for initrds) is the only applet outside a bin dir; a container has no use for it.
  return list.map((l) => l.trim()).filter((l) => l.includes('/') && !l.endsWith('/busybox'));
}

/** bash and each wanted command the host has, at its host path. */
async function installHostTools(root: string, libraries: Set<string>, report: Report): Promise<Record<string, unknown>> {
  const names = ['bash', ...WANTED_COMMANDS].filter((name) => findHostProgram(name));
  const copied: string[] = [];
  let done = 0;
  for (const name of names) {
    const closure = await programClosure(name);
    for (const file of closure.files) await copyHostPath(root, file);
    for (const lib of closure.libraries) libraries.add(lib);
    copied.push(closure.files[0]);
    report('host tools', ++done, names.length);
  }
  return { programs: copied };
}

// ---------------------------------------------------------------------------
// Python

async function findPython(command: string | undefined): Promise<HostPython | null> {
  const python = await findHostPython(command);
  if (!python && command) {
    throw new UserError(`python: \`${command} -c ...\` did not run a Python 3 interpreter: give a working python3`);
  }
  return python;
}

async function installPython(root: string, python: HostPython, libraries: Set<string>, report: Report): Promise<Record<string, unknown>> {
  await copyHostPath(root, python.executable);
  await linkPython3(root, python.executable);
  const entries = await listStdlib(python.libraryDirs);
  let done = 0;
  await forEachLimit(entries, 16, async (entry) => {
    await copyHostPath(root, entry.hostPath);
    report('python stdlib', ++done, entries.length);
  });
  // Extension modules whose libraries the host lacks (say _tkinter without Tk)
  // cannot be imported here either; the rest of Python works without them.
  const unusable: string[] = [];
  const modules = extensionModules(entries);
  await forEachLimit([python.executable, ...modules], 8, async (file) => {
    const ldd = await lddReportAsync(file);
    if (ldd.missing.length) unusable.push(path.basename(file));
    for (const lib of ldd.libraries) libraries.add(lib);
  });
  return { from: python.command, executable: python.executable, version: python.version, libraryDirs: python.libraryDirs, files: entries.length, unusableModules: unusable };
}

/** `python3` on the container's PATH: the host's own /usr/bin/python3 link when it leads to this interpreter. */
async function linkPython3(root: string, executable: string): Promise<void> {
  if (executable === '/usr/bin/python3') return;
  const hostLink = '/usr/bin/python3';
  if (fs.existsSync(hostLink) && fs.realpathSync(hostLink) === executable) await copyHostPath(root, hostLink);
  else await fsp.symlink(executable, path.join(root, 'usr/bin/python3'));
}

/**
 * glibc loads its NSS modules with dlopen, so ldd never names them; before 2.34
 * `id` and `ps -o user` need libnss_files.so.2 to read /etc/passwd. It sits
 * beside libc.
 */
function addNssModules(libraries: Set<string>): void {
  for (const lib of [...libraries]) {
    if (!/\/libc\.so\.6$/.test(lib)) continue;
    const nss = path.join(path.dirname(lib), 'libnss_files.so.2');
    if (fs.existsSync(nss)) libraries.add(nss);
  }
}

async function copyLibraries(root: string, libraries: string[], report: Report): Promise<void> {
  let done = 0;
  report('libraries', 0, libraries.length);
  // One at a time: libraries share symlink chains (libfoo.so.1 -> libfoo.so.1.2).
  for (const lib of libraries) {
    await copyHostPath(root, lib);
    report('libraries', ++done, libraries.length);
  }
}
