// Where the host's cgroups are: one unified cgroup2 tree (v2), or one v1 tree per
// controller (v1, or "hybrid" when an empty cgroup2 also sits at /sys/fs/cgroup/unified).
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { readMountinfo, type MountInfo } from '../mountinfo.js';
import { DEFAULT_STATE_ROOT, stateRoot } from '../paths.js';
import type { CgroupLayout } from './types.js';

const CGROUP2_MAGIC = 0x63677270;
const TMPFS_MAGIC = 0x01021994;

/** Where cgroupfs is mounted. CONTAINY_CGROUP_ROOT exists for tests that need a tree that is not one. */
export function cgroupRoot(): string {
  return process.env.CONTAINY_CGROUP_ROOT ?? '/sys/fs/cgroup';
}

/** The directory under each hierarchy that holds all our containers' cgroups. */
export function cgroupParentName(): string {
  if (process.env.CONTAINY_CGROUP_PARENT) return process.env.CONTAINY_CGROUP_PARENT;
  // Container names are unique within one state directory (its run records), and
  // cleanup removes the cgroups that no live record claims: a state directory of
  // its own (tests, a second install) gets a parent of its own, so neither can
  // collide with nor sweep away the other's containers.
  const state = stateRoot();
  if (state === DEFAULT_STATE_ROOT) return 'containy-learn';
  return `containy-learn-${createHash('sha256').update(path.resolve(state)).digest('hex').slice(0, 8)}`;
}

export interface CgroupMount {
  mountPoint: string;
  fstype: 'cgroup' | 'cgroup2';
  /** v1: the controllers bound to this hierarchy (e.g. ["cpu", "cpuacct"] when co-mounted). */
  controllers: string[];
}

/** Controller names this kernel has (/proc/cgroups), to tell them from mount options in a v1 mount's options. */
function kernelControllers(): Set<string> {
  const text = fs.existsSync('/proc/cgroups') ? fs.readFileSync('/proc/cgroups', 'utf8') : '';
  return new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t')[0]));
}

/** cgroup mounts among a mount table; `known` tells controller names from other options in a v1 mount's super options. */
export function cgroupMountsIn(mounts: MountInfo[], known: Set<string>): CgroupMount[] {
  return mounts
    .filter((m): m is MountInfo & { fstype: 'cgroup' | 'cgroup2' } => m.fstype === 'cgroup' || m.fstype === 'cgroup2')
    .map((m) => ({
      mountPoint: m.mountPoint,
      fstype: m.fstype,
      controllers: m.fstype === 'cgroup' ? m.superOptions.split(',').filter((o) => known.has(o)) : [],
    }));
}

function cgroupMounts(): CgroupMount[] {
  return cgroupMountsIn(readMountinfo(), kernelControllers());
}

/** v1: controller -> the mount point of its hierarchy under `root` (cpu and cpuacct map to the same one when co-mounted). */
export function hierarchiesOf(mounts: CgroupMount[], root: string): Map<string, string> {
  const byController = new Map<string, string>();
  for (const m of mounts) {
    if (m.fstype !== 'cgroup' || path.dirname(m.mountPoint) !== root) continue;
    for (const c of m.controllers) if (!byController.has(c)) byController.set(c, m.mountPoint);
  }
  return byController;
}

const NOT_MOUNTED = (root: string) =>
  `cgroups are not mounted at ${root}: mount cgroup2 there (mount -t cgroup2 none ${root}) or boot a kernel with cgroups enabled; resource limits need them`;

/** v2 unified, hybrid (v1 controllers + an empty cgroup2 at unified/), or v1. Throws UserError if cgroups are not mounted. */
export function detectLayout(root = cgroupRoot()): CgroupLayout {
  let type: number;
  try {
    type = Number(fs.statfsSync(root).type);
  } catch {
    throw new UserError(NOT_MOUNTED(root));
  }
  if (type === CGROUP2_MAGIC) return 'v2';
  if (type !== TMPFS_MAGIC) throw new UserError(NOT_MOUNTED(root));
  const under = cgroupMounts().filter((m) => path.dirname(m.mountPoint) === root);
  if (!under.some((m) => m.fstype === 'cgroup')) throw new UserError(NOT_MOUNTED(root));
  return under.some((m) => m.fstype === 'cgroup2' && path.basename(m.mountPoint) === 'unified') ? 'hybrid' : 'v1';
}

/** v1: controller -> the mount point of its hierarchy on this host. */
export function v1Hierarchies(root = cgroupRoot()): Map<string, string> {
  return hierarchiesOf(cgroupMounts(), root);
}
