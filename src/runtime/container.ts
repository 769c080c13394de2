// A container: namespaces + an overlay root + a cgroup around one command.
// This is the one launcher the CLI, the lessons and the benchmark all use.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { CLONE } from './linux.js';
import { EXIT, UserError } from './errors.js';
import { StageProcess, type ExitStatus, type StdioMode } from './stage-process.js';
import { HeldOutputEmitter } from './held-output.js';
import type { BindMount, RootSetup, StageOrder } from './stage-protocol.js';
import { createCgroup, detectLayout, type CgroupLimits, type ContainerCgroup } from './cgroups/index.js';
import { describeLimitEnd } from './cgroups/limits.js';
import { CGROUPS_EXAMPLE, CONTAINER_PATH as CONTAINER_PATH_DIRS, defaultRootfs } from './paths.js';

const CONTAINER_PATH = CONTAINER_PATH_DIRS.join(':');
import * as records from './records.js';

export const NAMESPACES = ['pid', 'uts', 'ipc', 'net', 'mnt', 'cgroup'] as const;
export type NamespaceName = (typeof NAMESPACES)[number];

const NAMESPACE_FLAGS: Record<NamespaceName, number> = {
  pid: CLONE.NEWPID, uts: CLONE.NEWUTS, ipc: CLONE.NEWIPC, net: CLONE.NEWNET, mnt: CLONE.NEWNS, cgroup: CLONE.NEWCGROUP,
};
// setns order for exec: the mount namespace last, because joining it changes what /proc/PID means.
const JOIN_ORDER: NamespaceName[] = ['cgroup', 'ipc', 'uts', 'net', 'pid', 'mnt'];

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export interface ContainerSpec {
  /** A named container keeps its changes (its overlay upper dir) across runs, unless `remove`. */
  name?: string;
  hostname?: string;
  /** The base rootfs (overlay lowerdir); default rootfs/base. null keeps the host's filesystem. */
  rootfs?: string | null;
  /** Overlay over the rootfs (default), or the rootfs directory itself as the root. */
  overlay?: boolean;
  namespaces?: NamespaceName[];
  /** pivot_root (default) or chroot. */
  pivot?: boolean;
  /** Bind the root onto itself before pivot_root (default); false shows pivot_root's EINVAL. */
  bindRootFirst?: boolean;
  /** /proc, read-only /sys and a minimal /dev (default with a mount namespace). */
  specialFilesystems?: boolean;
  /** Discard the container's changes when it exits. Unnamed containers are always discarded. */
  remove?: boolean;
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  limits?: CgroupLimits;
  binds?: BindMount[];
  tmpfs?: string[];
  stdio?: StdioMode;
}

export interface Layers {
  lower: string;
  upper: string;
  work: string;
  merged: string;
}

export interface ContainerExit extends ExitStatus {
  /** Why a limit ended or hampered the command, as runc would say it. */
  limitMessages: string[];
}

export interface ExecOptions {
  stdio?: StdioMode;
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  limitMessages: string[];
  /** The runtime's refusal (for example pivot_root's EINVAL), when the command never started. */
  error?: string;
}

const live = new Set<Container>();

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new UserError('containers need root (namespaces, mounts and cgroups are privileged): run it with sudo, e.g. `sudo containy-learn run ...`');
  }
}

function validateSpec(spec: ContainerSpec): Required<Pick<ContainerSpec, 'namespaces' | 'pivot' | 'overlay' | 'stdio'>> & { rootfs: string | null } {
  const namespaces = spec.namespaces ?? [...NAMESPACES];
  for (const ns of namespaces) {
    if (!NAMESPACES.includes(ns)) throw new UserError(`unknown namespace '${ns}': use some of ${NAMESPACES.join(', ')}`);
  }
  if (spec.name !== undefined && !NAME_PATTERN.test(spec.name)) {
    throw new UserError(`invalid container name '${spec.name}': use letters, digits, '_', '.' or '-', starting with a letter or digit (at most 63)`);
  }
  if (!spec.argv.length || !spec.argv[0]) throw new UserError('no command given: say what to run in the container, e.g. `-- /bin/sh`');
  const rootfs = spec.rootfs === null ? null : (spec.rootfs ?? defaultRootfs());
  const overlay = rootfs !== null && (spec.overlay ?? true);
  const pivot = rootfs !== null && (spec.pivot ?? true);
  const mnt = namespaces.includes('mnt');
  if (rootfs !== null && (overlay || pivot) && !mnt) {
    throw new UserError(`${overlay ? 'an overlay root' : 'pivot_root'} needs the mnt namespace (its mounts must not reach the host): add mnt to the namespaces, or use --no-pivot with the rootfs directory itself`);
  }
  if (rootfs !== null && !fs.existsSync(rootfs)) {
    throw new UserError(rootfs === defaultRootfs()
      ? `the base rootfs is missing at ${rootfs}: build it with \`sudo containy-learn rootfs build\``
      : `the rootfs ${rootfs} does not exist: give a directory holding a root filesystem (with bin/sh)`);
  }
  return { namespaces, pivot, overlay, rootfs, stdio: spec.stdio ?? 'inherit' };
}

