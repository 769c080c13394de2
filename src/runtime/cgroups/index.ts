// PLACEHOLDER until the cgroups issue lands: creates, joins and removes a
// container's cgroup with no limits. The cgroups helper replaces this file,
// keeping these exports.
import fs from 'node:fs';
import path from 'node:path';
import type { CgroupLimits, ContainerCgroup, CgroupLayout } from './types.js';

export * from './types.js';

const ROOT = '/sys/fs/cgroup';
const CGROUP2_MAGIC = 0x63677270;

/** The directory under each hierarchy that holds all our containers' cgroups. */
export function cgroupParentName(): string {
  return process.env.CONTAINY_CGROUP_PARENT ?? 'containy-learn';
}

export function detectLayout(): CgroupLayout {
  if (fs.statfsSync(ROOT).type === CGROUP2_MAGIC) return 'v2';
  return fs.existsSync(path.join(ROOT, 'unified')) ? 'hybrid' : 'v1';
}

export function createCgroup(name: string, _limits: CgroupLimits): ContainerCgroup {
  const layout = detectLayout();
  const dirs = layout === 'v2' ? [path.join(ROOT, cgroupParentName(), name)] : ['pids', 'memory', 'cpu'].map((c) => path.join(ROOT, c, cgroupParentName(), name));
  for (const d of dirs) fs.mkdirSync(d, { recursive: true });
  const procs = (d: string) => fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  return {
    layout,
    paths: dirs,
    join(pid) {
      for (const d of dirs) fs.writeFileSync(path.join(d, 'cgroup.procs'), String(pid));
    },
    pids: () => procs(dirs[0]),
    read: () => ({ limits: [], usage: [], events: [] }),
    events: () => ({ oomKills: 0, pidsLimitHits: 0, throttledPeriods: 0 }),
    destroy() {
      for (const d of dirs) {
        if (!fs.existsSync(d)) continue;
        for (const pid of procs(d)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        for (let i = 0; i < 100; i++) {
          try { fs.rmdirSync(d); break; } catch { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); }
        }
      }
    },
  };
}

/** Remove cgroups of ours whose container is not in `live`. Returns the paths removed. */
export function sweepCgroups(live: Set<string>): string[] {
  void live;
  return [];
}
