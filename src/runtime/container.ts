// A container: namespaces + an overlay root + a cgroup around one command.
// This is the one launcher the CLI, the lessons and the benchmark all use.
// The start, step by step, is in docs/architecture.md ("The start sequence").
import type { TraceCall } from './libc.js';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.js';
import { StageProcess, type ExitStatus, type StdioMode } from './start/stage-process.js';
import { WarmStagePool, type StageShape, type WarmStage } from './start/warm-pool.js';
import { HeldOutputEmitter } from './held-output.js';
import type { RootSetup, StageOrder } from './start/protocol.js';
import { createCgroup, detectLayout, type CgroupEvents, type CgroupLimits, type ContainerCgroup } from './cgroups/index.js';
import { describeLimitEnd } from './cgroups/limits.js';
import { RUNC_DEFAULT_DEVICE_RULES } from './cgroups/devices.js';
import { NAMESPACES, NAMESPACE_FLAGS, checkSpec, commandEnv, requireRoot, type CheckedSpec, type ContainerSpec, type NamespaceName } from './spec.js';
import { execInPid, type ExecOptions } from './exec.js';
import { collect, refusal, type ContainerExit, type RunResult } from './run-result.js';
import * as records from './records.js';
import { compileSecurity, type StageSecurity } from './security/compile.js';
import { defaultSecuritySpec } from './security/options.js';
import { ContainerNetwork } from './network.js';
import type { UsernsSpec } from './userns/idmap.js';
import { bindStagingDir, prepareUsernsLayers } from './userns/layers.js';

export { NAMESPACES, type ContainerSpec, type NamespaceName } from './spec.js';
export { execInContainer, type ExecOptions } from './exec.js';
export type { ContainerExit, RunResult } from './run-result.js';

export interface Layers {
  /** overlayfs's lowerdir: one directory, or an image's layers joined by ':' from the top down. */
  lower: string;
  upper: string;
  work: string;
  merged: string;
}

export interface StartOptions {
  /**
   * Spawn the stage from the calling thread itself, which moves into the
   * container's namespaces for good: for the CLI's one-shot run, which needs
   * nothing of the host's namespaces afterwards. Saves booting a worker thread
   * and a second copy of koffi (~30 ms of a 2-core machine's CPU). Once per process.
   */
  onThisThread?: boolean;
}

/**
 * A stage, and, when started ahead of time, what its container will need that
 * takes time to make: on cgroup v1 a cgroup it has joined, and an unnamed
 * container's empty overlay directories.
 */
class PreparedStage implements WarmStage {
  readonly ready: Promise<unknown>;
  private constructor(
    readonly process: StageProcess,
    /** Joining costs an RCU grace period per v1 hierarchy (~15 ms for five): a warm
     * stage pays it while it waits, and its cgroup is renamed to the container's. */
    readonly cgroup?: ContainerCgroup,
    readonly joined?: Promise<void>,
    /** scratch/warm-*: upper, work and merged, renamed to the container's scratch directory if it has none (planRoot). */
    private scratch?: string,
  ) {
    this.ready = Promise.all([process.ready, joined]);
    this.ready.catch(() => {});
  }

