// What the host and a container each see, read from the kernel, so the panes
// can put them side by side. Everything comes from /proc/PID/... of a process
// on that side, except the hostname, which only the UTS namespace itself can
// tell: for that we briefly join it on this thread (setns) and come back.
import fs from 'node:fs';
import * as libc from './libc.js';
import { readMountinfo } from './mountinfo.js';
import type { CgroupReport, ContainerCgroup } from './cgroups/types.js';

import type { ProbeKind } from './probe-kinds.js';
import { hostIdOf, parseIdMapText, type IdMapping } from './userns/idmap.js';

export { PROBE_KINDS, type ProbeKind } from './probe-kinds.js';

export interface ProbeSnapshot {
  hostname?: string;
  /** PIDs as seen inside that PID namespace. */
  processes?: Array<{ pid: number; command: string }>;
  interfaces?: Array<{ name: string; up: boolean }>;
  mounts?: Array<{ target: string; fstype: string; source: string }>;
  /** Namespace kind -> inode, as lsns shows them. */
  namespaces?: Record<string, number>;
  ids?: { uid: number; gid: number };
  cgroup?: CgroupReport | null;
  userns?: UsernsView;
  /** A probe that failed says which call failed and why. */
  errors?: Partial<Record<ProbeKind, string>>;
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

function readInterfaces(pid: number | 'self'): Array<{ name: string; up: boolean }> {
  // /proc/PID/net is the network namespace of that process, whoever reads it.
  const dev = fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2);
  const names = dev.map((l) => l.split(':')[0].trim()).filter(Boolean);
  return names.map((name) => ({ name, up: isUp(pid, name) }));
}

/** IFF_UP, from the sysfs that side has mounted (a container's own /sys shows its own devices). */
function isUp(pid: number | 'self', name: string): boolean {
  try {
    return (parseInt(fs.readFileSync(`/proc/${pid}/root/sys/class/net/${name}/flags`, 'utf8'), 16) & 1) === 1;
  } catch {
    return false;
  }
}

function readMounts(pid: number | 'self'): Array<{ target: string; fstype: string; source: string }> {
  return readMountinfo(pid).map((m) => ({ target: m.mountPoint, fstype: m.fstype, source: m.source }));
}

function readIds(pid: number | 'self'): { uid: number; gid: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { uid: field('Uid'), gid: field('Gid') };
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
    mounts: () => (snap.mounts = readMounts(who)),
    namespaces: () => (snap.namespaces = readNamespaces(who)),
    ids: () => (snap.ids = readIds(who)),
    cgroup: () => (snap.cgroup = cgroup ? cgroup.read() : null),
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
