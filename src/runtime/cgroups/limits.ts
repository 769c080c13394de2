// User input -> CgroupLimits, and the words printed after a limit ended a command.
// Two shapes: limits in docker's units (the CLI's --memory 512m, or the same values
// under other names via parseLimits) and containy's configy.json `isolation.cgroups`
// entries, which name cgroup v2 files (memory.max). All are checked here, once, so
// the drivers only ever see valid numbers.
import os from 'node:os';
import { UserError } from '../errors.js';
import type { CgroupEvents, CgroupLimits } from './types.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
// As docker's RAMInBytes: "512m", "512M", "1.5g", "100k", "512MiB", "512 MB"; binary units.
const SIZE = /^(\d+(?:\.\d+)?) ?([bkmgtp]?)(i?b?)$/i;

/** Bytes from a docker-style size: "512M", "1g", "536870912", "100k". Throws UserError naming `field`. */
export function parseSize(text: string, field = 'size'): number {
  const m = SIZE.exec(text.trim());
  // "bib" or "ib" without a unit letter is not a size.
  if (!m || (m[2] === '' && m[3] !== '') || (m[2].toLowerCase() === 'b' && m[3] !== '')) {
    throw new UserError(`${field}: '${text}' is not a size; use a number with an optional unit b, k, m, g, t (binary: 1k = 1024), e.g. 512m or 1g`);
  }
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
  if (!Number.isSafeInteger(bytes)) throw new UserError(`${field}: '${text}' is too large`);
  return bytes;
}

/** "512 MiB", "1 GiB", "1.5 GiB", "100 KiB", "1000 bytes": for messages. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number.isInteger(v) ? v : v.toFixed(2).replace(/\.?0+$/, '')} ${units[i]}`;
}

// Ranges, as docker and the kernel accept them.
export const RANGES = {
  /** docker refuses less than 6 MiB: the container could not even start. */
  memoryMin: 6 * 1024 * 1024,
  /** PID_MAX_LIMIT on 64-bit. */
  pids: [1, 4194304],
  cpuShares: [2, 262144],
  blkioWeight: [10, 1000],
  /** cgroup v2 cpu.weight and io.weight. */
  weight: [1, 10000],
  /** The kernel refuses a CFS quota under 1 ms; periods are 1 ms .. 1 s. */
  cpuQuotaMinUs: 1000,
  cpuPeriodUs: [1000, 1000000],
} as const;

export const DEFAULT_CPU_PERIOD_US = 100000;

function parseInteger(text: string, field: string, [min, max]: readonly [number, number]): number {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UserError(`${field}: '${text}' is not valid; use a whole number from ${min} to ${max}`);
  }
  return n;
}

function parseCpus(text: string, field: string, max: number | null): number {
  const t = text.trim();
  const n = /^\d+(\.\d+)?$|^\.\d+$/.test(t) ? Number(t) : NaN;
  const range = max === null ? 'at least 0.01' : `from 0.01 to ${max} (this machine has ${max} CPU${max === 1 ? '' : 's'})`;
  if (!(n >= 0.01) || (max !== null && n > max)) throw new UserError(`${field}: '${text}' is not valid; use a number of CPUs ${range}, e.g. 0.5`);
  return n;
}

/** Limits as a person writes them (docker's units), before they are checked: "512m", "-1", "0.5". */
export interface LimitText {
  memory?: string;
  memorySwap?: string;
  pids?: string;
  cpus?: string;
  cpuShares?: string;
  blkioWeight?: string;
}

/** What the person typed each limit as, so a message names it: the CLI's flags, or another caller's keys. */
export interface LimitNames {
  memory: string;
  memorySwap: string;
  pids: string;
  cpus: string;
  cpuShares: string;
  blkioWeight: string;
  /** How memory and swap are given together, for "needs memory too". */
  swapExample: string;
}

export const FLAG_NAMES: LimitNames = {
  memory: '--memory', memorySwap: '--memory-swap', pids: '--pids-limit', cpus: '--cpus', cpuShares: '--cpu-shares', blkioWeight: '--blkio-weight',
  swapExample: '--memory 512m --memory-swap 1g',
};

/**
 * Checks limits in docker's units against docker's and the kernel's ranges and
 * turns them into CgroupLimits. Throws UserError naming the limit as `names` call
 * it and the valid range. `cpusMax`: the most CPUs allowed (default this machine's,
 * as docker checks --cpus; null for no upper bound, to check a limit meant for
 * another machine).
 */