  static start(shape: StageShape, opts: { ahead: boolean; onThisThread?: boolean; joinNetPid?: number; userns?: UsernsSpec }): PreparedStage {
    const process = StageProcess.start({ ...shape, onThisThread: opts.onThisThread, joinNetPid: opts.joinNetPid, userns: opts.userns });
    if (!opts.ahead) return new PreparedStage(process);
    const warmName = `warm-${randomBytes(4).toString('hex')}`;
    // Four mkdirs took ~1.6 ms of a warm start on this disk; while the stage waits they cost nothing.
    const scratch = records.scratchDir(warmName);
    try {
      for (const dir of OVERLAY_DIRS) fs.mkdirSync(path.join(scratch, dir), { recursive: true });
    } catch {
      fs.rmSync(scratch, { recursive: true, force: true }); // the start makes its own
    }
    if (detectLayout() === 'v2') return new PreparedStage(process, undefined, undefined, scratch);
    const cgroup = createCgroup(warmName, {});
    const joined = process.spawned.then((pid) => cgroup.join(pid));
    joined.catch(() => {});
    return new PreparedStage(process, cgroup, joined, scratch);
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Move the empty overlay directories made ahead of time to `dir`; false if there are none (cleanup took them, or none were made). */
  takeScratch(dir: string): boolean {
    const scratch = this.scratch;
    this.scratch = undefined;
    if (!scratch) return false;
    try {
      fs.renameSync(scratch, dir);
      return true;
    } catch {
      fs.rmSync(scratch, { recursive: true, force: true });
      return false;
    }
  }

  /** Once the root is planned: overlay directories the container did not take (a named one, no overlay) go. */
  dropScratch(): void {
    if (this.scratch) fs.rmSync(this.scratch, { recursive: true, force: true });
    this.scratch = undefined;
  }

  async discard(): Promise<void> {
    await this.process.destroy();
    this.discardSync();
  }

  discardSync(): void {
    if (this.process.pid) {
      try {
        process.kill(this.process.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.cgroup?.destroy();
    this.dropScratch();
  }
}

// Process-wide state, and only this: both exist so that whatever this process
// started can be found and killed when it exits (killAllSync), from any caller.
/** Every container this process started and that has not exited yet. */
const live = new Set<Container>();
// Starts in flight: each has made things (a cgroup, directories, a stage)
// before its container is live, and cleans them up itself if it fails.
const starting = new Set<Promise<Container>>();
/** Stages started ahead of time for this process's next containers. */
const warmPool = new WarmStagePool((shape) => PreparedStage.start(shape, { ahead: true }));

const ALL_NAMESPACES: StageShape = { unshareFlags: unshareFlagsFor([...NAMESPACES]), stdio: 'pipe' };

/** Keep one stage ready for the next container (the benchmark's in-process start); off discards them. */
export function keepStagesWarm(on = true): Promise<void> {
  return warmPool.keepStagesWarm(on);
}

/**
 * Keep a stage warm for as long as anything holds it (each open lesson session
 * does), so a lesson's container starts without waiting for Node; the returned
 * release discards it once nobody holds it. Needs root.
 */
export function holdWarmStages(): () => Promise<void> {
  requireRoot();
  return warmPool.hold(ALL_NAMESPACES);
}

/** Prepare a stage with these namespaces and stdio, so the next matching start is warm. */
export function prewarm(namespaces: NamespaceName[] = [...NAMESPACES], stdio: StdioMode = 'pipe'): Promise<void> {
  requireRoot();
  return warmPool.prewarm({ unshareFlags: unshareFlagsFor(namespaces), stdio });
}

/** What the spawning thread unshares; the stage makes the other two itself. */
function unshareFlagsFor(namespaces: NamespaceName[]): number {
  // The cgroup namespace is made by the stage after it has been moved into its
  // cgroup, so that the container's cgroup becomes its cgroup root; the mount
  // namespace by the stage so that pivot_root cannot move the spawning thread's root.
  return namespaces.filter((ns) => ns !== 'cgroup' && ns !== 'mnt').reduce((flags, ns) => flags | NAMESPACE_FLAGS[ns], 0);
}

/** Where the container's root comes from and what is mounted in it; the directories are made here. */
interface RootPlan {
  layers?: Layers;
  root?: RootSetup;
  /** Removed when the container exits (an unnamed or --rm container's overlay dirs). */
  scratchDir?: string;
  /** With a user namespace: where the idmapped base is attached, in the container's mount namespace. */
  idmappedLower?: string;
}

/** An overlay's directories under a container's own: its changes, overlayfs's scratch, and the merged root. */
const OVERLAY_DIRS = ['upper', 'work', 'merged'] as const;

function planRoot(spec: ContainerSpec, checked: CheckedSpec, name: string, discard: boolean, prepared: PreparedStage): RootPlan {
  if (checked.rootfs === null) return {};
  const mnt = checked.namespaces.includes('mnt');
  let dir = checked.rootfs;
  let layers: Layers | undefined;
  let scratchDir: string | undefined;
  let idmappedLower: string | undefined;
  if (checked.overlay) {
    const base = discard ? records.scratchDir(name) : records.persistentDir(name);
    if (discard) scratchDir = base;
    // overlayfs reads lowerdir left to right from the top: the image's top layer comes first.
    const lower = [...checked.layers].reverse().join(':');
    const [upper, work, merged] = OVERLAY_DIRS.map((d) => path.join(base, d));
    layers = { lower, upper, work, merged };
    try {
      // A warm stage's, made while it waited (a user namespace's get their owner below, from scratch).
      const madeAhead = discard && !spec.userns && prepared.takeScratch(base);
      if (!madeAhead) for (const d of OVERLAY_DIRS) fs.mkdirSync(path.join(base, d), { recursive: true });
      if (spec.userns) idmappedLower = prepareUsernsLayers(layers, spec.userns);
    } catch (err) {
      if (scratchDir) fs.rmSync(scratchDir, { recursive: true, force: true });
      throw err;
    }
    dir = layers.merged;
  }
  const root: RootSetup = {
    dir,
    overlay: layers && { lower: idmappedLower ?? layers.lower, upper: layers.upper, work: layers.work },
    pivot: checked.pivot,
    rootMountPoint: checked.rootMountPoint,
    specialFilesystems: mnt && (spec.specialFilesystems ?? true),
    binds: spec.binds ?? [],
    tmpfs: mnt ? (spec.tmpfs ?? []) : [],
    mounts: mnt ? spec.mounts : undefined,
  };
  return { layers, root, scratchDir, idmappedLower };
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

function orderFor(spec: ContainerSpec, checked: CheckedSpec, root: RootSetup | undefined, hostname: string | undefined, security: StageSecurity): StageOrder {
  return {
    security,
    newMountNamespace: checked.namespaces.includes('mnt'),
    root,
    hostname,
    newCgroupNamespace: checked.namespaces.includes('cgroup'),
    argv: spec.argv,
    env: spec.exactEnv
      ? Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`)
      : commandEnv(checked.rootfs === null, { ...(hostname ? { HOSTNAME: hostname } : {}), ...spec.env }),
    cwd: spec.cwd ?? '/',
    inUserNamespace: spec.userns !== undefined || undefined,
    user: commandUser(spec),
    rlimits: spec.rlimits,
    trace: spec.trace,
  };
}

/** The ids the command switches to, unless it stays root (0:0) inside. */
function commandUser(spec: ContainerSpec): StageOrder['user'] {
  const user = spec.user ?? spec.userns?.user;
  return user && (user.uid !== 0 || user.gid !== 0) ? user : undefined;
}

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
    /** What the command entered; an exec enters the same. */
    readonly security: StageSecurity,
    /** --network and -p: what was attached, detached when the container ends. */
    readonly network?: ContainerNetwork,
  ) {
    super();
    stage.on('stdout', (b: Buffer) => this.emitOutput('stdout', b));
    stage.on('stderr', (b: Buffer) => this.emitOutput('stderr', b));
    this.exited = stage.exited.then((status) => this.finish(status));
  }

  /** The stage's libc calls up to its execve, when the spec asked for a trace. */
  get stageTrace(): TraceCall[] {
    return this.stage.trace;
  }

  /** Host PID of the container's command (PID 1 inside a new PID namespace). */
  get pid(): number {
    return this.stage.pid;
  }

  /** The program its first process runs now (/proc/PID/comm), e.g. sh, then sleep after a script's `exec sleep`; undefined once gone. */
  program(): string | undefined {
    try {
      return fs.readFileSync(`/proc/${this.stage.pid}/comm`, 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  get running(): boolean {
    return this.stage.running;
  }

  static start(spec: ContainerSpec, opts: StartOptions = {}): Promise<Container> {
    const started = Container.startSteps(spec, opts);
    starting.add(started);
    const settled = () => void starting.delete(started);
    started.then(settled, settled);
    return started;
  }

  private static async startSteps(spec: ContainerSpec, opts: StartOptions): Promise<Container> {
    const checked = checkSpec(spec);
    requireRoot();
    const name = spec.name ?? `c-${randomBytes(4).toString('hex')}`;
    const discard = spec.name === undefined || spec.remove === true;
    // Before anything is made: a bad mode, a taken port or a missing container:NAME refuses the run.
    const network = await ContainerNetwork.plan(spec, checked.namespaces);
    checked.namespaces = network.namespaces;
    try {
      records.claim(name);
    } catch (err) {
      network.closePorts();
      throw err;
    }

    // Node's start-up in the stage is the slowest part: begin it first (or take a
    // warm one), and make the directories and the cgroup while it boots.
    const spawned = network.unsharesNet ? checked.namespaces : checked.namespaces.filter((ns) => ns !== 'net');
    const shape: StageShape = { unshareFlags: unshareFlagsFor(spawned), stdio: checked.stdio };
    // A bridge is set up from a thread in the host's network namespace, so this thread must stay there.
    const onThisThread = opts.onThisThread && network.allowsOnThisThread;
    // No warm stage with a user namespace: the helper makes it with this
    // container's maps, and the other namespaces after it so that it owns them.
    const warmable = !onThisThread && network.joinNetPid === undefined && !spec.userns;
    let prepared: PreparedStage;
    try {
      const warm = warmable && warmPool.take(shape);
      prepared = warm || PreparedStage.start(shape, { ahead: false, onThisThread, joinNetPid: network.joinNetPid, userns: spec.userns });
    } catch (err) {
      network.closePorts();
      records.release(name);
      throw err;
    }
    const stage = prepared.process;
    let plan: RootPlan = {};
    let cgroup: ContainerCgroup | undefined;
    try {
      // While the stage boots: libseccomp compiles the filter here, so the stage
      // loads no libseccomp, and a missing library is refused before any mount or cgroup.
      const securitySpec = spec.security ?? defaultSecuritySpec();
      const security = compileSecurity(securitySpec);
      try {
        plan = planRoot(spec, checked, name, discard, prepared);
      } finally {
        prepared.dropScratch();
      }
      cgroup = await cgroupFor(name, spec.limits, prepared);
      // What cleanup needs after a kill -9, and exec its way in: one write. A crash before it leaves
      // directories and a cgroup that `cleanup` finds by name (records.ts, cleanupLeftovers).
      records.update(name, { scratchDir: plan.scratchDir, security, cgroupPaths: cgroup.paths, pid: stage.pid });
      // Before the command runs, whatever its capabilities: CAP_MKNOD makes any node, these say which may be opened.
      if (securitySpec.devices === 'runc-default') cgroup.restrictDevices(RUNC_DEFAULT_DEVICE_RULES);
      // The base, owned by container root through an idmapped mount that only the container's mount namespace has.
      if (plan.idmappedLower) (await import('./userns/idmapped-mount.js')).attachIdmappedBase(plan.layers!.lower, await stage.spawned, plan.idmappedLower);
      const hostname = checked.namespaces.includes('uts') ? (spec.hostname ?? name) : undefined;
      network.attach(await stage.spawned, name, hostname, checked.namespaces.includes('mnt') ? plan.root : undefined);
      // Root inside may not reach a bind's source on the host: the launcher attaches each one where it can.
      if (plan.idmappedLower && plan.root) plan.root.binds = (await import('./userns/host-mounts.js')).attachBindSources(plan.root.binds, await stage.spawned, bindStagingDir(plan.idmappedLower));
      const order = orderFor(spec, checked, plan.root, hostname, security);

      const container = new Container(name, checked.namespaces, hostname, plan.layers, cgroup, stage, spec.limits, plan.scratchDir, security, network);
      live.add(container);
      try {
        await stage.go(order);
      } catch (err) {
        await container.exited;
        throw err;
      }
      // The next warm stage boots once this container has ended or has run a moment, not during its start.
      if (warmable) warmPool.refillAfter(shape, container.exited);
      return container;
    } catch (err) {
      if (warmable) warmPool.refill(shape);
      if (stage.running) await stage.destroy();
      if (!cgroup) prepared.cgroup?.destroy();
      cleanupResources(name, cgroup, plan.scratchDir, network);
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
  async exec(argv: string[], opts: Omit<ExecOptions, 'onThisThread'> = {}): Promise<StageProcess> {
    if (!this.running) throw new UserError(`container ${this.name} is not running`);
    const hostRoot = this.layers === undefined && !this.namespaces.includes('mnt');
    return execInPid(this.pid, this.namespaces, this.cgroup, argv, { ...opts, hostRoot, security: this.security });
  }

  /** exec and collect the output. */
  async run(argv: string[], opts: Omit<ExecOptions, 'stdio' | 'onThisThread'> = {}): Promise<RunResult> {
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
    cleanupResources(this.name, this.cgroup, this.scratchDir, this.network);
  }

  private async finish(status: ExitStatus): Promise<ContainerExit> {
    live.delete(this);
    let limitMessages: string[] = [];
    let events: CgroupEvents | undefined;
    try {
      if (this.cgroup) {
        events = this.cgroup.events();
        limitMessages = describeLimitEnd(events, this.limits ?? {}, status.status);
      }
    } catch {
      // the cgroup's counters are a courtesy; the exit status is what matters
    }
    cleanupResources(this.name, this.cgroup, this.scratchDir, this.network);
    this.emit('exit', status);
    return { ...status, limitMessages, ...(events ? { events } : {}) };
  }
}

function cleanupResources(name: string, cgroup: ContainerCgroup | undefined, scratchDir: string | undefined, network?: ContainerNetwork): void {
  cgroup?.destroy();
  network?.detach(name);
  if (scratchDir) removeScratchDir(scratchDir);
  records.release(name);
}

/**
 * An unnamed container's overlay directories, removed. Most containers leave them
 * as planRoot and overlayfs made them: five rmdir calls (~0.7 ms here), where
 * fs.rmSync's general walk took ~3 ms of every short run. Anything else (files the
 * command wrote in upper/, overlayfs's index/) sends it to rmSync.
 */
function removeScratchDir(dir: string): void {
  try {
    for (const sub of ['merged', 'upper', 'work/work', 'work', '']) fs.rmdirSync(path.join(dir, sub));
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function startContainer(spec: ContainerSpec, opts: StartOptions = {}): Promise<Container> {
  return Container.start(spec, opts);
}

/**
 * Start a container with stdio piped, wait for it, clean up, and return what it printed.
 * `onStarted` gets the container while it runs (a caller that shows it live).
 */
export async function runOnce(spec: ContainerSpec, onStarted?: (c: Container) => void): Promise<RunResult> {
  try {
    const c = await Container.start({ ...spec, stdio: 'pipe' });
    onStarted?.(c);
    const result = await collect(c, c.exited);
    return spec.trace ? { ...result, trace: c.stageTrace } : result;
  } catch (err) {
    return refusal(err);
  }
}

/** Stop every container this process started (quit, Ctrl-C, SIGTERM). */
export async function stopAll(graceMs = 1000): Promise<void> {
  // A Ctrl-C a moment after `run` began finds its container still starting:
  // let the start finish (or fail and clean up), so that it is stopped with the rest.
  // Bounded, so that a start stuck on a bug cannot hold a Ctrl-C forever.
  await Promise.race([Promise.allSettled([...starting]), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  await Promise.all([warmPool.keepStagesWarm(false), ...[...live].map((c) => c.stop(graceMs))]);
}

/** Last resort at process exit: nothing may be awaited here. */
export function killAllSync(): void {
  for (const c of live) c.destroySync();
  live.clear();
  warmPool.discardAllSync();
}
