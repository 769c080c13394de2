// The actions a lesson step can run, each a named runtime operation with
// checked parameters. This is the only TypeScript a lesson author may need to
// touch: a new kind of step is a new entry in ACTIONS. Every action goes
// through the runtime (src/runtime); none spawns a host tool or calls libc.
import fs from 'node:fs';
import path from 'node:path';
import { NAMESPACES, describeError, type Container, type ContainerSpec, type CgroupLimits, type CgroupValue, type NamespaceName, type RunResult } from '../runtime/index.js';
import { parseSize, formatBytes } from '../runtime/cgroups/limits.js';
import type { RuntimeLike } from './runtime-like.js';
import type { Lesson, Need, Step } from './types.js';

/** Checks one parameter's value; returns what is wrong with it, or undefined. */
type Validator = (value: unknown) => string | undefined;

export interface ParamSpec {
  describe: string;
  required?: boolean;
  validate: Validator;
}

/** A container or host process a step started, kept for later steps (`${victim.pid}`, `exec in: second`). */
export interface Handle {
  kind: 'container' | 'host-process';
  container: Container;
  /** What it printed so far (the tail, when it prints a lot). */
  output: () => string;
}

/** What the engine gives an action to work with. */
export interface ActionContext {
  readonly runtime: RuntimeLike;
  readonly lesson: Lesson;
  readonly step: Step;
  /** The lesson's work directory on the host, created on first use. */
  workdir(): string;
  handle(name: string): Handle | undefined;
  /** Remember a started container/process under `name`, and collect its output. Replaces nothing: stop first. */
  keep(name: string, kind: Handle['kind'], container: Container): Handle;
  /** A container name of this lesson: lesson2 (no suffix), lesson2-victim, lesson4-web. */
  containerName(suffix?: string): string;
  /** A named container's stored changes must go when the lesson is reset. */
  rememberStored(name: string): void;
  /** A check reads `output` or `exit` of a start: wait a little for a short command to finish. */
  readonly wantsOutput: boolean;
}

export interface ActionOutcome {
  /** The action's own report; default: stdout then stderr. */
  output?: string;
  stdout?: string;
  stderr?: string;
  exit?: number;
  error?: string;
  limitMessages?: string[];
  files?: string[];
  whiteouts?: string[];
  /** The handle whose container the panes show after this step (default: the lesson's container). */
  focus?: string;
}

export interface ActionDef {
  name: string;
  /** One line for authors (lessons/FORMAT.md lists them). */
  summary: string;
  params: Record<string, ParamSpec>;
  /** Problems between parameters (one makes another meaningless). */
  crossCheck?(params: Record<string, unknown>): string | undefined;
  /** Machine features this action needs, from its parameters. */
  needs(params: Record<string, unknown>): Need[];
  /** cgroup controllers it uses (for the "cannot run here" message). */
  controllers?(params: Record<string, unknown>): string[];
  /** The handle name this step defines with `as:`, usable by later steps. */
  defines?(params: Record<string, unknown>): string | undefined;
  /** The handle it acts on (exec/stop/cgroup-files `in:`), for "run step N first" messages. */
  uses?(params: Record<string, unknown>): string | undefined;
  run(ctx: ActionContext, params: Record<string, unknown>): Promise<ActionOutcome>;
}

/** PID 1 without a SIGTERM handler ignores it: a short grace before SIGKILL keeps steps quick. */
export const STOP_GRACE_MS = 300;
/** How long a `start` waits for a short command's output when a check reads it. */
const START_OUTPUT_WAIT_MS = 1000;
/** Reserved words that cannot be handle names. */
const RESERVED = new Set(['host', 'container', 'layers', 'workdir', 'output', 'stdout', 'stderr', 'exit', 'error', 'limits', 'files', 'whiteouts', 'running']);
const MAIN = 'container';

// ---- validators ----