export function parseLimits(text: LimitText, names: LimitNames = FLAG_NAMES, cpusMax: number | null = os.availableParallelism()): CgroupLimits {
  const limits: CgroupLimits = {};
  if (text.memory !== undefined) {
    limits.memory = parseSize(text.memory, names.memory);
    if (limits.memory < RANGES.memoryMin) {
      throw new UserError(`${names.memory}: '${text.memory}' is too small; the minimum is 6m (6 MiB)`);
    }
  }
  if (text.memorySwap !== undefined) {
    if (limits.memory === undefined) throw new UserError(`${names.memorySwap}: needs ${names.memory} too (it is memory plus swap), e.g. ${names.swapExample}`);
    if (text.memorySwap.trim() === '-1') limits.memorySwap = -1;
    else {
      limits.memorySwap = parseSize(text.memorySwap, names.memorySwap);
      if (limits.memorySwap < limits.memory) {
        throw new UserError(`${names.memorySwap}: '${text.memorySwap}' is smaller than ${names.memory} (${formatBytes(limits.memory)}); it is memory plus swap, so use at least the ${names.memory} value, or -1 for unlimited swap`);
      }
    }
  }
  if (text.pids !== undefined) limits.pids = parseInteger(text.pids, names.pids, RANGES.pids);
  if (text.cpus !== undefined) limits.cpus = parseCpus(text.cpus, names.cpus, cpusMax);
  if (text.cpuShares !== undefined) limits.cpuShares = parseInteger(text.cpuShares, names.cpuShares, RANGES.cpuShares);
  if (text.blkioWeight !== undefined) limits.blkioWeight = parseInteger(text.blkioWeight, names.blkioWeight, RANGES.blkioWeight);
  return limits;
}

/** The CLI's limit flags, as typed by the user (docker's names). */
export interface LimitFlags {
  memory?: string;
  memorySwap?: string;
  pidsLimit?: string;
  cpus?: string;
  cpuShares?: string;
  blkioWeight?: string;
}

/** Checks docker-style flags and turns them into limits. Throws UserError naming the flag and the valid range. */
export function parseLimitFlags(flags: LimitFlags): CgroupLimits {
  const { pidsLimit, ...rest } = flags;
  return parseLimits({ ...rest, pids: pidsLimit });
}

// ---- configy.json -----------------------------------------------------------

/** The cgroup v2 files configy.json may name, and the controller (configy's "type") each belongs to. */
export const CONFIGY_RESOURCES: Record<string, string> = {
  'memory.max': 'memory',
  'memory.swap.max': 'memory',
  'pids.max': 'pids',
  'cpu.max': 'cpu',
  'cpu.weight': 'cpu',
  'io.weight': 'io',
};
const EXAMPLE_ENTRY = '{"type": "memory", "resource": "memory.max", "value": "512M"}';

/** One configy entry in either shape: {type, resource, value} (containy's Go struct) or the older {type, "<resource>": value}. */
function readEntry(entry: unknown, at: string): { type: string; resource: string; value: string; valueField: string } {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new UserError(`${at}: expected an object like ${EXAMPLE_ENTRY}`);
  }
  const e = entry as Record<string, unknown>;
  if (typeof e.type !== 'string') throw new UserError(`${at}.type: missing; use the controller name, e.g. ${EXAMPLE_ENTRY}`);
  const asText = (v: unknown, field: string): string => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    throw new UserError(`${at}.${field}: expected a string such as "512M" or "max"`);
  };
  if ('resource' in e || 'value' in e) {
    if (typeof e.resource !== 'string') throw new UserError(`${at}.resource: missing; use one of ${Object.keys(CONFIGY_RESOURCES).join(', ')}`);
    if (!('value' in e)) throw new UserError(`${at}.value: missing; e.g. ${EXAMPLE_ENTRY}`);
    return { type: e.type, resource: e.resource, value: asText(e.value, 'value'), valueField: 'value' };
  }
  const keys = Object.keys(e).filter((k) => k !== 'type');
  if (keys.length !== 1) throw new UserError(`${at}: expected "resource" and "value", e.g. ${EXAMPLE_ENTRY}`);
  return { type: e.type, resource: keys[0], value: asText(e[keys[0]], keys[0]), valueField: keys[0] };
}

/** The smallest shares whose runc conversion gives back exactly `weight`. */
export function cpuWeightToShares(weight: number): number {
  return 2 + Math.ceil(((weight - 1) * 262142) / 9999);
}

/** cpu.shares (2..262144) -> cpu.weight (1..10000), as runc converts. */
export function cpuSharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) -> io.weight (1..10000), as runc converts. */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** io.weight (1..10000) -> the nearest blkio.weight (10..1000) for a v1 host. */
export function ioWeightToBlkioWeight(weight: number): number {
  return Math.min(1000, Math.max(10, 10 + Math.round(((weight - 1) * 990) / 9999)));
}

