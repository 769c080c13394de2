// Container cgroups on cgroup v1 (one tree per controller) and v2 (one unified tree),
// behind one interface. Every container's cgroup is <hierarchy>/<cgroupParentName()>/<name>.
//
// How the launcher uses it: createCgroup(name, limits) before the command starts
// (limits are written before any process joins), join(stagePid) before the stage
// execs, read() for live panes, events() + describeLimitEnd() after the command
// exits, destroy() at the end; sweepCgroups(live) in `containy-learn cleanup`.
import fs from 'node:fs';
import path from 'node:path';
import { containerNameProblem } from '../container-name.js';
import { UserError } from '../errors.js';
import { killAndRemove, removeIfEmpty } from './driver.js';
import { detectLayout } from './layout.js';
import type { CgroupLimits, ContainerCgroup } from './types.js';
import { createV1Cgroup, v1Parents } from './v1.js';
import { createV2Cgroup, v2Parents } from './v2.js';

export * from './types.js';
export { cgroupParentName, cgroupRoot, detectLayout } from './layout.js';
export {
  describeLimitEnd, formatBytes, limitsFromConfigy, parseLimitFlags, parseLimits, parseSize, FLAG_NAMES,
  type LimitFlags, type LimitNames, type LimitText,
} from './limits.js';

/** Make a container's cgroup with its limits applied; nothing joins it yet. Throws UserError for what the host cannot do. */
export function createCgroup(name: string, limits: CgroupLimits): ContainerCgroup {
  // A cgroup name is one path component: the container's name, or a warm stage's before it has one.
  const problem = containerNameProblem(name);
  if (problem) throw new UserError(`container name '${name}' cannot name a cgroup: ${problem}`);
  const layout = detectLayout();
  return layout === 'v2' ? createV2Cgroup(name, limits) : createV1Cgroup(layout, name, limits);
}

/** Kill what is inside these cgroup dirs (a dead run's, from its record) and remove them. Idempotent. */
export function removeCgroupDirs(dirs: string[]): string[] {
  return killAndRemove(dirs);
}

/** Our parent dirs on this host: one per v1 hierarchy we use, or the one v2 dir. Empty if cgroups are not mounted. */
function parentDirs(): string[] {
  let layout;
  try {
    layout = detectLayout();
  } catch (err) {
    if (err instanceof UserError) return [];
    throw err;
  }
  return layout === 'v2' ? v2Parents() : v1Parents();
}

/**
 * Remove our container cgroups whose name is not in `live` (left by a container whose
 * runtime was killed), killing any process still in them, and our parent dirs once empty.
 * Returns the dirs removed.
 */
export function sweepCgroups(live: Set<string>): string[] {
  const parents = parentDirs();
  const byName = new Map<string, string[]>();
  for (const parent of parents) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(parent, { withFileTypes: true });
    } catch {
      continue; // no parent dir in this hierarchy: nothing of ours
    }
    for (const e of entries) {
      if (!e.isDirectory() || live.has(e.name)) continue;
      byName.set(e.name, [...(byName.get(e.name) ?? []), path.join(parent, e.name)]);
    }
  }
  const removed: string[] = [];
  for (const dirs of byName.values()) removed.push(...killAndRemove(dirs));
  for (const parent of parents) {
    if (!fs.existsSync(parent)) continue;
    removeIfEmpty(parent);
    if (!fs.existsSync(parent)) removed.push(parent);
  }
  return removed;
}
