// The parameters of lesson actions: what each may hold, checked when a lesson
// loads so that a mistake is an error naming the step, not a failure when it
// runs. Imports none of the runtime's launcher, so loading lessons (the menu)
// stays light; limits are checked by the runtime's own parser.
import path from 'node:path';
import { parseLimits, type LimitNames, type LimitText } from '../runtime/cgroups/limits.js';
import type { CgroupLimits } from '../runtime/cgroups/types.js';
import { CONTAINER_NAME_MAX, containerNameProblem } from '../runtime/container-name.js';
import { NAMESPACES, type NamespaceName } from '../runtime/namespaces.js';
import { parseCapabilityName } from '../runtime/security/capabilities.js';
import { parsePublish } from '../runtime/net/publish.js';
import { parseMapFlag, parseUserFlag, validateUserns, type UsernsSpec } from '../runtime/userns/idmap.js';

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
const RESERVED = new Set(['host', 'container', 'layers', 'workdir', 'output', 'stdout', 'stderr', 'exit', 'error', 'limits', 'security', 'files', 'whiteouts', 'running']);
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

/** docker's --network, as the runtime takes it; container:NAME is the CLI's (a lesson's names are its own). */
const NETWORK_MODES = ['none', 'bridge', 'host'];
/** A validator from a parser that throws: its message is the problem. */
const problemOf = (parse: () => unknown): string | undefined => {
  try {
    parse();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

const network: Validator = (v) => (NETWORK_MODES.includes(v as string) ? undefined : `must be one of ${NETWORK_MODES.join(', ')}, e.g. bridge`);

/** -p values, checked by the runtime's own parser (the one `run -p` uses). */
const publish: Validator = (v) => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return 'must be a list of HOSTPORT:CONTAINERPORT, e.g. ["48080:8000"]';
  return problemOf(() => v.forEach((x) => parsePublish(x as string)));
};

/** HOST:PORT for a TCP connect, e.g. ${web.address}:8000 or 127.0.0.1:48080. */
export const hostPort: Validator = (v) =>
  typeof v === 'string' && /^(\$\{[\w.-]+\}|[\d.]+):\d+$/.test(v) ? undefined : 'must be ADDRESS:PORT, e.g. ${web.address}:8000 or 127.0.0.1:48080';

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

const limits: Validator = (v) => problemOf(() => toCgroupLimits(v, null));

// ---- user namespaces ----

/**
 * A step's `uidmap` ("0:100000:65536", or a list of them, for uids and gids
 * alike) and `user` ("1000" or "1000:1000") as the runtime's user-namespace
 * spec, checked by the runtime's rules (idmap.ts), the ones `run --uidmap` uses.
 * Throws with the problem.
 */
export function toUserns(uidmap: unknown, user: unknown): UsernsSpec {
  const list = typeof uidmap === 'string' ? [uidmap] : uidmap;
  if (!Array.isArray(list) || !list.length || !list.every((m) => typeof m === 'string')) throw new Error('must be CONTAINER:HOST:SIZE, or a list of them, e.g. "0:100000:65536"');
  const maps = list.map((m) => parseMapFlag('uidmap', m));
  const ids = user === undefined ? { uid: 0, gid: 0 } : toUser(user);
  const spec = { uidMappings: maps, gidMappings: maps, user: ids };
  validateUserns(spec, { uidMappings: 'uidmap', gidMappings: 'uidmap', user: 'user' });
  return spec;
}

/** A step's `user`, "UID[:GID]" (gid 0 when not given, as docker without a passwd entry). */
export function toUser(v: unknown): { uid: number; gid: number } {
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error('must be UID or UID:GID, e.g. "1000"');
  const ids = parseUserFlag(String(v));
  return { uid: ids.uid, gid: ids.gid ?? 0 };
}

// ---- security ----

/** What a step may loosen or tighten: docker's flags, in a lesson's words. */
export interface StepSecurity {
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** 'unconfined', 'default', or a docker profile in the work directory. */
  seccomp?: string;
  /** 'unconfined': none of docker's masked and read-only paths (docker's systempaths=unconfined). */
  systemPaths?: string;
  noNewPrivileges?: boolean;
  readOnly?: boolean;
}

const SECURITY_EXAMPLE = '{capAdd: [SYS_ADMIN]}, {privileged: true} or {seccomp: unconfined}';
const SECURITY_KEYS: Record<keyof StepSecurity, Validator> = {
  privileged: bool,
  noNewPrivileges: bool,
  readOnly: bool,
  systemPaths: (v) => (v === 'unconfined' ? undefined : 'must be unconfined (no masked or read-only paths), or left out'),
  capAdd: (v) => capabilityList(v, 'capAdd'),
  capDrop: (v) => capabilityList(v, 'capDrop'),
  seccomp: (v) => (v === 'unconfined' || v === 'default' ? undefined : workdirPath(v) && 'must be unconfined, default, or a docker seccomp profile (JSON) in the work directory'),
};

function capabilityList(v: unknown, key: string): string | undefined {
  if (!Array.isArray(v) || !v.every((c) => typeof c === 'string')) return 'must be a list of capabilities, e.g. [SYS_ADMIN, NET_ADMIN] or [ALL]';
  try {
    for (const c of v) parseCapabilityName(c, key);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Docker's defaults unless the step asks, visibly, for more or less. */
const security: Validator = (v) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return `must be a map such as ${SECURITY_EXAMPLE}`;
  for (const [key, value] of Object.entries(v)) {
    const check = SECURITY_KEYS[key as keyof StepSecurity];
    if (!check) return `has no key ${key}; use ${Object.keys(SECURITY_KEYS).join(', ')}`;
    const problem = check(value);
    // The capability parser names its key itself ("capAdd: unknown capability ...").
    if (problem) return problem.startsWith(`${key}:`) ? problem : `${key} ${problem}`;
  }
  return undefined;
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
  uidmap: { describe: 'a user namespace: CONTAINER:HOST:SIZE (or a list), for uids and gids, e.g. "0:100000:65536"', validate: (v) => problemOf(() => toUserns(v, undefined)) },
  user: { describe: 'the command runs as UID[:GID] inside, e.g. "1000"', validate: (v) => problemOf(() => toUser(v)) },
  image: { describe: 'an image of the store (load-image) whose layers, stacked, are the root', validate: text('two:latest') },
  security: { describe: `more or less than docker's defaults, e.g. ${SECURITY_EXAMPLE}`, validate: security },
  network: { describe: 'none (default: an empty netns), bridge (eth0 on containy0), host (no netns)', validate: network },
  publish: { describe: 'ports published on the host, e.g. ["48080:8000"] (needs network: bridge)', validate: publish },
};

export const IN_PARAM: ParamSpec = { describe: 'which container (default: the lesson\'s), a name given with as:', validate: handleName };

/** A step's command: text runs with `sh -c`, a list is the argv itself. */
export function argvOf(cmd: unknown): string[] {
  return typeof cmd === 'string' ? ['sh', '-c', cmd] : (cmd as string[]);
}
