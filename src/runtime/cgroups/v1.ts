// cgroup v1 (and hybrid): one tree per controller, so a container gets one dir in
// each: memory/<parent>/<name>, pids/<parent>/<name>, cpu/... When cpu and cpuacct
// are co-mounted (/sys/fs/cgroup/cpu,cpuacct) they share one dir.
import fs from 'node:fs';
import path from 'node:path';
import { BugError, UserError } from '../errors.js';
import { createDirCgroup, type Reading, type Setting, type DirCgroup } from './driver.js';
import { deviceRuleLine, type DeviceRule } from './devices.js';
import { cgroupParentName, v1Hierarchies } from './layout.js';
import { cpuWeightToShares, DEFAULT_CPU_PERIOD_US, ioWeightToBlkioWeight } from './limits.js';
import type { CgroupLayout, CgroupLimits } from './types.js';

/** Controllers a container joins: those its limits need, those that account its usage, and devices (runc's device rules). */
const CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'blkio', 'devices'];

export const SWAP_NOT_LIMITED_V1 =
  'swap is not limited: this kernel has no memory.memsw.limit_in_bytes (boot with swapaccount=1), so a memory hog may swap instead of being OOM-killed';

export const IO_WEIGHT_HINT = 'IO weights need the BFQ IO scheduler (modprobe bfq)';

export function v1Settings(limits: CgroupLimits): Setting[] {
  const settings: Setting[] = [];
  if (limits.memory !== undefined) {
    // memsw is memory + swap, and the kernel refuses it below the memory limit (and the memory
    // limit above it). Lifting memsw first, then memory, then memsw makes any change valid,
    // also on a live cgroup (update()). memsw equal to memory means no swap: a hog is killed.
    const memsw = (value: string): Setting => ({
      controller: 'memory', limit: 'swap limit', candidates: [{ file: 'memory.memsw.limit_in_bytes', value }], missingNote: SWAP_NOT_LIMITED_V1,
    });
    settings.push(memsw('-1'));
    settings.push({ controller: 'memory', limit: 'memory limit', candidates: [{ file: 'memory.limit_in_bytes', value: String(limits.memory) }] });
    if (limits.memorySwap !== -1) settings.push(memsw(String(limits.memorySwap ?? limits.memory)));
  }
  if (limits.pids !== undefined) settings.push({ controller: 'pids', limit: 'pids limit', candidates: [{ file: 'pids.max', value: String(limits.pids) }] });
  if (limits.cpus !== undefined) {
    const period = limits.cpuPeriodUs ?? DEFAULT_CPU_PERIOD_US;
    settings.push({ controller: 'cpu', limit: 'CPU quota', candidates: [{ file: 'cpu.cfs_period_us', value: String(period) }] });
    settings.push({ controller: 'cpu', limit: 'CPU quota', candidates: [{ file: 'cpu.cfs_quota_us', value: String(Math.round(limits.cpus * period)) }] });
  }
  const shares = limits.cpuWeight !== undefined ? cpuWeightToShares(limits.cpuWeight) : limits.cpuShares;
  if (shares !== undefined) settings.push({ controller: 'cpu', limit: 'CPU shares', candidates: [{ file: 'cpu.shares', value: String(shares) }] });
  const blkio = limits.ioWeight !== undefined ? ioWeightToBlkioWeight(limits.ioWeight) : limits.blkioWeight;
  if (blkio !== undefined) {
    // CFQ had blkio.weight; with BFQ (the only weighted scheduler left) the file is blkio.bfq.weight, same scale.
    settings.push({ controller: 'blkio', limit: 'IO weight', candidates: [{ file: 'blkio.weight', value: String(blkio) }, { file: 'blkio.bfq.weight', value: String(blkio) }], missingHint: IO_WEIGHT_HINT });
  }
  return settings;
}