function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

// ---- warm stages: a stage started ahead of time skips Node's start-up (~70 ms) ----

/** A stage, and on cgroup v1 a cgroup made and joined for it ahead of time. */
interface PreparedStage {
  process: StageProcess;
  /** Joining costs an RCU grace period per v1 hierarchy (~15 ms for five): a warm
   * stage pays it while it waits, and its cgroup is renamed to the container's. */
  cgroup?: ContainerCgroup;
  joined?: Promise<void>;
}

const warmStages = new Map<string, PreparedStage>();
let keepWarm = false;

/** Keep one stage ready for the next container (the benchmark's in-process start); off discards them. */
export async function keepStagesWarm(on = true): Promise<void> {
  keepWarm = on;
  if (!on) await Promise.all([...warmStages.keys()].map(discardWarm));
}

let warmHolders = 0;

/**
 * Keep a stage warm for as long as anything holds it (each open lesson session
 * does), so a lesson's container starts without waiting for Node; the returned
 * release discards it once nobody holds it. Needs root.
 */
export function holdWarmStages(): () => Promise<void> {
  warmHolders++;
  keepWarm = true;
  void prewarm(undefined, 'pipe');
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--warmHolders === 0) await keepStagesWarm(false);
  };
}

async function discardWarm(key: string): Promise<void> {
  const warm = warmStages.get(key);
  warmStages.delete(key);
  if (warm) await discardPrepared(warm);
}

/** A prepared stage nobody will use: kill it, then remove the cgroup made for it. */
async function discardPrepared(stage: PreparedStage): Promise<void> {
  await stage.process.destroy();
  stage.cgroup?.destroy();
}

let nextStageOnThisThread = false;

/**
 * The next stage is spawned by the calling thread itself, which moves into the
 * container's namespaces for good: for the CLI's one-shot run and exec, which
 * need nothing of the host's namespaces afterwards. It saves booting a worker
 * thread and a second copy of koffi (~30 ms of a 2-core machine's CPU).
 */
export function runNextStageOnThisThread(): void {
  nextStageOnThisThread = true;
}

function takeThisThread(): boolean {
  const yes = nextStageOnThisThread;
  nextStageOnThisThread = false; // a thread can give its PID namespace to one stage only
  return yes;
}

function startStage(unshareFlags: number, stdio: StdioMode, ahead: boolean): PreparedStage {
  const process = StageProcess.start({ stdio, unshareFlags, onThisThread: !ahead && takeThisThread() });
  if (!ahead || detectLayout() === 'v2') return { process };
  const cgroup = createCgroup(`warm-${randomBytes(4).toString('hex')}`, {});
  const joined = process.spawned.then((pid) => cgroup.join(pid));
  joined.catch(() => {});
  return { process, cgroup, joined };
}

/** Prepare a stage with these namespaces and stdio, so the next matching start is warm. */
export function prewarm(namespaces: NamespaceName[] = [...NAMESPACES], stdio: StdioMode = 'pipe'): Promise<void> {
  requireRoot();
  const key = `${unshareFlagsFor(namespaces)}:${stdio}`;
  if (!warmStages.has(key)) warmStages.set(key, startStage(unshareFlagsFor(namespaces), stdio, true));
  const warm = warmStages.get(key)!;
  return Promise.all([warm.process.ready, warm.joined]).then(
    () => {},
    () => discardWarm(key),
  );
}

