// What the v1 and v2 drivers share: writing limit files, reading values back
// with the file they came from, moving processes in, and killing + removing.
// A driver only says which controller dirs exist and which files mean what.
import fs from 'node:fs';
import path from 'node:path';
import { BugError, UserError } from '../errors.js';
import type { DeviceRule } from './devices.js';
import type { CgroupEvents, CgroupLayout, CgroupLimits, CgroupReport, CgroupValue, ContainerCgroup } from './types.js';

/** One limit to write: the first candidate file that exists in the controller's dir gets its value. */
export interface Setting {
  controller: string;
  candidates: { file: string; value: string }[];
  /** Which limit asked for it, for messages ("--memory"). */
  limit: string;
  /** When no candidate exists: say this (a note) instead of failing. */
  missingNote?: string;
  /** When no candidate exists and there is no note: what would provide the file. */
  missingHint?: string;
}

/** One value to read back. */
export interface Reading {
  id: string;
  label: string;
  section: keyof CgroupReport;
  controller: string;
  /** First existing file wins (blkio.weight, else blkio.bfq.weight). */
  files: string[];
  /** A keyed file ("oom_kill 3"): the line's key. With `orWhole`, a file that is a bare number is taken whole. */
  key?: string;
  orWhole?: boolean;
  /** A file of several words ("20000 100000"): which one. */
  field?: number;
  /** Multiply (1e-3 turns nanoseconds into microseconds). */
  scale?: number;
}

// Values the kernel writes for "no limit": "max", v1's -1 quota, and v1's page-counter maximum (~2^63).
const UNLIMITED_ABOVE = 2 ** 62;

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** Host PIDs listed in a cgroup dir (empty when the dir is gone). */
export function procsIn(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch (err) {
    if (errno(err) === 'ENOENT') return [];
    throw err;
  }
}

const KILL_DEADLINE_MS = 5000;

/** A cgroup dir and every cgroup below it (a process inside may have made its own); nothing if it is gone. */
function subtree(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (errno(err) === 'ENOENT') return [];
    throw err;
  }
  return [dir, ...entries.filter((e) => e.isDirectory()).flatMap((e) => subtree(path.join(dir, e.name)))];
}

/**
 * SIGKILL everything in `tops` and the cgroups below them until they are empty (a
 * process may fork while we kill), then rmdir them deepest first. Missing dirs are
 * skipped, so this is idempotent. Returns the dirs removed.
 */
export function killAndRemove(tops: string[]): string[] {
  const dirs = tops.flatMap(subtree);
  const deadline = Date.now() + KILL_DEADLINE_MS;
  for (;;) {
    const pids = [...new Set(dirs.flatMap(procsIn))].filter((pid) => pid !== process.pid);
    if (pids.length === 0) break;
    if (Date.now() > deadline) throw new BugError(`cgroup ${dirs[0]} still holds processes ${pids.join(', ')} after ${KILL_DEADLINE_MS / 1000} s of SIGKILL`);
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    sleepMs(1); // a killed process leaves the cgroup within about a millisecond
  }
  for (const dir of [...dirs].sort((a, b) => b.split('/').length - a.split('/').length)) {
    for (;;) {
      try {
        fs.rmdirSync(dir);
        break;
      } catch (err) {
        if (errno(err) === 'ENOENT') break;
        // EBUSY for a moment after the last process left, while the kernel finishes its exit.
        if (errno(err) !== 'EBUSY' || Date.now() > deadline) throw new BugError(`cannot remove cgroup ${dir}: ${errno(err)}`);
        sleepMs(1);
      }
    }
  }
  return dirs;
}

/** Remove our parent dir if no container of ours is left in it (another may still be running: then keep it). */
export function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (err) {
    if (!['ENOENT', 'EBUSY', 'ENOTEMPTY'].includes(errno(err))) throw err;
  }
}

function pick(text: string, r: Reading): string | undefined {
  if (r.key !== undefined) {
    const line = text.split('\n').find((l) => l.split(' ')[0] === r.key);
    if (line !== undefined) return line;
    return r.orWhole && /^\S+$/.test(text) ? text : undefined;
  }
  return text;
}

function parseValue(raw: string, r: Reading): number | null {
  const words = raw.split(/\s+/);
  const word = r.key !== undefined && words.length > 1 ? words[1] : words[r.field ?? 0];
  if (word === undefined || word === 'max' || word === '-1') return null;
  const n = Number(word);
  if (!Number.isFinite(n) || n >= UNLIMITED_ABOVE) return null;
  return r.scale ? Math.round(n * r.scale) : n;
}

/** What a driver hands to createDirCgroup: the dirs to make and how to fill them. */
export interface CgroupPlan {
  layout: CgroupLayout;
  /** controller -> the container's dir (v2: every controller maps to the one dir). */
  dirs: Map<string, string>;
  /** Our parent dirs, made first and removed when the last container in them goes. */
  parents: string[];
  readings: Reading[];
  /** The files and values for some limits, in the order they must be written. */
  settingsFor(limits: CgroupLimits): Setting[];
  /** Throws UserError when the host lacks a controller these settings need; touches nothing. */
  check(settings: Setting[]): void;
  /** v2: enable the controllers in the parents' cgroup.subtree_control (the parents exist by then). */
  enable?(settings: Setting[], forCreate: boolean): void;
  /** Allow only these devices in the container's dir (it exists by then). */
  restrictDevices(rules: readonly DeviceRule[]): void;
}

