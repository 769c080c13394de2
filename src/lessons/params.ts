// The parameters of lesson actions: what each may hold, checked when a lesson
// loads so that a mistake is an error naming the step, not a failure when it
// runs. Imports none of the runtime's launcher, so loading lessons (the menu)
// stays light; limits are checked by the runtime's own parser.
import path from 'node:path';
import { parseLimits, type LimitNames, type LimitText } from '../runtime/cgroups/limits.js';
import type { CgroupLimits } from '../runtime/cgroups/types.js';
import { CONTAINER_NAME_MAX, containerNameProblem } from '../runtime/container-name.js';
import { NAMESPACES, type NamespaceName } from '../runtime/namespaces.js';

/** Checks one parameter's value; returns what is wrong with it, or undefined. */
export type Validator = (value: unknown) => string | undefined;

export interface ParamSpec {
  describe: string;
  required?: boolean;
  validate: Validator;
  /** What the action uses when the parameter is absent (a work-directory path: jail), for the steps' dependencies. */
  default?: string;
}

/** The lesson's own container is the handle named "container". */
export const MAIN = 'container';
/** Reserved words that cannot be handle names. */
const RESERVED = new Set(['host', 'container', 'layers', 'workdir', 'output', 'stdout', 'stderr', 'exit', 'error', 'limits', 'files', 'whiteouts', 'running']);
/** A lesson's named container is called lesson<id>-<name>: the runtime's limit less "lesson", up to 8 digits and the dash. */
const LESSON_NAME_MAX = CONTAINER_NAME_MAX - 15;

export const text = (example: string): Validator => (v) => (typeof v === 'string' && v.length > 0 ? undefined : `must be text, e.g. ${example}`);

export const bool: Validator = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');

export const command: Validator = (v) => {
  if (typeof v === 'string') return v.trim() ? undefined : 'must not be empty';
  if (Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string') && v[0]) return undefined;
  return 'must be a shell command as text (run with sh -c), e.g. hostname, or a list like ["sleep", "infinity"]';
};

/** A path inside the lesson's work directory: relative, never climbing out with `..`. */
export const workdirPath: Validator = (v) => {
  if (typeof v !== 'string' || !v) return 'must be a path relative to the lesson\'s work directory, e.g. jail';
  if (v.startsWith('${')) return undefined; // a variable such as ${layers.upper}, checked where variables are
  if (path.isAbsolute(v)) return `must be relative to the lesson's work directory, not absolute (${v}); use \${workdir}/... or a path like jail`;
  if (path.normalize(v).split(path.sep)[0] === '..') return `must stay inside the lesson's work directory (${v} climbs out with ..)`;
  return undefined;
};

export const wholeNumber: Validator = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? undefined : 'must be a whole number, 1 or more');

const namespaces: Validator = (v) => {
  const list = Array.isArray(v) ? v : undefined;
  const bad = list?.filter((n) => !NAMESPACES.includes(n as NamespaceName));
  if (!list || bad!.length) {
    return `must be a list of namespaces from ${NAMESPACES.join(', ')}${bad?.length ? ` (unknown: ${bad.join(', ')})` : ''}, e.g. [uts, pid, mnt]`;
  }
  return undefined;
};

const rootfs: Validator = (v) => {
  if (v === 'base' || v === 'host') return undefined;
  const problem = workdirPath(v);
  return problem && `must be base (the workshop's rootfs), host (keep the host's files) or a directory in the lesson's work directory: ${problem}`;
};

/** A handle also names its container (lesson2-victim): the same length limit as `name`. */
export const handleName: Validator = (v) => {
  if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v) || v.length > LESSON_NAME_MAX) {
    return `must be a word (letters, digits, _; at most ${LESSON_NAME_MAX}), e.g. victim`;
  }
  if (RESERVED.has(v) && v !== MAIN) return `${v} is a reserved word; pick another name, e.g. victim`;
  return undefined;
};

const containerName: Validator = (v) => {
  const problem = containerNameProblem(typeof v === 'string' ? v : '', LESSON_NAME_MAX);
  return problem && `must be a container name: ${problem}, e.g. web`;
};

const stringMap: Validator = (v) =>
  v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string') ? undefined : 'must be a map of text values, e.g. {GREETING: hello}';

