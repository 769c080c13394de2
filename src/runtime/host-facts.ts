// The facts about this machine that decide whether containers can be made here
// the way we make them: the kernel, the cgroup layout, overlayfs, user
// namespaces, Node, and the base rootfs. Read from /proc, /sys, /run and the
// rootfs marker with plain file reads (no tools are run), and said in lines of
// at most 80 columns that a person can compare with another machine's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupRoot, detectLayout } from './cgroups/layout.js';
import type { CgroupLayout } from './cgroups/types.js';
import { MARKER_PATH, readMarker } from '../rootfs/rootfs-marker.js';

export interface UsernsFacts {
  /** /proc/self/ns/user exists: the kernel was built with CONFIG_USER_NS. */
  supported: boolean;
  /** user.max_user_namespaces: how many user namespaces each user may create (0: none, root included). */
  maxUserNamespaces: number | null;
  /** Debian's kernel.unprivileged_userns_clone (null when the kernel lacks Debian's patch). */
  unprivilegedClone: number | null;
  /** Ubuntu's kernel.apparmor_restrict_unprivileged_userns (null outside Ubuntu's AppArmor). */
  apparmorRestrict: number | null;
}

/** 'available': listed in /proc/filesystems; 'loadable': a module of this kernel, not loaded yet. */
export type OverlayFact = 'available' | 'loadable' | 'missing' | 'unreadable';

export interface CgroupFacts {
  /** null when no cgroup file system is mounted at `root`. */
  layout: CgroupLayout | null;
  root: string;
  /** Why `layout` is null. */
  problem?: string;
  /** systemd booted the machine (/run/systemd/system exists, as sd_booted(3) checks), so it owns the tree. */
  systemd: boolean;
  /** /proc/1/comm: what runs as PID 1 when it is not systemd. */
  pid1: string;
}

export type BaseTools = 'busybox' | 'host';

export interface BaseFacts {
  path: string;
  /** 'missing': no directory; 'unmarked': a directory without our marker. */
  kind: 'built' | 'imported' | 'missing' | 'unmarked';
  /** For a built base: busybox, or the host's bash/coreutils/procps. */
  tools?: BaseTools;
  /** Container path of its python3, or null when it has none. */
  python?: string | null;
  sizeBytes?: number;
  /** An imported base: the archive or directory it came from. */
  importedFrom?: string;
}

export interface HostFacts {
  kernel: { release: string; arch: string };
  cgroup: CgroupFacts;
  overlay: OverlayFact;
  userns: UsernsFacts;
  node: string;
  base: BaseFacts;
}

export interface ReadFactsOptions {
  /** The base rootfs directory whose marker is read. */
  rootfs: string;
  /** Where /proc, /sys, /run and /lib/modules are found: '/' except in tests. */
  hostRoot?: string;
  /** Default: cgroupRoot(). */
  cgroupRoot?: string;
}

export function readHostFacts(opts: ReadFactsOptions): HostFacts {
  const hostRoot = opts.hostRoot ?? '/';
  const release = readText(hostRoot, 'proc/sys/kernel/osrelease') ?? os.release();
  return {
    kernel: { release, arch: os.machine() },
    cgroup: readCgroupFacts(hostRoot, opts.cgroupRoot ?? cgroupRoot()),
    overlay: readOverlayFact(hostRoot, release),
    userns: readUsernsFacts(hostRoot),
    node: process.version,
    base: readBaseFacts(opts.rootfs),
  };
}

