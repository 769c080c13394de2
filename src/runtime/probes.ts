// What the host and a container each see, read from the kernel, so the panes
// can put them side by side. Everything comes from /proc/PID/... of a process
// on that side, except the hostname, which only the UTS namespace itself can
// tell: for that we briefly join it on this thread (setns) and come back.
import fs from 'node:fs';
import * as libc from './libc.js';
import { readMountinfo } from './mountinfo.js';
import { RouteSocket } from './net/rtnetlink.js';
import type { CgroupReport, ContainerCgroup } from './cgroups/types.js';
import { decodeCapMask } from './security/capabilities.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from './security/docker-paths.js';

import type { ProbeKind } from './probe-kinds.js';
import { hostIdOf, parseIdMapText, type IdMapping } from './userns/idmap.js';

export { PROBE_KINDS, type ProbeKind } from './probe-kinds.js';

export interface ProbeSnapshot {
  hostname?: string;
  /** PIDs as seen inside that PID namespace. */
  processes?: Array<{ pid: number; command: string }>;
  interfaces?: NetInterface[];
  /** IPv4 routes of the main table, as `ip route` lists them. */
  routes?: Array<{ destination: string; gateway?: string; dev?: string }>;
  mounts?: Array<{ target: string; fstype: string; source: string }>;
  /** Namespace kind -> inode, as lsns shows them. */
  namespaces?: Record<string, number>;
  ids?: { uid: number; gid: number };
  cgroup?: CgroupReport | null;
  /** CapEff, CapPrm, CapBnd of /proc/PID/status, decoded to names (CAP_CHOWN, ...). */
  caps?: { effective: string[]; permitted: string[]; bounding: string[] };
  /** Seccomp: 0 off, 1 strict, 2 filter; Seccomp_filters (Linux 5.9+) when the kernel shows it. */
  seccomp?: { mode: number; filters?: number };
  /** NoNewPrivs of /proc/PID/status. */
  nnp?: boolean;
  /** Docker's masked and read-only paths in force in that side's mount table. */
  masks?: { masked: string[]; readonly: string[] };
  userns?: UsernsView;
  /** A probe that failed says which call failed and why. */
  errors?: Partial<Record<ProbeKind, string>>;
}

export interface NetInterface {
  name: string;
  /** IFF_UP: set up by someone. */
  up: boolean;
  /** The operational state as `ip link` prints it: UP, DOWN, UNKNOWN (lo), LOWERLAYERDOWN. */
  state: string;
  /** The first IPv4 address with its prefix, e.g. 10.88.0.2/16. */
  address?: string;
  addresses: string[];
  /** A veth whose other end is on the host: that end and its bridge, e.g. veth1a2b3c4@containy0. */
  peer?: string;
  /** IFLA_LINK: the other end's index, in the other end's namespace. */
  peerIndex?: number;
  /** The bridge this link is a port of. */
  master?: string;
}

const NS_KINDS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts', 'user', 'time'];

function namespaceInode(pid: number | 'self', kind: string): number {
  // The link reads like "uts:[4026531838]".
  const link = fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
  return Number(link.slice(link.indexOf('[') + 1, -1));
}

function readNamespaces(pid: number | 'self'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of NS_KINDS) {
    try {
      out[kind] = namespaceInode(pid, kind);
    } catch {
      // this kernel has no such namespace kind
    }
  }
  return out;
}

function readHostname(pid: number | 'self'): string {
  if (pid === 'self') return libc.gethostname();
  const own = fs.openSync('/proc/thread-self/ns/uts', 'r');
  const theirs = fs.openSync(`/proc/${pid}/ns/uts`, 'r');
  try {
    // Synchronous from join to return: nothing else runs on this thread meanwhile.
    libc.setns(theirs, libc.CLONE.NEWUTS, `uts namespace of pid ${pid}`);
    try {
      return libc.gethostname();
    } finally {
      libc.setns(own, libc.CLONE.NEWUTS, 'back to our own uts namespace');
    }
  } finally {
    fs.closeSync(own);
    fs.closeSync(theirs);
  }
}