/**
 * A warm stage if one is ready for these namespaces and stdio, else a new one.
 * While stages are kept warm, the next one is made for what was just asked
 * (consecutive starts tend to ask alike), and only one is kept: each is a Node
 * process of ~40 MiB.
 */
function takeStage(unshareFlags: number, stdio: StdioMode): PreparedStage {
  const key = `${unshareFlags}:${stdio}`;
  const warm = warmStages.get(key);
  warmStages.delete(key);
  if (keepWarm) {
    for (const other of [...warmStages.keys()]) void discardWarm(other);
    warmStages.set(key, startStage(unshareFlags, stdio, true));
  }
  if (warm?.process.running) return warm;
  if (warm) void discardPrepared(warm);
  return startStage(unshareFlags, stdio, false);
}

/**
 * The container's cgroup, with the stage in it. Without limits, the stage joins as
 * soon as it exists (overlapping Node's boot), or already has (warm, renamed).
 * With limits, it joins once Node has booted, so that the stage's own threads and
 * start-up memory do not count against the learner's pids or memory limit
 * (runc's init is small and written in Go; our stage is Node).
 */
async function cgroupFor(name: string, limits: CgroupLimits | undefined, stage: PreparedStage): Promise<ContainerCgroup> {
  const hasLimits = Object.keys(limits ?? {}).length > 0;
  if (stage.cgroup && !hasLimits) {
    await stage.joined;
    if (stage.cgroup.rename(name)) return stage.cgroup;
  }
  const cgroup = createCgroup(name, limits ?? {});
  try {
    if (hasLimits) await stage.process.ready;
    cgroup.join(await stage.process.spawned);
  } catch (err) {
    cgroup.destroy();
    throw err;
  }
  stage.cgroup?.destroy(); // empty now: the stage moved out of it
  return cgroup;
}

/** What the spawning thread unshares; the stage makes the other two itself. */
function unshareFlagsFor(namespaces: NamespaceName[]): number {
  // The cgroup namespace is made by the stage after it has been moved into its
  // cgroup, so that the container's cgroup becomes its cgroup root; the mount
  // namespace by the stage so that pivot_root cannot move the spawning thread's root.
  return namespaces.filter((ns) => ns !== 'cgroup' && ns !== 'mnt').reduce((flags, ns) => flags | NAMESPACE_FLAGS[ns], 0);
}

// ---- the container ----

export class Container extends HeldOutputEmitter {
  readonly exited: Promise<ContainerExit>;
  private constructor(
    readonly name: string,
    readonly namespaces: NamespaceName[],
    readonly hostname: string | undefined,
    readonly layers: Layers | undefined,
    readonly cgroup: ContainerCgroup | undefined,
    private readonly stage: StageProcess,
    private readonly limits: CgroupLimits | undefined,
    private readonly scratchDir: string | undefined,
  ) {
    super();
    stage.on('stdout', (b: Buffer) => this.emitOutput('stdout', b));
    stage.on('stderr', (b: Buffer) => this.emitOutput('stderr', b));
    this.exited = stage.exited.then((status) => this.finish(status));
  }

  /** Host PID of the container's command (PID 1 inside a new PID namespace). */
  get pid(): number {
    return this.stage.pid;
  }

  get running(): boolean {
    return this.stage.running;
  }

