// cgroup v2 (unified): one tree, one dir per container. A controller works in a
// cgroup only when every ancestor lists it in cgroup.subtree_control, and a cgroup
// that enables controllers for its children may hold no processes itself (the
// no-internal-processes rule): our parent dir only ever holds container dirs.
import fs from 'node:fs';
import path from 'node:path';
import { SyscallError, UserError } from '../errors.js';
import { bpfAttachCgroupDevice, bpfLoadCgroupDeviceProgram } from '../libc.js';
import { deviceFilterProgram, encodeProgram } from './device-filter.js';
import type { DeviceRule } from './devices.js';
import { createDirCgroup, type DirCgroup, type Reading, type Setting } from './driver.js';
import { cgroupParentName, cgroupRoot } from './layout.js';
import { blkioWeightToIoWeight, cpuSharesToWeight, DEFAULT_CPU_PERIOD_US } from './limits.js';
import type { CgroupLimits } from './types.js';

/** Enabled whenever the host offers them, so usage can be read even without a limit. */
const ACCOUNTING = ['memory', 'pids', 'cpu'];

export const SWAP_NOT_LIMITED_V2 =
  'swap is not limited: this kernel has no memory.swap.max (swap accounting is off: boot without swapaccount=0), so a memory hog may swap instead of being OOM-killed';

export function v2Settings(limits: CgroupLimits): Setting[] {
  const settings: Setting[] = [];
  if (limits.memory !== undefined) {
    settings.push({ controller: 'memory', limit: 'memory limit', candidates: [{ file: 'memory.max', value: String(limits.memory) }] });
    // memory.swap.max is swap alone (v1's memsw is memory + swap): 0 = a hog is killed, not swapped.
    const swap = limits.memorySwap === -1 ? 'max' : String((limits.memorySwap ?? limits.memory) - limits.memory);
    settings.push({ controller: 'memory', limit: 'swap limit', candidates: [{ file: 'memory.swap.max', value: swap }], missingNote: SWAP_NOT_LIMITED_V2 });
  }
  if (limits.pids !== undefined) settings.push({ controller: 'pids', limit: 'pids limit', candidates: [{ file: 'pids.max', value: String(limits.pids) }] });
  if (limits.cpus !== undefined) {
    const period = limits.cpuPeriodUs ?? DEFAULT_CPU_PERIOD_US;
    settings.push({ controller: 'cpu', limit: 'CPU quota', candidates: [{ file: 'cpu.max', value: `${Math.round(limits.cpus * period)} ${period}` }] });
  }
  const weight = limits.cpuWeight ?? (limits.cpuShares !== undefined ? cpuSharesToWeight(limits.cpuShares) : undefined);
  if (weight !== undefined) settings.push({ controller: 'cpu', limit: 'CPU weight', candidates: [{ file: 'cpu.weight', value: String(weight) }] });
  if (limits.blkioWeight !== undefined || limits.ioWeight !== undefined) {
    // As runc: io.bfq.weight when BFQ is there (its scale, 1..1000, is blkio's), else io.weight (1..10000).
    const bfq = limits.ioWeight !== undefined ? Math.max(1, Math.round(limits.ioWeight / 10)) : limits.blkioWeight!;
    const io = limits.ioWeight ?? blkioWeightToIoWeight(limits.blkioWeight!);
    settings.push({
      controller: 'io',
      limit: 'IO weight',
      candidates: [{ file: 'io.bfq.weight', value: String(bfq) }, { file: 'io.weight', value: String(io) }],
      missingHint: 'IO weights need the BFQ IO scheduler (modprobe bfq) or blk-iocost (CONFIG_BLK_CGROUP_IOCOST)',
    });
  }
  return settings;
}

const READINGS: Reading[] = [
  { id: 'memory.limit', label: 'memory limit', section: 'limits', controller: 'memory', files: ['memory.max'] },
  { id: 'memory.swap', label: 'swap limit', section: 'limits', controller: 'memory', files: ['memory.swap.max'] },
  { id: 'pids.limit', label: 'process limit', section: 'limits', controller: 'pids', files: ['pids.max'] },
  { id: 'cpu.quota', label: 'CPU quota per period (µs)', section: 'limits', controller: 'cpu', files: ['cpu.max'], field: 0 },
  { id: 'cpu.period', label: 'CPU period (µs)', section: 'limits', controller: 'cpu', files: ['cpu.max'], field: 1 },
  { id: 'cpu.weight', label: 'CPU weight', section: 'limits', controller: 'cpu', files: ['cpu.weight'] },
  { id: 'io.weight', label: 'IO weight', section: 'limits', controller: 'io', files: ['io.bfq.weight', 'io.weight'], key: 'default', orWhole: true },
  { id: 'memory.usage', label: 'memory used', section: 'usage', controller: 'memory', files: ['memory.current'] },
  { id: 'memory.peak', label: 'memory peak', section: 'usage', controller: 'memory', files: ['memory.peak'] },
  { id: 'pids.current', label: 'processes', section: 'usage', controller: 'pids', files: ['pids.current'] },
  // cpu.stat exists in every v2 cgroup, with or without the cpu controller.
  { id: 'cpu.usage', label: 'CPU time used (µs)', section: 'usage', controller: 'cgroup', files: ['cpu.stat'], key: 'usage_usec' },
  { id: 'events.oom_kill', label: 'OOM kills', section: 'events', controller: 'memory', files: ['memory.events'], key: 'oom_kill' },
  { id: 'events.memory_max', label: 'times memory hit the limit', section: 'events', controller: 'memory', files: ['memory.events'], key: 'max' },
  { id: 'events.pids_max', label: 'forks refused at the pids limit', section: 'events', controller: 'pids', files: ['pids.events'], key: 'max' },
  { id: 'events.cpu_throttled', label: 'periods throttled', section: 'events', controller: 'cpu', files: ['cpu.stat'], key: 'nr_throttled' },
  { id: 'events.cpu_throttled_usec', label: 'time throttled (µs)', section: 'events', controller: 'cpu', files: ['cpu.stat'], key: 'throttled_usec' },
];

