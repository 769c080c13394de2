// Host vs container: turns two probe snapshots into rows for two panes, with
// each row marked when it differs from the other side. The marks are
// characters, not only colours, so they survive NO_COLOR and copy-paste:
//   '≠'  this entry exists on both sides with different values (both panes)
//   '+'  this entry exists only in the container (container pane)
//   '»'  a process the lesson started (the victim, a container's first process), put first
// The host is the reference: "only on the host" is the normal state of a
// host with a hundred processes, and marking all of them would hide the lesson.
import type { CgroupReport, CgroupValue } from '../runtime/cgroups/types.js';
import type { ProbeKind, ProbeSnapshot } from './types.js';

export type Mark = 'same' | 'differs' | 'only' | 'error' | 'lesson';

export const MARK_CHAR: Record<Mark, string> = { same: ' ', differs: '≠', only: '+', error: '✗', lesson: '»' };

export interface PaneRow {
  text: string;
  mark: Mark;
  /** The section's heading row (e.g. "namespaces"). */
  heading?: boolean;
}

export interface ProbeSection {
  kind: ProbeKind;
  host: PaneRow[];
  /** Empty when there is no container snapshot. */
  container: PaneRow[];
}

const NS_ORDER = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts', 'user', 'time'];

/** One comparable thing on one side: a key to pair it with the other side, and what it shows. */
interface Entry {
  key: string;
  /** Compared across sides. */
  value: string;
  text: string;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

/** A cgroup value as read: bytes made readable (the raw number stays alongside), "max" for unlimited. */
export function cgroupValueText(v: CgroupValue): string {
  if (v.value === null) return v.raw || 'max';
  const name = baseName(v.file);
  const isBytes = /bytes|memory\.(max|high|low|min|current|peak|swap\.max|swap\.current)$/.test(name);
  if (isBytes && v.value >= 1024) return `${formatBytes(v.value)} (${v.raw})`;
  return v.raw;
}

function cgroupEntries(report: CgroupReport): Entry[] {
  return [...report.limits, ...report.usage, ...report.events].map((v) => {
    const name = baseName(v.file) || v.label;
    const value = cgroupValueText(v);
    return { key: name, value, text: `${name} ${value}` };
  });
}

/** Options of the comparison: the cgroup pane shows files by name, or (default) compact lines per controller. */
export interface CompareOptions {
  cgroupFiles?: boolean;
  /** Host PIDs of the processes the lesson started: first in the host's process list, marked. */
  lessonPids?: readonly number[];
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** "487/512 MiB": usage in the limit's unit, so the two read at a glance. */
function bytesOf(used: number | undefined, limit: number | null | undefined): string {
  const scale = limit ?? used ?? 0;
  let unit = 0;
  while (scale >= 1024 ** (unit + 1) && unit < BYTE_UNITS.length - 1) unit++;
  const inUnit = (n: number): string => {
    const v = n / 1024 ** unit;
    return unit === 0 || v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
  };
  const usedText = used === undefined ? '?' : inUnit(used);
  return limit === null || limit === undefined ? `${usedText} ${BYTE_UNITS[unit]} (no limit)` : `${usedText}/${inUnit(limit)} ${BYTE_UNITS[unit]}`;
}

/**
 * One line per controller, limit beside usage, then its events:
 * `memory 487/512 MiB · oom_kill 1`, `pids 9/10 · refused 3`, `cpu 10% · throttled 12 (0.3 s)`.
 * An event is shown once it counted, or when its limit is set (the 0 that will move).
 */
function cgroupCompact(report: CgroupReport): Entry[] {
  const all = new Map([...report.limits, ...report.usage, ...report.events].flatMap((v) => (v.id ? [[v.id, v] as const] : [])));
  const num = (id: string): number | null | undefined => all.get(id)?.value;
  const has = (id: string): boolean => all.has(id);
  const event = (id: string, name: string, limited: boolean): string[] => {
    const n = num(id);
    return typeof n === 'number' && (n > 0 || limited) ? [`${name} ${n}`] : [];
  };
  const entries: Entry[] = [];
  const line = (key: string, parts: string[]): void => {
    const text = `${key} ${parts.join(' · ')}`;
    entries.push({ key, value: text, text });
  };
  if (has('memory.limit') || has('memory.usage')) {
    const limit = num('memory.limit');
    const limited = typeof limit === 'number';
    line('memory', [bytesOf(num('memory.usage') ?? undefined, limit), ...event('events.oom_kill', 'oom_kill', limited)]);
  }
  if (has('pids.limit') || has('pids.current')) {
    const limit = num('pids.limit');
    const limited = typeof limit === 'number';
    line('pids', [`${num('pids.current') ?? '?'}${limited ? `/${limit}` : ' (no limit)'}`, ...event('events.pids_max', 'refused', limited)]);
  }
  if (has('cpu.quota') || has('cpu.usage')) {
    const quota = num('cpu.quota');
    const period = num('cpu.period');
    const limited = typeof quota === 'number' && quota > 0 && typeof period === 'number' && period > 0;
    const used = num('cpu.usage');
    // With a quota the throttling is the point (a pane is ~38 columns): the time used only without one.
    const parts = [limited ? `${Math.round((100 * quota) / period)}%` : 'no limit'];
    if (typeof used === 'number' && !limited) parts.push(`used ${(used / 1e6).toFixed(1)} s`);
    const throttled = num('events.cpu_throttled');
    const held = num('events.cpu_throttled_usec');
    if (typeof throttled === 'number' && (throttled > 0 || limited)) {
      parts.push(`throttled ${throttled}${typeof held === 'number' ? ` (${(held / 1e6).toFixed(1)} s)` : ''}`);
    }
    line('cpu', parts);
  }
  return entries;
}

/** The directory the cgroup files share, for the heading ("which cgroup is this"). */
function cgroupDir(report: CgroupReport): string | undefined {
  const dirs = [...new Set([...report.limits, ...report.usage, ...report.events].map((v) => v.file.slice(0, v.file.lastIndexOf('/'))))];
  if (dirs.length === 1) return dirs[0];
  // v1: one directory per controller, the same path under each: show the path once, then the controllers
  // (the path first, so a narrow pane cuts the list, not the container's name).
  const tails = [...new Set(dirs.map((d) => d.replace(/^\/sys\/fs\/cgroup\/[^/]+/, '')))];
  return tails.length === 1 && tails[0] ? `${tails[0]} in ${dirs.map((d) => d.split('/')[4]).join(', ')}` : undefined;
}

/** A kernel thread has no command line: the probe shows its name in brackets. */
function userProcesses(snap: ProbeSnapshot): Array<{ pid: number; command: string }> {
  return (snap.processes ?? []).filter((p) => !/^\[.*\]$/.test(p.command));
}

function entriesOf(kind: ProbeKind, snap: ProbeSnapshot, opts: CompareOptions): Entry[] {
  switch (kind) {
    case 'namespaces': {
      const ns = snap.namespaces ?? {};
      const keys = [...NS_ORDER.filter((k) => k in ns), ...Object.keys(ns).filter((k) => !NS_ORDER.includes(k)).sort()];
      return keys.map((k) => ({ key: k, value: String(ns[k]), text: `${k.padEnd(6)} ${ns[k]}` }));
    }
    case 'processes':
      // Kernel threads ([kthreadd], [kworker/0:1]...) fill a host's list and say nothing about containers.
      return userProcesses(snap)
        .sort((a, b) => a.pid - b.pid)
        .map((p) => ({ key: String(p.pid), value: p.command, text: `${String(p.pid).padStart(5)} ${p.command}` }));
    case 'interfaces':
      // "eth0 ↔ veth1a2b3c4@containy0 10.88.0.2/16 UP": the pair's two ends, and where the host end is plugged in.
      return (snap.interfaces ?? []).map((i) => {
        const name = i.peer ? `${i.name} ↔ ${i.peer}` : i.master ? `${i.name}@${i.master}` : i.name;
        const value = [...(i.addresses ?? []), i.state ?? (i.up ? 'UP' : 'down')].join(' ');
        return { key: i.name, value, text: `${name} ${value}` };
      });
    case 'routes':
      return (snap.routes ?? []).map((r) => {
        const text = `${r.destination}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`;
        return { key: r.destination, value: text, text };
      });
    case 'mounts':
      return (snap.mounts ?? []).map((m) => ({ key: m.target, value: `${m.fstype} ${m.source}`, text: `${m.target} ${m.fstype} ${m.source}` }));
    case 'cgroup':
      if (!snap.cgroup) return [];
      return opts.cgroupFiles ? cgroupEntries(snap.cgroup) : cgroupCompact(snap.cgroup);
    case 'caps': {
      // One row per capability in the bounding set, with the sets it is in: e(ffective) p(ermitted) b(ounding).
      const caps = snap.caps;
      if (!caps) return [];
      return caps.bounding.map((name) => {
        const sets = `${caps.effective.includes(name) ? 'e' : '-'}${caps.permitted.includes(name) ? 'p' : '-'}b`;
        return { key: name, value: sets, text: `${sets} ${name.replace(/^CAP_/, '')}` };
      });
    }
    case 'masks': {
      const masks = snap.masks;
      if (!masks) return [];
      return [
        ...masks.masked.map((p) => ({ key: p, value: 'masked', text: `masked    ${p}` })),
        ...masks.readonly.map((p) => ({ key: p, value: 'read-only', text: `read-only ${p}` })),
      ];
    }
    case 'userns':
      return snap.userns ? usernsEntries(snap.userns) : [];
    default:
      return [];
  }
}

function usernsEntries(u: NonNullable<ProbeSnapshot['userns']>): Entry[] {
  const rows: Array<[string, string]> = [
    ...u.uid_map.split('\n').map((l, i): [string, string] => [`uid_map ${i}`, l]),
    ...u.gid_map.split('\n').map((l, i): [string, string] => [`gid_map ${i}`, l]),
    ['setgroups', u.setgroups],
    ['ids on host', `uid ${u.hostUid} gid ${u.hostGid}`],
    ['ids inside', `uid ${u.uid} gid ${u.gid}`],
    ['/ owner on host', u.rootOwnerHost],
    ['/ owner inside', u.rootOwner],
  ];
  return rows.map(([key, value]) => ({ key, value, text: `${key}: ${value}` }));
}

/** The heading row's text for one side, including the single-value probes (hostname, ids). */
function heading(kind: ProbeKind, snap: ProbeSnapshot): { text: string; value: string } {
  switch (kind) {
    case 'hostname':
      return { text: `hostname: ${snap.hostname ?? '?'}`, value: snap.hostname ?? '' };
    case 'ids': {
      const ids = snap.ids;
      const text = ids ? `uid ${ids.uid}  gid ${ids.gid}` : '?';
      return { text: `ids: ${text}`, value: text };
    }
    case 'namespaces':
      return { text: 'namespaces (inode)', value: '' };
    case 'processes': {
      const all = snap.processes?.length;
      const threads = all === undefined ? 0 : all - userProcesses(snap).length;
      // "18 + 62 kernel threads": the kernel threads are counted, not listed.
      return { text: `processes: ${all === undefined ? '?' : all - threads}${threads ? ` + ${threads} kernel threads` : ''}`, value: String(all ?? '') };
    }
    case 'interfaces':
      return { text: `interfaces: ${snap.interfaces?.length ?? '?'}`, value: String(snap.interfaces?.length ?? '') };
    case 'routes':
      return { text: `routes: ${snap.routes?.length ?? '?'}`, value: String(snap.routes?.length ?? '') };
    case 'mounts':
      return { text: `mounts: ${snap.mounts?.length ?? '?'}`, value: String(snap.mounts?.length ?? '') };
    case 'userns':
      return { text: 'user namespace (inside outside count)', value: '' };
    case 'cgroup': {
      if (snap.cgroup === null || snap.cgroup === undefined) return { text: 'cgroup: none of ours', value: 'none' };
      const dir = cgroupDir(snap.cgroup);
      return { text: dir ? `cgroup: ${dir}` : 'cgroup', value: 'some' };
    }
    case 'caps': {
      const c = snap.caps;
      const text = c ? `${c.effective.length} eff, ${c.permitted.length} prm, ${c.bounding.length} bnd` : '?';
      return { text: `caps: ${text}`, value: text };
    }
    case 'seccomp': {
      const s = snap.seccomp;
      const mode = s ? (['off', 'strict', 'filter'][s.mode] ?? String(s.mode)) : '?';
      const text = s && s.filters !== undefined ? `${mode}, ${s.filters} filter${s.filters === 1 ? '' : 's'}` : mode;
      return { text: `seccomp: ${text}`, value: text };
    }
    case 'nnp': {
      const text = snap.nnp === undefined ? '?' : snap.nnp ? '1 (setuid gains nothing)' : '0';
      return { text: `no_new_privs: ${text}`, value: text };
    }
    case 'masks': {
      const m = snap.masks;
      const text = m ? `${m.masked.length} masked, ${m.readonly.length} read-only` : '?';
      return { text: `docker's paths: ${text}`, value: text };
    }
  }
}

function sideRows(kind: ProbeKind, own: ProbeSnapshot, other: ProbeSnapshot | undefined, isContainer: boolean, opts: CompareOptions): PaneRow[] {
  const error = own.errors?.[kind];
  const head = heading(kind, own);
  const otherHead = other && !other.errors?.[kind] ? heading(kind, other) : undefined;
  const headMark: Mark = error ? 'error' : otherHead && otherHead.value !== head.value ? 'differs' : 'same';
  const rows: PaneRow[] = [{ text: error ? `${kind}: ${error}` : head.text, mark: headMark, heading: true }];
  if (error) return rows;
  const otherEntries = other && !other.errors?.[kind] ? new Map(entriesOf(kind, other, opts).map((e) => [e.key, e.value])) : undefined;
  const entries = entriesOf(kind, own, opts);
  // The lesson's own processes first: in a host's hundred, the victim is the step's point.
  const ours = new Set(kind === 'processes' && !isContainer ? (opts.lessonPids ?? []).map(String) : []);
  if (ours.size) entries.sort((a, b) => Number(ours.has(b.key)) - Number(ours.has(a.key)));
  for (const entry of entries) {
    let mark: Mark = ours.has(entry.key) ? 'lesson' : 'same';
    if (otherEntries) {
      const theirs = otherEntries.get(entry.key);
      if (theirs === undefined) {
        if (isContainer) mark = 'only';
      } else if (theirs !== entry.value) mark = 'differs';
    }
    rows.push({ text: entry.text, mark });
  }
  return rows;
}

/** Rows for both panes, one section per probe kind the step asked for, in its order. */
export function compareSnapshots(
  kinds: ProbeKind[], host: ProbeSnapshot | undefined, container: ProbeSnapshot | undefined, opts: CompareOptions = {},
): ProbeSection[] {
  return kinds.map((kind) => ({
    kind,
    host: host ? sideRows(kind, host, container, false, opts) : [{ text: `${kind}: not read yet`, mark: 'same', heading: true }],
    container: container ? sideRows(kind, container, host, true, opts) : [],
  }));
}

/**
 * Fits the sections into `height` rows per pane. Sections start on the same
 * row in both panes so they line up; a section that does not fit shows its
 * first rows and "… N more". Rows are shared out one at a time, so a long
 * list (host processes) cannot push the short ones (hostname) off the pane.
 */
export function layoutSections(sections: ProbeSection[], height: number): { host: PaneRow[]; container: PaneRow[] } {
  const wanted = sections.map((s) => Math.max(s.host.length, s.container.length, 1));
  const given = sections.map(() => 0);
  let left = height;
  // Every heading first, then one more row to each section that wants it, round and round.
  for (let i = 0; i < sections.length && left > 0; i++) {
    given[i] = 1;
    left--;
  }
  let progressed = true;
  while (left > 0 && progressed) {
    progressed = false;
    for (let i = 0; i < sections.length && left > 0; i++) {
      if (given[i] < wanted[i]) {
        given[i]++;
        left--;
        progressed = true;
      }
    }
  }
  const take = (rows: PaneRow[], n: number): PaneRow[] => {
    if (n === 0) return [];
    if (rows.length <= n) return [...rows, ...Array.from({ length: n - rows.length }, () => ({ text: '', mark: 'same' as Mark }))];
    // Cut: the heading, then the rows that differ (they are the lesson), then the first others,
    // all in their own order; a last row counts what is hidden (marked if a difference is among it).
    const room = n - 1;
    const keep = new Set<number>([0]);
    rows.forEach((r, i) => keep.size < room && r.mark !== 'same' && keep.add(i));
    rows.forEach((_, i) => keep.size < room && keep.add(i));
    const hidden = rows.filter((_, i) => !keep.has(i));
    const hiddenMark = hidden.find((r) => r.mark !== 'same')?.mark ?? 'same';
    return [...rows.filter((_, i) => keep.has(i)), { text: `  … ${hidden.length} more`, mark: hiddenMark }];
  };
  const host: PaneRow[] = [];
  const container: PaneRow[] = [];
  sections.forEach((s, i) => {
    host.push(...take(s.host, given[i]));
    container.push(...(s.container.length ? take(s.container, given[i]) : take([], 0)));
    while (container.length < host.length) container.push({ text: '', mark: 'same' });
  });
  return { host, container };
}

/** Rows the panes would like, to fit every section whole. */
export function sectionsHeight(sections: ProbeSection[]): number {
  return sections.reduce((sum, s) => sum + Math.max(s.host.length, s.container.length, 1), 0);
}