function readText(hostRoot: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(hostRoot, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readNumber(hostRoot: string, file: string): number | null {
  const text = readText(hostRoot, file);
  return text !== undefined && /^-?\d+$/.test(text) ? Number(text) : null;
}

export function readUsernsFacts(hostRoot = '/'): UsernsFacts {
  return {
    supported: fs.existsSync(path.join(hostRoot, 'proc/self/ns/user')),
    maxUserNamespaces: readNumber(hostRoot, 'proc/sys/user/max_user_namespaces'),
    unprivilegedClone: readNumber(hostRoot, 'proc/sys/kernel/unprivileged_userns_clone'),
    apparmorRestrict: readNumber(hostRoot, 'proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
  };
}

/** "nodev\toverlay" in /proc/filesystems once registered; otherwise a module of this release may provide it. */
export function readOverlayFact(hostRoot = '/', release = os.release()): OverlayFact {
  const filesystems = readText(hostRoot, 'proc/filesystems');
  if (filesystems === undefined) return 'unreadable';
  if (/\toverlay$/m.test(filesystems)) return 'available';
  const modules = readText(hostRoot, `lib/modules/${release}/modules.dep`) ?? '';
  return /(^|\/)overlay\.ko(\.\w+)?:/m.test(modules) ? 'loadable' : 'missing';
}

function readCgroupFacts(hostRoot: string, root: string): CgroupFacts {
  const systemd = fs.existsSync(path.join(hostRoot, 'run/systemd/system'));
  const pid1 = readText(hostRoot, 'proc/1/comm') ?? 'unknown';
  try {
    return { layout: detectLayout(root), root, systemd, pid1 };
  } catch (err) {
    return { layout: null, root, problem: (err as Error).message, systemd, pid1 };
  }
}

export function readBaseFacts(rootfs: string): BaseFacts {
  if (!fs.existsSync(rootfs)) return { path: rootfs, kind: 'missing' };
  const marker = readMarker(rootfs);
  if (!marker) return { path: rootfs, kind: 'unmarked' };
  const facts: BaseFacts = { path: rootfs, kind: marker.kind, python: marker.python, sizeBytes: marker.sizeBytes };
  if (marker.kind === 'imported') {
    const from = marker.source.file ?? marker.source.dir;
    if (typeof from === 'string') facts.importedFrom = from;
    return facts;
  }
  // Newer builds say which tools they hold; older markers say it by what they recorded.
  if (marker.tools === 'busybox' || marker.tools === 'host') facts.tools = marker.tools;
  else if (marker.source.busybox) facts.tools = 'busybox';
  else if (marker.source.copied) facts.tools = 'host';
  return facts;
}

// ---------------------------------------------------------------------------
// In words

const WIDTH = 80;
const LABEL = 9;

/** One line per fact (wrapped under its label when longer than `width`). */
export function hostFactLines(f: HostFacts, width = WIDTH): string[] {
  const facts: Array<[string, string]> = [
    ['kernel', `${f.kernel.release} ${f.kernel.arch}`],
    ['cgroup', cgroupWords(f.cgroup)],
    ['overlay', overlayWords(f.overlay)],
    ...usernsWords(f.userns).map((text, i): [string, string] => [i === 0 ? 'userns' : '', text]),
    ['node', f.node],
    ['base', baseWords(f.base)],
  ];
  return facts.flatMap(([label, text]) => wrap(label.padEnd(LABEL), text, width));
}

function cgroupWords(c: CgroupFacts): string {
  const owner = c.systemd ? 'managed by systemd' : `no systemd (PID 1: ${c.pid1})`;
  switch (c.layout) {
    case 'v2':
      return `v2 unified (one cgroup2 tree at ${c.root}), ${owner}`;
    case 'hybrid':
      return `v1 hybrid (cgroup2 only at unified/), ${owner}`;
    case 'v1':
      return `v1 (one tree per controller under ${c.root}), ${owner}`;
    default:
      return `none: ${c.problem ?? `nothing mounted at ${c.root}`}`;
  }
}

function overlayWords(o: OverlayFact): string {
  switch (o) {
    case 'available':
      return 'available (listed in /proc/filesystems)';
    case 'loadable':
      return 'not loaded, but a module of this kernel: `sudo modprobe overlay`';
    case 'missing':
      return 'missing: neither loaded nor a module of this kernel (CONFIG_OVERLAY_FS)';
    default:
      return '/proc/filesystems cannot be read';
  }
}

/** What each knob means for a runtime that runs as root, as the kernel applies it. */
export function usernsWords(u: UsernsFacts): string[] {
  if (!u.supported) return ['none: this kernel has no user namespaces (CONFIG_USER_NS)'];
  const lines: string[] = [];
  const max = u.maxUserNamespaces;
  if (max === 0) lines.push('no one may create one, root included: user.max_user_namespaces = 0');
  else if (max === null) lines.push('allowed (user.max_user_namespaces cannot be read)');
  else lines.push(`root may create them: user.max_user_namespaces = ${max} per user`);
  // Debian's patch: CLONE_NEWUSER without CAP_SYS_ADMIN fails with EPERM when it is 0.
  if (u.unprivilegedClone === 0) lines.push('kernel.unprivileged_userns_clone = 0: only CAP_SYS_ADMIN may create one');
  else if (u.unprivilegedClone !== null) lines.push(`kernel.unprivileged_userns_clone = ${u.unprivilegedClone}: any user may create one`);
  // Ubuntu's AppArmor: an unconfined process without CAP_SYS_ADMIN gets a user
  // namespace with no capabilities in it (the unprivileged_userns profile), or
  // EACCES when that profile is not loaded. Root is not restricted.
  if (u.apparmorRestrict !== null && u.apparmorRestrict !== 0) {
    lines.push(`kernel.apparmor_restrict_unprivileged_userns = ${u.apparmorRestrict}: an unconfined process without CAP_SYS_ADMIN gets one with no capabilities in it (or EACCES); root is exempt`);
  } else if (u.apparmorRestrict === 0) {
    lines.push('kernel.apparmor_restrict_unprivileged_userns = 0: AppArmor lets any user create one');
  }
  return lines;
}

function baseWords(b: BaseFacts): string {
  switch (b.kind) {
    case 'missing':
      return `missing at ${b.path}: \`sudo containy-learn rootfs build\``;
    case 'unmarked':
      return `${b.path} has no ${MARKER_PATH}: not a base we built or imported`;
    case 'imported':
      return `imported${b.importedFrom ? ` from ${b.importedFrom}` : ''}${extras(b)}`;
    default: {
      const tools = b.tools === 'busybox' ? 'busybox' : b.tools === 'host' ? 'host tools (bash, coreutils, procps)' : 'built, tools unknown';
      return `${tools}${extras(b)}`;
    }
  }
}

function extras(b: BaseFacts): string {
  const python = b.python ? path.posix.basename(b.python) : 'no python3';
  const size = b.sizeBytes === undefined ? '' : `, ${Math.round(b.sizeBytes / 1e6)} MB`;
  return `, ${python}${size}`;
}

/** `prefix` + `text` in lines of at most `width` columns, later lines indented under the text. */
export function wrap(prefix: string, text: string, width = WIDTH): string[] {
  const room = Math.max(10, width - prefix.length);
  // Runs of spaces are kept (they are part of what a command printed).
  const words = text.split(' ').flatMap((w) => (w === '' ? [''] : w.match(new RegExp(`.{1,${room}}`, 'g'))!));
  const lines: string[] = [];
  let line: string | undefined;
  for (const word of words) {
    if (line?.trim() && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else {
      line = line === undefined ? word : `${line} ${word}`;
    }
  }
  lines.push(line ?? '');
  return lines.map((l, i) => `${i === 0 ? prefix : ' '.repeat(prefix.length)}${l}`.trimEnd());
}