const text = (example: string): Validator => (v) => (typeof v === 'string' && v.length > 0 ? undefined : `must be text, e.g. ${example}`);

const bool: Validator = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');

const command: Validator = (v) => {
  if (typeof v === 'string') return v.trim() ? undefined : 'must not be empty';
  if (Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string') && v[0]) return undefined;
  return 'must be a shell command as text (run with sh -c), e.g. hostname, or a list like ["sleep", "infinity"]';
};

/** A path inside the lesson's work directory: relative, never climbing out with `..`. */
const workdirPath: Validator = (v) => {
  if (typeof v !== 'string' || !v) return 'must be a path relative to the lesson\'s work directory, e.g. jail';
  if (v.startsWith('${')) return undefined; // a variable such as ${layers.upper}, checked where variables are
  if (path.isAbsolute(v)) return `must be relative to the lesson's work directory, not absolute (${v}); use \${workdir}/... or a path like jail`;
  if (path.normalize(v).split(path.sep)[0] === '..') return `must stay inside the lesson's work directory (${v} climbs out with ..)`;
  return undefined;
};

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

const handleName: Validator = (v) => {
  if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) return 'must be a word (letters, digits, _), e.g. victim';
  if (RESERVED.has(v) && v !== MAIN) return `${v} is a reserved word; pick another name, e.g. victim`;
  return undefined;
};

const containerName: Validator = (v) =>
  typeof v === 'string' && /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,47}$/.test(v) ? undefined : 'must be a container name: letters, digits, _ . -, at most 48, e.g. web';

const stringMap: Validator = (v) =>
  v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string') ? undefined : 'must be a map of text values, e.g. {GREETING: hello}';

const absolutePaths: Validator = (v) =>
  Array.isArray(v) && v.every((p) => typeof p === 'string' && p.startsWith('/')) ? undefined : 'must be a list of absolute paths in the container, e.g. [/tmp]';

const LIMIT_KEYS: Record<string, { controller: string; describe: string }> = {
  memory: { controller: 'memory', describe: 'a size such as 512M' },
  memorySwap: { controller: 'memory', describe: 'a size such as 1G, or -1 for unlimited swap' },
  pids: { controller: 'pids', describe: 'a number of processes such as 10' },
  cpus: { controller: 'cpu', describe: 'a number of CPUs such as 0.1' },
  cpuShares: { controller: 'cpu', describe: 'a weight from 2 to 262144' },
  blkioWeight: { controller: 'io', describe: 'a weight from 10 to 1000' },
};

/** The lesson's limits ({memory: 512M, pids: 10, cpus: 0.1}) as the runtime's CgroupLimits. Throws with the problem. */
export function toCgroupLimits(v: unknown): CgroupLimits {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('must be a map such as {memory: 512M, pids: 10, cpus: 0.1}');
  const limits: CgroupLimits = {};
  for (const [key, value] of Object.entries(v)) {
    const spec = LIMIT_KEYS[key];
    if (!spec) throw new Error(`has no limit ${key}; use ${Object.keys(LIMIT_KEYS).join(', ')}`);
    const bad = () => new Error(`${key} must be ${spec.describe}, not ${JSON.stringify(value)}`);
    const size = (): number => {
      if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
      if (typeof value !== 'string') throw bad();
      try {
        return parseSize(value, key);
      } catch {
        throw bad();
      }
    };
    const integer = (min: number, max: number): number => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw bad();
      return value;
    };
    switch (key) {
      case 'memory':
        limits.memory = size();
        if (limits.memory < 6 * 1024 * 1024) throw new Error(`memory ${formatBytes(limits.memory)} is below the 6M a container needs to start`);
        break;
      case 'memorySwap':
        limits.memorySwap = value === -1 ? -1 : size();
        break;
      case 'pids':
        limits.pids = integer(1, 4194304);
        break;
      case 'cpus':
        if (typeof value !== 'number' || !(value >= 0.01)) throw bad();
        limits.cpus = value;
        break;
      case 'cpuShares':
        limits.cpuShares = integer(2, 262144);
        break;
      case 'blkioWeight':
        limits.blkioWeight = integer(10, 1000);
        break;
    }
  }
  if (limits.memorySwap !== undefined && limits.memory === undefined) throw new Error('memorySwap needs memory too (it is memory plus swap)');
  return limits;
}