const READINGS: Reading[] = [
  { id: 'memory.limit', label: 'memory limit', section: 'limits', controller: 'memory', files: ['memory.limit_in_bytes'] },
  { id: 'memory.swap', label: 'memory+swap limit', section: 'limits', controller: 'memory', files: ['memory.memsw.limit_in_bytes'] },
  { id: 'pids.limit', label: 'process limit', section: 'limits', controller: 'pids', files: ['pids.max'] },
  { id: 'cpu.quota', label: 'CPU quota per period (µs)', section: 'limits', controller: 'cpu', files: ['cpu.cfs_quota_us'] },
  { id: 'cpu.period', label: 'CPU period (µs)', section: 'limits', controller: 'cpu', files: ['cpu.cfs_period_us'] },
  { id: 'cpu.weight', label: 'CPU shares', section: 'limits', controller: 'cpu', files: ['cpu.shares'] },
  { id: 'io.weight', label: 'IO weight', section: 'limits', controller: 'blkio', files: ['blkio.weight', 'blkio.bfq.weight'] },
  { id: 'memory.usage', label: 'memory used', section: 'usage', controller: 'memory', files: ['memory.usage_in_bytes'] },
  { id: 'memory.peak', label: 'memory peak', section: 'usage', controller: 'memory', files: ['memory.max_usage_in_bytes'] },
  { id: 'pids.current', label: 'processes', section: 'usage', controller: 'pids', files: ['pids.current'] },
  { id: 'cpu.usage', label: 'CPU time used (µs)', section: 'usage', controller: 'cpuacct', files: ['cpuacct.usage'], scale: 1e-3 },
  { id: 'events.oom_kill', label: 'OOM kills', section: 'events', controller: 'memory', files: ['memory.oom_control'], key: 'oom_kill' },
  { id: 'events.memory_max', label: 'times memory hit the limit', section: 'events', controller: 'memory', files: ['memory.failcnt'] },
  { id: 'events.pids_max', label: 'forks refused at the pids limit', section: 'events', controller: 'pids', files: ['pids.events'], key: 'max' },
  { id: 'events.cpu_throttled', label: 'periods throttled', section: 'events', controller: 'cpu', files: ['cpu.stat'], key: 'nr_throttled' },
  { id: 'events.cpu_throttled_usec', label: 'time throttled (µs)', section: 'events', controller: 'cpu', files: ['cpu.stat'], key: 'throttled_time', scale: 1e-3 },
];

export function createV1Cgroup(layout: CgroupLayout, name: string, limits: CgroupLimits): DirCgroup {
  const hierarchies = v1Hierarchies();
  const dirs = new Map<string, string>();
  const parents = new Set<string>();
  for (const controller of CONTROLLERS) {
    const mountPoint = hierarchies.get(controller);
    if (!mountPoint) continue;
    const parent = path.join(mountPoint, cgroupParentName());
    parents.add(parent);
    dirs.set(controller, path.join(parent, name));
  }
  const check = (settings: Setting[]) => {
    for (const s of settings) {
      if (!dirs.has(s.controller)) {
        throw new UserError(`cgroup v1 controller '${s.controller}' is not mounted, so the ${s.limit} cannot be applied: mount it (mount -t cgroup -o ${s.controller} cgroup /sys/fs/cgroup/${s.controller}) or drop that limit`);
      }
    }
  };
  const restrictDevices = (rules: readonly DeviceRule[]) => {
    const dir = dirs.get('devices');
    if (!dir) throw new UserError("cgroup v1 controller 'devices' is not mounted, so the container's devices cannot be limited to runc's: mount it (mount -t cgroup -o devices cgroup /sys/fs/cgroup/devices) or run with --privileged");
    // A new cgroup starts as "a *:* rwm" (its parent's rules): deny all, then allow line by line, as runc does.
    const write = (file: string, line: string) => {
      try {
        fs.writeFileSync(path.join(dir, file), line);
      } catch (err) {
        throw new BugError(`the kernel refused '${line}' in ${path.join(dir, file)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    };
    write('devices.deny', 'a');
    for (const rule of rules) write('devices.allow', deviceRuleLine(rule));
  };
  if (dirs.size === 0) throw new UserError(`none of the cgroup v1 controllers ${CONTROLLERS.join(', ')} is mounted: mount at least memory and pids under /sys/fs/cgroup`);
  return createDirCgroup({ layout, dirs, parents: [...parents], readings: READINGS, settingsFor: v1Settings, check, restrictDevices }, limits);
}

/** Our parent dir in each hierarchy we use (they may not exist). */
export function v1Parents(): string[] {
  const hierarchies = v1Hierarchies();
  const mountPoints = CONTROLLERS.map((c) => hierarchies.get(c)).filter((m): m is string => m !== undefined);
  return [...new Set(mountPoints)].map((m) => path.join(m, cgroupParentName()));
}