/** configy.json `isolation.cgroups` -> limits. Errors name the entry index and field. */
export function limitsFromConfigy(entries: unknown[], where = 'isolation.cgroups'): CgroupLimits {
  if (!Array.isArray(entries)) throw new UserError(`${where}: expected a list of entries like ${EXAMPLE_ENTRY}`);
  const limits: CgroupLimits = {};
  let swapOnly: number | undefined; // memory.swap.max is swap alone; CgroupLimits wants memory + swap
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const at = `${where}[${i}]`;
    const { type, resource, value, valueField } = readEntry(entry, at);
    const controller = CONFIGY_RESOURCES[resource];
    const field = valueField === 'value' ? `${at}.value` : `${at}.${resource}`;
    if (!controller) {
      throw new UserError(`${at}.${valueField === 'value' ? 'resource' : resource}: unknown resource '${resource}'; use one of ${Object.keys(CONFIGY_RESOURCES).join(', ')}`);
    }
    if (type !== controller) throw new UserError(`${at}.type: '${type}' does not match resource '${resource}'; use "${controller}"`);
    if (seen.has(resource)) throw new UserError(`${at}.resource: '${resource}' is already set by ${where}[${seen.get(resource)}]`);
    seen.set(resource, i);
    const v = value.trim();
    switch (resource) {
      case 'memory.max':
        if (v !== 'max') {
          limits.memory = parseSize(v, field);
          if (limits.memory < RANGES.memoryMin) throw new UserError(`${field}: '${value}' is too small; the minimum is 6M (6 MiB)`);
        }
        break;
      case 'memory.swap.max':
        swapOnly = v === 'max' ? -1 : parseSize(v, field);
        break;
      case 'pids.max':
        if (v !== 'max') limits.pids = parseInteger(v, field, RANGES.pids);
        break;
      case 'cpu.max': {
        const m = /^(max|\d+)(?:\s+(\d+))?$/.exec(v);
        if (!m) throw new UserError(`${field}: '${value}' is not valid; use "QUOTA PERIOD" in microseconds (e.g. "20000 100000" for 0.2 CPUs) or "max"`);
        const period = m[2] === undefined ? DEFAULT_CPU_PERIOD_US : parseInteger(m[2], `${field} (period)`, RANGES.cpuPeriodUs);
        if (m[1] !== 'max') {
          const quota = Number(m[1]);
          if (quota < RANGES.cpuQuotaMinUs) throw new UserError(`${field}: quota ${quota} is too small; use at least ${RANGES.cpuQuotaMinUs} microseconds`);
          limits.cpus = quota / period;
          if (period !== DEFAULT_CPU_PERIOD_US) limits.cpuPeriodUs = period;
        }
        break;
      }
      case 'cpu.weight':
        limits.cpuWeight = parseInteger(v, field, RANGES.weight);
        break;
      case 'io.weight':
        limits.ioWeight = parseInteger(v, field, RANGES.weight);
        break;
    }
  });
  if (swapOnly !== undefined) {
    const at = `${where}[${seen.get('memory.swap.max')}]`;
    if (limits.memory === undefined) throw new UserError(`${at}.resource: memory.swap.max needs a memory.max entry too`);
    limits.memorySwap = swapOnly === -1 ? -1 : limits.memory + swapOnly;
  }
  return limits;
}

// ---- after the command -------------------------------------------------------

function times(n: number): string {
  return n === 1 ? 'once' : `${n} times`;
}

/** The lines to print after the command exited, saying which limit ended or hampered it (as runc's users see). */
export function describeLimitEnd(events: CgroupEvents, limits: CgroupLimits, exitStatus: number): string[] {
  const lines: string[] = [];
  const killed = exitStatus === 128 + 9;
  if (events.oomKills > 0) {
    const limit = limits.memory === undefined ? 'no memory limit was set: the host ran out of memory' : `memory limit ${formatBytes(limits.memory)}`;
    const who = killed ? 'the container was OOM-killed' : `a process in the container was OOM-killed${events.oomKills > 1 ? ` ${times(events.oomKills)}` : ''}`;
    lines.push(`${who} (${limit})`);
  }
  if (events.pidsLimitHits > 0) {
    const limit = limits.pids === undefined ? 'a pids limit was reached' : `pids limit ${limits.pids} reached`;
    lines.push(`fork refused ${times(events.pidsLimitHits)}: ${limit}`);
  }
  if (events.throttledPeriods > 0 && limits.cpus !== undefined) {
    const held = events.throttledUsec ? `, held back ${(events.throttledUsec / 1e6).toFixed(1)} s in all` : '';
    lines.push(`CPU throttled in ${events.throttledPeriods} period${events.throttledPeriods === 1 ? '' : 's'} (limit ${limits.cpus} CPUs${held})`);
  }
  return lines;
}