const limits: Validator = (v) => {
  try {
    toCgroupLimits(v);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

// ---- shared pieces ----

export function argvOf(cmd: unknown): string[] {
  return typeof cmd === 'string' ? ['sh', '-c', cmd] : (cmd as string[]);
}

const CONTAINER_PARAMS: Record<string, ParamSpec> = {
  namespaces: { describe: 'namespaces to create (default all six)', validate: namespaces },
  hostname: { describe: 'hostname inside (needs uts)', validate: text('box') },
  rootfs: { describe: 'base (default), host, or a directory in the lesson\'s work directory', validate: rootfs },
  overlay: { describe: 'an overlay over the rootfs (default true)', validate: bool },
  pivot: { describe: 'pivot_root (default true) or chroot (false)', validate: bool },
  bindRootFirst: { describe: 'bind the new root onto itself before pivot_root (default true; false shows EINVAL)', validate: bool },
  specialFilesystems: { describe: 'mount /proc, /sys, /dev inside (default true with mnt)', validate: bool },
  limits: { describe: 'cgroup limits, e.g. {memory: 512M, pids: 10, cpus: 0.1}', validate: limits },
  env: { describe: 'extra environment variables', validate: stringMap },
  cwd: { describe: 'working directory inside', validate: text('/tmp') },
  tmpfs: { describe: 'tmpfs mounts inside, e.g. [/tmp]', validate: absolutePaths },
  name: { describe: 'a named container keeps its changes across runs (as containy does)', validate: containerName },
};

function containerCrossCheck(p: Record<string, unknown>): string | undefined {
  if (p.rootfs === 'host') {
    const extra = ['overlay', 'pivot', 'bindRootFirst'].filter((k) => p[k] !== undefined && p[k] !== false);
    if (extra.length) return `rootfs: host keeps the host's files, so ${extra.join(' and ')} cannot apply: remove ${extra.length > 1 ? 'them' : 'it'}`;
  }
  if (p.hostname !== undefined && Array.isArray(p.namespaces) && !p.namespaces.includes('uts')) {
    return 'hostname needs the uts namespace (without it the host\'s hostname would change): add uts to namespaces';
  }
  return undefined;
}

function containerNeeds(p: Record<string, unknown>): Need[] {
  const needs: Need[] = ['root'];
  if (p.rootfs !== 'host' && p.overlay !== false) needs.push('overlay');
  if (p.limits !== undefined) needs.push('cgroups');
  return needs;
}

function limitControllers(p: Record<string, unknown>): string[] {
  const l = p.limits && typeof p.limits === 'object' ? Object.keys(p.limits) : [];
  return [...new Set(l.map((k) => LIMIT_KEYS[k]?.controller).filter((c): c is string => !!c))];
}

/** The runtime's ContainerSpec for a start/run step. */
function containerSpec(ctx: ActionContext, p: Record<string, unknown>, argv: string[]): ContainerSpec {
  const spec: ContainerSpec = { argv, stdio: 'pipe' };
  if (p.namespaces !== undefined) spec.namespaces = p.namespaces as NamespaceName[];
  if (p.hostname !== undefined) spec.hostname = p.hostname as string;
  if (p.rootfs === 'host') spec.rootfs = null;
  else if (p.rootfs !== undefined && p.rootfs !== 'base') spec.rootfs = inWorkdir(ctx, p.rootfs as string);
  for (const key of ['overlay', 'pivot', 'bindRootFirst', 'specialFilesystems'] as const) {
    if (p[key] !== undefined) spec[key] = p[key] as boolean;
  }
  if (p.limits !== undefined) spec.limits = toCgroupLimits(p.limits);
  if (p.env !== undefined) spec.env = p.env as Record<string, string>;
  if (p.cwd !== undefined) spec.cwd = p.cwd as string;
  if (p.tmpfs !== undefined) spec.tmpfs = p.tmpfs as string[];
  return spec;
}

/** A path given relative to the work directory (or absolute, once ${...} was filled in). */
function inWorkdir(ctx: ActionContext, p: string): string {
  return path.isAbsolute(p) ? p : path.join(ctx.workdir(), p);
}

/** A refused command keeps its status too, as docker reports it: 127 not found, 126 cannot execute, 125 the runtime refused. */
function fromRun(r: RunResult): ActionOutcome {
  return { stdout: r.stdout, stderr: r.stderr, exit: r.status, error: r.error, limitMessages: r.limitMessages };
}

function notRunning(ctx: ActionContext, handle: string): ActionOutcome {
  const starter = ctx.lesson.steps.find((s) => s.index < ctx.step.index && (ACTIONS[s.action.name]?.defines?.(s.action.params) ?? undefined) === handle);
  const which = handle === MAIN ? 'the lesson\'s container' : handle;
  const hint = starter ? `: run step ${starter.index + 1} ("${starter.title}") first` : '';
  return { error: `${which} is not running${hint}` };
}

function runningContainer(ctx: ActionContext, handle: string): Container | undefined {
  const h = ctx.handle(handle);
  return h?.kind === 'container' && h.container.running ? h.container : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const inParam: ParamSpec = { describe: 'which container (default: the lesson\'s), a name given with as:', validate: handleName };

// ---- the actions ----

const start: ActionDef = {
  name: 'start',
  summary: 'start (or replace) the lesson\'s long-lived container; a refusal is the step\'s error',
  params: {
    ...CONTAINER_PARAMS,
    command: { describe: 'what it runs (default: sleep infinity)', validate: command },
    as: { describe: 'keep it under this name beside the lesson\'s container (default: the lesson\'s container)', validate: handleName },
  },
  crossCheck: containerCrossCheck,
  needs: containerNeeds,
  controllers: limitControllers,
  defines: (p) => (p.as as string | undefined) ?? MAIN,
  async run(ctx, p) {
    const handle = (p.as as string | undefined) ?? MAIN;
    const previous = ctx.handle(handle);
    if (previous?.container.running) await previous.container.stop(STOP_GRACE_MS);
    const spec = containerSpec(ctx, p, p.command === undefined ? ['sleep', 'infinity'] : argvOf(p.command));
    spec.name = ctx.containerName((p.name as string | undefined) ?? (handle === MAIN ? undefined : handle));
    if (p.name !== undefined) ctx.rememberStored(spec.name);
    else spec.remove = true;
    let container: Container;
    try {
      container = await ctx.runtime.startContainer(spec);
    } catch (err) {
      return { error: describeError(err), focus: handle };
    }
    const kept = ctx.keep(handle, 'container', container);
    const outcome: ActionOutcome = { focus: handle };
    if (ctx.wantsOutput) {
      const exit = await Promise.race([container.exited, sleep(START_OUTPUT_WAIT_MS).then(() => undefined)]);
      if (exit) {
        outcome.exit = exit.status;
        outcome.limitMessages = exit.limitMessages;
      }
    }
    outcome.output = kept.output();
    return outcome;
  },
};

const exec: ActionDef = {
  name: 'exec',
  summary: 'run a command inside the running container, joining its namespaces (as nsenter does) and its cgroup (as runc exec does)',
  params: {
    command: { describe: 'the command (text runs with sh -c)', required: true, validate: command },
    in: inParam,
    env: CONTAINER_PARAMS.env,
    cwd: CONTAINER_PARAMS.cwd,
  },
  needs: () => ['root'],
  uses: (p) => (p.in as string | undefined) ?? MAIN,
  async run(ctx, p) {
    const handle = (p.in as string | undefined) ?? MAIN;
    const container = runningContainer(ctx, handle);
    if (!container) return notRunning(ctx, handle);
    const opts: { env?: Record<string, string>; cwd?: string } = {};
    if (p.env !== undefined) opts.env = p.env as Record<string, string>;
    if (p.cwd !== undefined) opts.cwd = p.cwd as string;
    try {
      return { ...fromRun(await container.run(argvOf(p.command), opts)), focus: handle };
    } catch (err) {
      return { error: describeError(err), focus: handle };
    }
  },
};

const run: ActionDef = {
  name: 'run',
  summary: 'a one-shot container: start, wait for the command, collect its output, exit status and limit messages',
  params: { ...CONTAINER_PARAMS, command: { describe: 'the command (text runs with sh -c)', required: true, validate: command } },
  crossCheck: containerCrossCheck,
  needs: containerNeeds,
  controllers: limitControllers,
  async run(ctx, p) {
    const spec = containerSpec(ctx, p, argvOf(p.command));
    if (p.name !== undefined) {
      spec.name = ctx.containerName(p.name as string);
      ctx.rememberStored(spec.name);
    }
    try {
      return fromRun(await ctx.runtime.runOnce(spec));
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

const stop: ActionDef = {
  name: 'stop',
  summary: 'stop the container (SIGTERM, then SIGKILL), removing its cgroup and, unless named, its changes',
  params: { in: inParam },
  needs: () => ['root'],
  uses: (p) => (p.in as string | undefined) ?? MAIN,
  async run(ctx, p) {
    const handle = (p.in as string | undefined) ?? MAIN;
    const h = ctx.handle(handle);
    if (!h) return notRunning(ctx, handle);
    const wasRunning = h.container.running;
    const exit = await h.container.stop(STOP_GRACE_MS);
    const how = exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.status}`;
    return {
      output: wasRunning ? `stopped ${h.container.name} (${how})\n` : `${h.container.name} had already ended (${how})\n`,
      exit: exit.status,
      limitMessages: exit.limitMessages,
      focus: handle,
    };
  },
};

const copyBinary: ActionDef = {
  name: 'copy-binary',
  summary: 'copy a host program (and with libraries: true, every library ldd names) into a directory of the work directory',
  params: {
    binary: { describe: 'a path such as /bin/sh or a command name on the host', required: true, validate: text('/bin/sh') },
    into: { describe: 'the directory in the work directory (default jail)', validate: workdirPath },
    libraries: { describe: 'copy its ldd libraries too (default true)', validate: bool },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    const into = (p.into as string | undefined) ?? 'jail';
    const withLibraries = (p.libraries as boolean | undefined) ?? true;
    try {
      const report = await ctx.runtime.copyWithLibraries(p.binary as string, inWorkdir(ctx, into), { withLibraries });
      const lines = [`${report.program} -> ${into}${report.program}`];
      if (report.libraries.length === 0) lines.push('it needs no shared libraries (a static program)');
      else {
        lines.push(`it needs (ldd ${report.program}):`);
        for (const lib of report.libraries) lines.push(`  ${lib}${withLibraries ? '' : '   (not copied)'}`);
      }
      lines.push(`copied: ${report.copied.length ? report.copied.join(' ') : 'nothing new (already there)'}`);
      return { output: lines.join('\n') + '\n', files: report.copied };
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

const chroot: ActionDef = {
  name: 'chroot',
  summary: 'run a command chrooted into a directory of the work directory: no namespaces, no overlay, as chroot(1) does',
  params: {
    root: { describe: 'the directory in the work directory (default jail)', validate: workdirPath },
    command: { describe: 'the command (text runs with sh -c)', required: true, validate: command },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    const root = inWorkdir(ctx, (p.root as string | undefined) ?? 'jail');
    try {
      return fromRun(await ctx.runtime.runOnce({ argv: argvOf(p.command), rootfs: root, overlay: false, pivot: false, namespaces: [], stdio: 'pipe' }));
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

const hostProcess: ActionDef = {
  name: 'host-process',
  summary: 'start a process on the host (no namespaces, no new root), known to later steps as ${<as>.pid}; killed on reset',
  params: {
    command: { describe: 'what it runs, e.g. ["sleep", "1000"]', required: true, validate: command },
    as: { describe: 'its name for later steps, e.g. victim', required: true, validate: handleName },
  },
  needs: () => ['root'],
  defines: (p) => p.as as string,
  async run(ctx, p) {
    const handle = p.as as string;
    const previous = ctx.handle(handle);
    if (previous?.container.running) await previous.container.stop(STOP_GRACE_MS);
    try {
      const container = await ctx.runtime.startContainer({
        argv: argvOf(p.command), rootfs: null, namespaces: [], stdio: 'pipe', name: ctx.containerName(handle), remove: true,
      });
      ctx.keep(handle, 'host-process', container);
      return { output: `started ${argvOf(p.command).join(' ')} on the host as ${handle}: PID ${container.pid}\n` };
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

const writeFile: ActionDef = {
  name: 'write-file',
  summary: 'write a file in the work directory (a secret above the jail, for the chroot escape)',
  params: {
    path: { describe: 'the file, relative to the work directory', required: true, validate: workdirPath },
    content: { describe: 'what to write', required: true, validate: (v) => (typeof v === 'string' ? undefined : 'must be text') },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    const file = inWorkdir(ctx, p.path as string);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, p.content as string);
    return { output: `wrote ${Buffer.byteLength(p.content as string)} bytes to ${p.path as string}\n`, files: [p.path as string] };
  },
};

const inspect: ActionDef = {
  name: 'inspect',
  summary: 'list a directory on the host, recursively: types, sizes, and overlay whiteouts (0/0 character devices)',
  params: {
    path: { describe: 'a directory: ${layers.upper}, ${workdir}/jail, or relative to the work directory', required: true, validate: workdirPath },
    depth: { describe: 'how many levels down (default 8)', validate: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? undefined : 'must be a whole number, 1 or more') },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    const dir = inWorkdir(ctx, p.path as string);
    try {
      return listDirectory(dir, (p.depth as number | undefined) ?? 8);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { error: `nothing at ${dir}: it does not exist (an unnamed container's layers are removed when it stops)` };
      return { error: describeError(err) };
    }
  },
};

const cgroupFiles: ActionDef = {
  name: 'cgroup-files',
  summary: 'show the container\'s cgroup files: each limit, usage and event counter with the file it is read from',
  params: { in: inParam },
  needs: () => ['root', 'cgroups'],
  uses: (p) => (p.in as string | undefined) ?? MAIN,
  async run(ctx, p) {
    const handle = (p.in as string | undefined) ?? MAIN;
    const container = runningContainer(ctx, handle);
    if (!container) return notRunning(ctx, handle);
    if (!container.cgroup) return { error: `${container.name} has no cgroup`, focus: handle };
    try {
      const report = container.cgroup.read();
      const lines: string[] = [`cgroup of ${container.name} (${container.cgroup.layout}): ${container.cgroup.paths.join(' ')}`];
      for (const [section, values] of [['limits', report.limits], ['usage', report.usage], ['events', report.events]] as const) {
        if (!values.length) continue;
        lines.push(`${section}:`);
        for (const v of values) lines.push(`  ${cgroupValueLine(v)}`);
      }
      return { output: lines.join('\n') + '\n', files: [...report.limits, ...report.usage, ...report.events].map((v) => v.file), focus: handle };
    } catch (err) {
      return { error: describeError(err), focus: handle };
    }
  },
};

const TIME_UNITS = ['ns', 'µs', 'ms', 's'];

/**
 * One cgroup value as cgroup-files shows it: the number in the label's unit, then
 * the file and, where it differs, the file's own text in the file's own unit.
 * v1's cpuacct.usage and throttled_time count nanoseconds while the label (the same
 * on v1 and v2) says µs: the reading scaled them, so the raw text must not sit next
 * to "µs" unexplained.
 */
export function cgroupValueLine(v: CgroupValue): string {
  // null is "no limit" (max, v1's -1 or its ~2^63 page-counter maximum): say so, with what the file says.
  if (v.value === null) return `${v.label}: no limit   (${v.file}: "${v.raw}")`;
  const shown = String(v.value);
  const words = v.raw.split(/\s+/);
  if (words.includes(shown)) {
    return v.raw === shown ? `${v.label}: ${shown}   (${v.file})` : `${v.label}: ${shown}   (${v.file}: "${v.raw}")`;
  }
  // The value is the file's number rescaled (ns -> µs): name the file's unit, one step below the label's.
  const labelUnit = /\((\S+)\)$/.exec(v.label)?.[1];
  const rawNumber = Number(words[words.length - 1]);
  const at = labelUnit === undefined ? -1 : TIME_UNITS.indexOf(labelUnit);
  const rawUnit = at > 0 && Math.round(rawNumber / 1000) === v.value ? TIME_UNITS[at - 1] : undefined;
  return `${v.label}: ${shown}   (${v.file}: "${v.raw}"${rawUnit ? ` in ${rawUnit}` : ', rescaled'})`;
}

export const ACTIONS: Record<string, ActionDef> = Object.fromEntries(
  [start, exec, run, stop, copyBinary, chroot, hostProcess, writeFile, inspect, cgroupFiles].map((a) => [a.name, a]),
);

// ---- inspect's listing ----

const MAX_LISTED = 300;

/** A recursive listing like `ls -lR`, one entry a line, with overlay whiteouts pointed out. */
export function listDirectory(dir: string, depth: number): ActionOutcome {
  const lines: string[] = [];
  const files: string[] = [];
  const whiteouts: string[] = [];
  let more = 0;
  const walk = (rel: string, level: number) => {
    const names = fs.readdirSync(path.join(dir, rel)).sort();
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      if (files.length >= MAX_LISTED) {
        more++;
        continue;
      }
      const full = path.join(dir, relPath);
      const st = fs.lstatSync(full);
      files.push(relPath);
      if (st.isDirectory()) {
        lines.push(`d  ${pad('')}  ${relPath}/`);
        if (level < depth) walk(relPath, level + 1);
      } else if (st.isSymbolicLink()) {
        lines.push(`l  ${pad('')}  ${relPath} -> ${fs.readlinkSync(full)}`);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const dev = `${major(st.rdev)}/${minor(st.rdev)}`;
        const isWhiteout = st.isCharacterDevice() && st.rdev === 0;
        if (isWhiteout) whiteouts.push(relPath);
        lines.push(`${st.isCharacterDevice() ? 'c' : 'b'}  ${pad(dev)}  ${relPath}${isWhiteout ? '   <- whiteout: deleted in the container, still there in the lower layer' : ''}`);
      } else if (st.isFIFO()) {
        lines.push(`p  ${pad('')}  ${relPath}`);
      } else if (st.isSocket()) {
        lines.push(`s  ${pad('')}  ${relPath}`);
      } else {
        lines.push(`-  ${pad(`${st.size} B`)}  ${relPath}`);
      }
    }
  };
  walk('', 1);
  if (more) lines.push(`... and ${more} more`);
  return { output: `${dir}:\n${lines.length ? lines.join('\n') : '(empty)'}\n`, files, whiteouts };
}

const pad = (s: string) => s.padStart(9);
// Linux's dev_t encoding (glibc's gnu_dev_major/minor).
const major = (rdev: number) => Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
const minor = (rdev: number) => Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