function words(file: string): Set<string> {
  return new Set(fs.readFileSync(file, 'utf8').split(/\s+/).filter(Boolean));
}

/** root, then each dir down to (and including) our parent: the cgroups whose subtree_control must list our controllers. */
function ancestors(root: string, parent: string): string[] {
  const chain = [root];
  for (const part of path.relative(root, parent).split(path.sep)) chain.push(path.join(chain[chain.length - 1], part));
  return chain;
}

function explainEnableFailure(code: string): string {
  if (code === 'EBUSY') return 'that cgroup holds processes, and cgroup v2 lets only a cgroup without processes enable controllers for its children';
  if (code === 'ENOENT') return 'its parent does not enable it';
  return code;
}

export function createV2Cgroup(name: string, limits: CgroupLimits): DirCgroup {
  const root = cgroupRoot();
  const parent = path.join(root, cgroupParentName());
  const available = words(path.join(root, 'cgroup.controllers'));
  const needed = (settings: Setting[]) => new Map(settings.map((s) => [s.controller, s.limit])); // controller -> a limit needing it

  const check = (settings: Setting[]) => {
    for (const [controller, limit] of needed(settings)) {
      if (!available.has(controller)) {
        throw new UserError(`cgroup v2 controller '${controller}' is not available, so the ${limit} cannot be applied: it is not in ${root}/cgroup.controllers (the kernel lacks it, or a cgroup v1 hierarchy holds it); enable it or drop that limit`);
      }
    }
  };

  const enable = (settings: Setting[], forCreate: boolean) => {
    const required = needed(settings);
    const wanted = [...new Set([...(forCreate ? ACCOUNTING.filter((c) => available.has(c)) : []), ...required.keys()])];
    for (const dir of ancestors(root, parent)) {
      const file = path.join(dir, 'cgroup.subtree_control');
      const already = words(file);
      for (const controller of wanted) {
        if (already.has(controller)) continue;
        try {
          fs.writeFileSync(file, `+${controller}`);
        } catch (err) {
          const limit = required.get(controller);
          // A controller only used for accounting is not worth failing the container for.
          if (!limit) continue;
          const code = (err as NodeJS.ErrnoException).code ?? String(err);
          throw new UserError(`cgroup v2 controller '${controller}' is not enabled, so the ${limit} cannot be applied: writing +${controller} to ${file} failed (${explainEnableFailure(code)}); add it to ${file}`);
        }
      }
    }
  };

  const dir = path.join(parent, name);
  const restrictDevices = (rules: readonly DeviceRule[]) => attachDeviceFilter(dir, rules);
  // One dir for everything; 'cgroup' stands for the files every v2 cgroup has (cgroup.procs, cpu.stat).
  const dirs = new Map(['cgroup', 'memory', 'pids', 'cpu', 'io'].map((c) => [c, dir]));
  return createDirCgroup({ layout: 'v2', dirs, parents: [parent], readings: READINGS, settingsFor: v2Settings, check, enable, restrictDevices }, limits);
}

/**
 * cgroup v2 has no devices files: load the rules as a BPF device program and
 * attach it to the container's cgroup, as runc does. The cgroup keeps its
 * reference to the program; rmdir of the cgroup drops it.
 */
function attachDeviceFilter(dir: string, rules: readonly DeviceRule[]): void {
  const progFd = loadedDeviceProgram(encodeProgram(deviceFilterProgram(rules)));
  const cgroupFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    bpfAttachCgroupDevice(cgroupFd, progFd, dir);
  } finally {
    fs.closeSync(cgroupFd);
  }
}

// Loading runs the kernel's verifier, most of the ~3 ms a start paid here for its device
// rules; the same rules are the same program, so each is loaded once per process and its
// fd kept (close-on-exec, as bpf(2) makes them; the kernel frees it with the last user).
const loadedPrograms = new Map<string, number>();

function loadedDeviceProgram(program: Buffer): number {
  const key = program.toString('hex');
  const kept = loadedPrograms.get(key);
  if (kept !== undefined) return kept;
  let progFd: number;
  try {
    // runc licenses its program "Apache"; the kernel only asks whether GPL-only helpers may be called (none are).
    progFd = bpfLoadCgroupDeviceProgram(program, 'Apache');
  } catch (err) {
    if (err instanceof SyscallError) throw new UserError(`the container's devices cannot be limited to runc's on cgroup v2: ${err.message} (a kernel without CONFIG_CGROUP_BPF, or no CAP_BPF/CAP_SYS_ADMIN); run with --privileged to go without device rules`);
    throw err;
  }
  loadedPrograms.set(key, progFd);
  return progFd;
}

export function v2Parents(): string[] {
  return [path.join(cgroupRoot(), cgroupParentName())];
}