function commandOf(pid: string): string {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline) return cmdline.replace(/\0+$/, '').replace(/\0/g, ' ');
    return `[${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return '?';
  }
}

/** The processes of the PID namespace `pid` lives in, with the PIDs they have there. */
function readProcesses(pid: number | 'self'): Array<{ pid: number; command: string }> {
  const target = namespaceInode(pid, 'pid');
  const out: Array<{ pid: number; command: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      // NSpid lists the PID in each nested PID namespace, outermost first.
      const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/).map(Number) ?? [Number(entry)];
      const inode = namespaceInode(Number(entry), 'pid');
      if (inode !== target) continue;
      out.push({ pid: nspid[nspid.length - 1], command: commandOf(entry) });
    } catch {
      // the process exited while we looked
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** A route socket for `pid`'s network namespace (the calling thread's for 'self'), used and closed. */
function withNetnsOf<T>(pid: number | 'self', fn: (s: RouteSocket) => T): T {
  let socket: RouteSocket;
  if (pid === 'self') socket = RouteSocket.open();
  else {
    const fd = fs.openSync(`/proc/${pid}/ns/net`, 'r');
    try {
      socket = RouteSocket.inNetns(fd, `pid ${pid}`);
    } finally {
      fs.closeSync(fd);
    }
  }
  try {
    return fn(socket);
  } finally {
    socket.close();
  }
}

/** Links and their addresses, from rtnetlink in that side's network namespace; a veth's host end named from here. */
function readInterfaces(pid: number | 'self'): NetInterface[] {
  const { links, addresses } = withNetnsOf(pid, (s) => ({ links: s.links(), addresses: s.addresses() }));
  // The other end of a container's veth lives in this (the host's) namespace: look it up by index.
  const hostLinks = pid === 'self' ? links : withNetnsOf('self', (s) => s.links());
  const nameOf = (list: typeof links, index?: number) => list.find((l) => l.index === index)?.name;
  return links.map((l) => {
    const own = addresses.filter((a) => a.index === l.index && a.family === 'inet').map((a) => `${a.address}/${a.prefixLength}`);
    const iface: NetInterface = { name: l.name, up: l.up, state: l.state, addresses: own };
    if (own.length) iface.address = own[0];
    if (l.master !== undefined) iface.master = nameOf(links, l.master);
    if (l.kind === 'veth' && l.peerIndex !== undefined) {
      iface.peerIndex = l.peerIndex;
      const end = pid === 'self' || l.peerNetnsId === undefined ? undefined : hostLinks.find((h) => h.index === l.peerIndex && h.peerIndex === l.index);
      if (end) iface.peer = end.master !== undefined ? `${end.name}@${nameOf(hostLinks, end.master)}` : end.name;
    }
    return iface;
  });
}

function readRoutes(pid: number | 'self'): NonNullable<ProbeSnapshot['routes']> {
  return withNetnsOf(pid, (s) => {
    const links = s.links();
    return s.routes().map((r) => ({
      destination: r.destination === 'default' ? 'default' : `${r.destination}/${r.prefixLength}`,
      ...(r.gateway ? { gateway: r.gateway } : {}),
      ...(r.outIndex !== undefined ? { dev: links.find((l) => l.index === r.outIndex)?.name } : {}),
    }));
  });
}

function readMounts(pid: number | 'self'): Array<{ target: string; fstype: string; source: string }> {
  return readMountinfo(pid).map((m) => ({ target: m.mountPoint, fstype: m.fstype, source: m.source }));
}

function readIds(pid: number | 'self'): { uid: number; gid: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { uid: field('Uid'), gid: field('Gid') };
}

function statusField(pid: number | 'self', name: string): string | undefined {
  return new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
}

function readCaps(pid: number | 'self'): { effective: string[]; permitted: string[]; bounding: string[] } {
  const set = (field: string) => decodeCapMask(statusField(pid, field) ?? '0');
  return { effective: set('CapEff'), permitted: set('CapPrm'), bounding: set('CapBnd') };
}

function readSeccomp(pid: number | 'self'): { mode: number; filters?: number } {
  const mode = Number(statusField(pid, 'Seccomp') ?? 0);
  const filters = statusField(pid, 'Seccomp_filters');
  return filters === undefined ? { mode } : { mode, filters: Number(filters) };
}

/**
 * Which of docker's masked and read-only paths are in force there, from its
 * mount table: a path is masked when something is mounted on it read from
 * /dev/null (a file: a bind of the null device) or an empty read-only tmpfs
 * (a directory); read-only when a read-only mount sits on it.
 */
function readMasks(pid: number | 'self'): { masked: string[]; readonly: string[] } {
  const mounts = readMountinfo(pid);
  const top = (p: string) => mounts.filter((m) => m.mountPoint === p).pop();
  const isRo = (options: string) => options.split(',').includes('ro');
  const masked = DOCKER_MASKED_PATHS.filter((p) => {
    const m = top(p);
    return m !== undefined && (m.root === '/null' || (m.fstype === 'tmpfs' && isRo(m.options)));
  });
  const readonly = DOCKER_READONLY_PATHS.filter((p) => {
    const m = top(p);
    return m !== undefined && isRo(m.options);
  });
  return { masked, readonly };
}

/** A process's user namespace as both sides see it: its maps, its ids, and who owns its root. */
export interface UsernsView {
  /** /proc/PID/uid_map and gid_map, one "inside outside count" line each, columns single-spaced. */
  uid_map: string;
  gid_map: string;
  /** /proc/PID/setgroups: "allow", or "deny" (setgroups(2) refused inside). */
  setgroups: string;
  /** The process's real ids as the host sees them (/proc/PID/status, read from the initial namespace)... */
  hostUid: number;
  hostGid: number;
  /** ...and inside its own user namespace, through its maps. */
  uid: number;
  gid: number;
  /** The owner of its root directory, as the host sees it and as seen inside. */
  rootOwnerHost: string;
  rootOwner: string;
}

// kernel/user_namespace.c: an id with no mapping reads as the overflow id (/proc/sys/kernel/overflowuid).
const OVERFLOW_ID = 65534;

/** The id inside that host id `hostId` is, through `map` (the inverse of hostIdOf). */
function insideIdOf(map: IdMapping[], hostId: number): number {
  const inverse = map.map((m) => ({ containerID: m.hostID, hostID: m.containerID, size: m.size }));
  return hostIdOf(inverse, hostId) ?? OVERFLOW_ID;
}

function readUserns(pid: number | 'self'): UsernsView {
  const text = (file: string) => fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  const lines = (t: string) => t.split('\n').map((l) => l.trim().split(/\s+/).join(' ')).filter(Boolean).join('\n');
  const uidMap = parseIdMapText(text('uid_map'));
  const gidMap = parseIdMapText(text('gid_map'));
  const ids = readIds(pid);
  // stat through /proc/PID/root: the side's own root, the ids in our (the host's) view.
  const root = fs.statSync(`/proc/${pid}/root/`);
  return {
    uid_map: lines(text('uid_map')),
    gid_map: lines(text('gid_map')),
    setgroups: text('setgroups').trim(),
    hostUid: ids.uid,
    hostGid: ids.gid,
    uid: insideIdOf(uidMap, ids.uid),
    gid: insideIdOf(gidMap, ids.gid),
    rootOwnerHost: `${root.uid}:${root.gid}`,
    rootOwner: `${insideIdOf(uidMap, root.uid)}:${insideIdOf(gidMap, root.gid)}`,
  };
}

function explain(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Read the chosen probes for a process (a container's PID) or, with no PID, for the host. */
export function probe(pid: number | undefined, kinds: ProbeKind[], cgroup?: ContainerCgroup): ProbeSnapshot {
  const who: number | 'self' = pid ?? 'self';
  const snap: ProbeSnapshot = {};
  const readers: Record<ProbeKind, () => void> = {
    hostname: () => (snap.hostname = readHostname(who)),
    processes: () => (snap.processes = readProcesses(who)),
    interfaces: () => (snap.interfaces = readInterfaces(who)),
    routes: () => (snap.routes = readRoutes(who)),
    mounts: () => (snap.mounts = readMounts(who)),
    namespaces: () => (snap.namespaces = readNamespaces(who)),
    ids: () => (snap.ids = readIds(who)),
    cgroup: () => (snap.cgroup = cgroup ? cgroup.read() : null),
    caps: () => (snap.caps = readCaps(who)),
    seccomp: () => (snap.seccomp = readSeccomp(who)),
    nnp: () => (snap.nnp = statusField(who, 'NoNewPrivs') === '1'),
    masks: () => (snap.masks = readMasks(who)),
    userns: () => (snap.userns = readUserns(who)),
  };
  for (const kind of kinds) {
    try {
      readers[kind]();
    } catch (err) {
      (snap.errors ??= {})[kind] = explain(err);
    }
  }
  return snap;
}