  static async start(spec: ContainerSpec): Promise<Container> {
    const checked = validateSpec(spec);
    requireRoot();
    const named = spec.name !== undefined;
    const name = spec.name ?? `c-${randomBytes(4).toString('hex')}`;
    const discard = !named || spec.remove === true;
    records.claim(name);

    let scratchDir: string | undefined;
    let cgroup: ContainerCgroup | undefined;
    // Node's start-up in the stage is the slowest part: begin it first, and make
    // the directories and the cgroup while it boots.
    const prepared = takeStage(unshareFlagsFor(checked.namespaces), checked.stdio);
    const stage = prepared.process;
    try {
      let layers: Layers | undefined;
      let root: RootSetup | undefined;
      if (checked.rootfs !== null) {
        let dir = checked.rootfs;
        if (checked.overlay) {
          const base = discard ? records.scratchDir(name) : records.persistentDir(name);
          if (discard) scratchDir = base;
          layers = {
            lower: checked.rootfs,
            upper: path.join(base, 'upper'),
            work: path.join(base, 'work'),
            merged: path.join(base, 'merged'),
          };
          for (const d of [layers.upper, layers.work, layers.merged]) fs.mkdirSync(d, { recursive: true });
          dir = layers.merged;
        }
        const mnt = checked.namespaces.includes('mnt');
        const binds: BindMount[] = [...(spec.binds ?? [])];
        if (mnt && fs.existsSync(CGROUPS_EXAMPLE)) binds.push({ source: CGROUPS_EXAMPLE, target: '/cgroups_example', readonly: true });
        root = {
          dir,
          overlay: layers && { lower: layers.lower, upper: layers.upper, work: layers.work },
          pivot: checked.pivot,
          bindRootFirst: spec.bindRootFirst ?? true,
          specialFilesystems: mnt && (spec.specialFilesystems ?? true),
          binds: mnt ? binds : [],
          tmpfs: mnt ? (spec.tmpfs ?? []) : [],
        };
      }
      records.update(name, { scratchDir });

      cgroup = await cgroupFor(name, spec.limits, prepared);
      records.update(name, { cgroupPaths: cgroup.paths });
      const hostname = checked.namespaces.includes('uts') ? (spec.hostname ?? name) : undefined;
      const env = {
        PATH: checked.rootfs === null ? (process.env.PATH ?? CONTAINER_PATH) : CONTAINER_PATH,
        HOME: '/root',
        TERM: process.env.TERM ?? 'xterm',
        ...(hostname ? { HOSTNAME: hostname } : {}),
        ...spec.env,
      };
      const order: StageOrder = {
        newMountNamespace: checked.namespaces.includes('mnt'),
        root,
        hostname,
        newCgroupNamespace: checked.namespaces.includes('cgroup'),
        argv: spec.argv,
        env: envList(env),
        cwd: spec.cwd ?? '/',
      };
      const container = new Container(name, checked.namespaces, hostname, layers, cgroup, stage, spec.limits, scratchDir);
      live.add(container);
      records.update(name, { pid: stage.pid });
      try {
        await stage.go(order);
      } catch (err) {
        await container.exited;
        throw err;
      }
      return container;
    } catch (err) {
      if (stage.running) await stage.destroy();
      if (!cgroup) prepared.cgroup?.destroy();
      cleanupResources(name, cgroup, scratchDir);
      throw err;
    }
  }

  write(data: string | Uint8Array): void {
    this.stage.write(data);
  }

  endInput(): void {
    this.stage.endInput();
  }

  signal(signal: NodeJS.Signals): void {
    this.stage.signal(signal);
  }