const absolutePaths: Validator = (v) =>
  Array.isArray(v) && v.every((p) => typeof p === 'string' && p.startsWith('/')) ? undefined : 'must be a list of absolute paths in the container, e.g. [/tmp]';

// ---- limits ----

/** A lesson's limit keys, the cgroup controller each needs (for "cannot run here"), and their names in messages. */
const LIMIT_CONTROLLERS: Record<keyof LimitText, string> = {
  memory: 'memory', memorySwap: 'memory', pids: 'pids', cpus: 'cpu', cpuShares: 'cpu', blkioWeight: 'io',
};
const LESSON_LIMIT_NAMES: LimitNames = {
  memory: 'memory', memorySwap: 'memorySwap', pids: 'pids', cpus: 'cpus', cpuShares: 'cpuShares', blkioWeight: 'blkioWeight',
  swapExample: '{memory: 512M, memorySwap: 1G}',
};
const LIMITS_EXAMPLE = '{memory: 512M, pids: 10, cpus: 0.1}';

/**
 * The lesson's limits ({memory: 512M, pids: 10, cpus: 0.1}) as the runtime's
 * CgroupLimits, checked by the runtime's parser, the one `run --memory` uses.
 * `cpusMax` null when loading (the lesson may run on a larger machine); the
 * machine's CPUs when the step runs. Throws with the problem.
 */
export function toCgroupLimits(v: unknown, cpusMax?: number | null): CgroupLimits {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`must be a map such as ${LIMITS_EXAMPLE}`);
  const given: LimitText = {};
  for (const [key, value] of Object.entries(v)) {
    if (!(key in LIMIT_CONTROLLERS)) throw new Error(`has no limit ${key}; use ${Object.keys(LIMIT_CONTROLLERS).join(', ')}`);
    // {pids: 10} reads as a number, {memory: 512M} as text: the parser reads both as written.
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`${key} must be a number or text such as ${LIMITS_EXAMPLE}, not ${JSON.stringify(value)}`);
    given[key as keyof LimitText] = String(value);
  }
  return parseLimits(given, LESSON_LIMIT_NAMES, cpusMax);
}

/** The cgroup controllers a step's limits use. */
export function limitControllers(limits: unknown): string[] {
  const keys = limits && typeof limits === 'object' ? Object.keys(limits) : [];
  return [...new Set(keys.map((k) => LIMIT_CONTROLLERS[k as keyof LimitText]).filter((c): c is string => !!c))];
}

const limits: Validator = (v) => {
  try {
    toCgroupLimits(v, null);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

// ---- shared by several actions ----

export const CONTAINER_PARAMS: Record<string, ParamSpec> = {
  namespaces: { describe: 'namespaces to create (default all six)', validate: namespaces },
  hostname: { describe: 'hostname inside (needs uts)', validate: text('box') },
  rootfs: { describe: 'base (default), host, or a directory in the lesson\'s work directory', validate: rootfs },
  overlay: { describe: 'an overlay over the rootfs (default true)', validate: bool },
  pivot: { describe: 'pivot_root (default true) or chroot (false)', validate: bool },
  bindRootFirst: { describe: 'bind the new root onto itself before pivot_root (default true; false shows EINVAL)', validate: bool },
  specialFilesystems: { describe: 'mount /proc, /sys, /dev inside (default true with mnt)', validate: bool },
  limits: { describe: `cgroup limits, e.g. ${LIMITS_EXAMPLE}`, validate: limits },
  env: { describe: 'extra environment variables', validate: stringMap },
  cwd: { describe: 'working directory inside', validate: text('/tmp') },
  tmpfs: { describe: 'tmpfs mounts inside, e.g. [/tmp]', validate: absolutePaths },
  name: { describe: 'a named container keeps its changes across runs (as containy does)', validate: containerName },
};

export const IN_PARAM: ParamSpec = { describe: 'which container (default: the lesson\'s), a name given with as:', validate: handleName };

/** A step's command: text runs with `sh -c`, a list is the argv itself. */
export function argvOf(cmd: unknown): string[] {
  return typeof cmd === 'string' ? ['sh', '-c', cmd] : (cmd as string[]);
}