/** A container's cgroup: one dir (v2) or one per controller hierarchy (v1). */
export class DirCgroup implements ContainerCgroup {
  readonly layout: CgroupLayout;
  paths: string[];
  readonly notes: string[] = [];

  constructor(private readonly plan: CgroupPlan) {
    this.layout = plan.layout;
    this.paths = [...new Set(plan.dirs.values())];
  }

  /** Change limits on a live cgroup, as `runc update` does. */
  update(limits: CgroupLimits): void {
    const settings = this.plan.settingsFor(limits);
    this.plan.check(settings);
    this.plan.enable?.(settings, false);
    this.apply(settings);
  }

  /** Write every setting, in order; throws (the caller removes the dirs) when the kernel refuses one. */
  apply(settings: Setting[]): void {
    for (const s of settings) {
      const dir = this.plan.dirs.get(s.controller);
      const found = dir && s.candidates.find((c) => fs.existsSync(path.join(dir, c.file)));
      if (!dir || !found) {
        if (s.missingNote) {
          if (!this.notes.includes(s.missingNote)) this.notes.push(s.missingNote);
          continue;
        }
        const files = s.candidates.map((c) => c.file).join(' or ');
        throw new UserError(`the ${s.limit} cannot be applied: this host has no ${files} in ${dir ?? `a ${s.controller} cgroup`}${s.missingHint ? `; ${s.missingHint}` : ''}`);
      }
      const file = path.join(dir, found.file);
      try {
        fs.writeFileSync(file, found.value);
      } catch (err) {
        throw new BugError(`${s.limit}: the kernel refused '${found.value}' in ${file} (${errno(err)})`);
      }
    }
  }

  rename(name: string): boolean {
    if (this.layout === 'v2') return false; // cgroup2 offers no rename(2)
    const renamed = new Map<string, string>();
    for (const [controller, dir] of this.plan.dirs) {
      const to = path.join(path.dirname(dir), name);
      // Co-mounted controllers share one dir: rename it once.
      if (!renamed.has(dir)) {
        try {
          fs.renameSync(dir, to);
        } catch (err) {
          if (errno(err) === 'EEXIST' || errno(err) === 'ENOTEMPTY') throw nameTaken(to);
          throw err;
        }
        renamed.set(dir, to);
      }
      this.plan.dirs.set(controller, to);
    }
    this.paths = [...new Set(this.plan.dirs.values())];
    return true;
  }

  restrictDevices(rules: readonly DeviceRule[]): void {
    this.plan.restrictDevices(rules);
  }

  join(pid: number): void {
    for (const dir of this.paths) {
      const file = path.join(dir, 'cgroup.procs');
      try {
        fs.writeFileSync(file, String(pid));
      } catch (err) {
        const why = errno(err) === 'ESRCH' ? 'no such process' : errno(err);
        throw new BugError(`cannot move PID ${pid} into ${file}: ${why}`);
      }
    }
  }

  pids(): number[] {
    return [...new Set(this.paths.flatMap(procsIn))].sort((a, b) => a - b);
  }

  read(): CgroupReport {
    const report: CgroupReport = { limits: [], usage: [], events: [] };
    for (const r of this.plan.readings) {
      const dir = this.plan.dirs.get(r.controller);
      if (!dir) continue;
      const file = r.files.map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
      if (!file) continue;
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8').trim();
      } catch {
        continue; // the cgroup went away between exists and read
      }
      const raw = pick(text, r);
      if (raw === undefined) continue;
      const value: CgroupValue = { id: r.id, label: r.label, raw, value: parseValue(raw, r), file };
      report[r.section].push(value);
    }
    return report;
  }

  events(): CgroupEvents {
    const byId = new Map(this.read().events.map((v) => [v.id, v.value ?? 0]));
    return {
      oomKills: byId.get('events.oom_kill') ?? 0,
      pidsLimitHits: byId.get('events.pids_max') ?? 0,
      throttledPeriods: byId.get('events.cpu_throttled') ?? 0,
      throttledUsec: byId.get('events.cpu_throttled_usec') ?? 0,
    };
  }

  destroy(): void {
    killAndRemove(this.paths);
    for (const parent of this.plan.parents) removeIfEmpty(parent);
  }
}

/** createCgroup with a name already in use. */
export function nameTaken(dir: string): UserError {
  return new UserError(`a cgroup named '${path.basename(dir)}' already exists (${dir}): is a container of that name still running? 'containy-learn cleanup' removes leftovers`);
}

/**
 * Make the dirs and write the limits before any process joins. On any failure,
 * remove what was made: a container never starts half-limited.
 */
export function createDirCgroup(plan: CgroupPlan, limits: CgroupLimits): DirCgroup {
  const settings = plan.settingsFor(limits);
  plan.check(settings);
  const leaves = [...new Set(plan.dirs.values())];
  // Another container's destroy() may remove an empty parent between our mkdirs: start over then.
  for (let attempt = 1; ; attempt++) {
    const made: string[] = [];
    try {
      for (const parent of plan.parents) fs.mkdirSync(parent, { recursive: true });
      plan.enable?.(settings, true);
      for (const dir of leaves) {
        try {
          fs.mkdirSync(dir);
        } catch (err) {
          if (errno(err) === 'EEXIST') throw nameTaken(dir);
          throw err;
        }
        made.push(dir);
      }
      const cgroup = new DirCgroup(plan);
      cgroup.apply(settings);
      return cgroup;
    } catch (err) {
      killAndRemove(made);
      for (const parent of plan.parents) removeIfEmpty(parent);
      if (errno(err) === 'ENOENT' && attempt < 3) continue;
      throw err;
    }
  }
}