  /** SIGTERM, then SIGKILL after the grace period (PID 1 ignores signals it has no handler for). */
  async stop(graceMs = 2000): Promise<ContainerExit> {
    if (this.running) {
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }

  /** Run a command inside, joining every namespace and the cgroup of the container, as nsenter does. */
  async exec(argv: string[], opts: ExecOptions = {}): Promise<StageProcess> {
    if (!this.running) throw new UserError(`container ${this.name} is not running`);
    return execInPid(this.pid, this.namespaces, this.cgroup, argv, { ...opts, rootfsPath: this.layers !== undefined || this.namespaces.includes('mnt') });
  }

  /** exec and collect the output. */
  async run(argv: string[], opts: Omit<ExecOptions, 'stdio'> = {}): Promise<RunResult> {
    try {
      const proc = await this.exec(argv, { ...opts, stdio: 'pipe' });
      return await collect(proc, proc.exited.then((s) => ({ ...s, limitMessages: [] })));
    } catch (err) {
      return refusal(err);
    }
  }

  /** Kill and clean up without awaiting anything (for process exit). */
  destroySync(): void {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    cleanupResources(this.name, this.cgroup, this.scratchDir);
  }

  private async finish(status: ExitStatus): Promise<ContainerExit> {
    live.delete(this);
    let limitMessages: string[] = [];
    try {
      if (this.cgroup) limitMessages = describeLimitEnd(this.cgroup.events(), this.limits ?? {}, status.status);
    } catch {
      // the cgroup's counters are a courtesy; the exit status is what matters
    }
    cleanupResources(this.name, this.cgroup, this.scratchDir);
    this.emit('exit', status);
    return { ...status, limitMessages };
  }
}

function cleanupResources(name: string, cgroup: ContainerCgroup | undefined, scratchDir: string | undefined): void {
  cgroup?.destroy();
  if (scratchDir) fs.rmSync(scratchDir, { recursive: true, force: true });
  records.release(name);
}

async function execInPid(
  pid: number,
  namespaces: NamespaceName[],
  cgroup: Pick<ContainerCgroup, 'join'> | undefined,
  argv: string[],
  opts: ExecOptions & { rootfsPath: boolean },
): Promise<StageProcess> {
  if (!argv.length || !argv[0]) throw new UserError('no command given: say what to run, e.g. `-- ps`');
  requireRoot();
  const join = {
    pid,
    namespaces: JOIN_ORDER.filter((ns) => namespaces.includes(ns)).map((ns) => ({ file: ns, flag: NAMESPACE_FLAGS[ns] })),
  };
  const stage = StageProcess.start({ stdio: opts.stdio ?? 'inherit', unshareFlags: 0, join, onThisThread: takeThisThread() });
  try {
    // Join once Node has booted: the container may have a pids or memory limit
    // that Node's own threads and start-up would hit.
    await stage.ready;
    cgroup?.join(stage.pid);
    const env = { PATH: opts.rootfsPath ? CONTAINER_PATH : (process.env.PATH ?? CONTAINER_PATH), HOME: '/root', TERM: process.env.TERM ?? 'xterm', ...opts.env };
    await stage.go({ newMountNamespace: false, joinMountNamespace: namespaces.includes('mnt'), newCgroupNamespace: false, argv, env: envList(env), cwd: opts.cwd ?? '/' });
    return stage;
  } catch (err) {
    await stage.destroy();
    throw err;
  }
}

async function collect(proc: EventEmitter, exited: Promise<ContainerExit>): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.on('stdout', (b: Buffer) => out.push(b));
  proc.on('stderr', (b: Buffer) => err.push(b));
  const status = await exited;
  return { status: status.status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), limitMessages: status.limitMessages };
}

function refusal(err: unknown): RunResult {
  if (err instanceof UserError) return { status: err.exitCode, stdout: '', stderr: '', limitMessages: [], error: err.message };
  throw err;
}

export function startContainer(spec: ContainerSpec): Promise<Container> {
  return Container.start(spec);
}

/** Start a container with stdio piped, wait for it, clean up, and return what it printed. */
export async function runOnce(spec: ContainerSpec): Promise<RunResult> {
  try {
    const c = await Container.start({ ...spec, stdio: 'pipe' });
    return await collect(c, c.exited);
  } catch (err) {
    return refusal(err);
  }
}

/** `containy-learn exec NAME -- CMD`: join a running container started by any containy-learn process. */
export async function execInContainer(name: string, argv: string[], opts: ExecOptions = {}): Promise<StageProcess> {
  const record = records.findLive(name);
  if (!record?.pid) throw new UserError(`no running container named '${name}': start one with \`sudo containy-learn run --name ${name} ...\``);
  const namespaces = NAMESPACES.filter((ns) => {
    try {
      return fs.readlinkSync(`/proc/${record.pid}/ns/${ns}`) !== fs.readlinkSync(`/proc/self/ns/${ns}`);
    } catch {
      return false;
    }
  });
  const cgroup = record.cgroupPaths ? cgroupJoinerFor(record.cgroupPaths) : undefined;
  return execInPid(record.pid, namespaces, cgroup, argv, { ...opts, rootfsPath: namespaces.includes('mnt') });
}

/** Only join() is needed to exec into a container another process started. */
function cgroupJoinerFor(paths: string[]): Pick<ContainerCgroup, 'join'> {
  return {
    join(pid: number) {
      for (const p of paths) fs.writeFileSync(path.join(p, 'cgroup.procs'), String(pid));
    },
  };
}

/** Stop every container this process started (quit, Ctrl-C, SIGTERM). */
export async function stopAll(graceMs = 1000): Promise<void> {
  await Promise.all([keepStagesWarm(false), ...[...live].map((c) => c.stop(graceMs))]);
}

/** Last resort at process exit: nothing may be awaited here. */
export function killAllSync(): void {
  for (const c of live) c.destroySync();
  live.clear();
  for (const [key, warm] of warmStages) {
    warmStages.delete(key);
    if (warm.process.pid) {
      try {
        process.kill(warm.process.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    warm.cgroup?.destroy();
  }
}

export { EXIT };
