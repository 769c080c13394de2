// Runs a lesson's steps for real: each step's action through the runtime, then
// the probes of the host and the container, then the step's checks. One
// session per open lesson; it owns everything its steps made (containers, host
// processes, the work directory, named containers' stored changes) and removes
// all of it on reset() and close().
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeError, UserError } from '../runtime/errors.js';
import type { CgroupEvents, CgroupReport, Container } from '../runtime/index.js';
import { ACTIONS, STOP_GRACE_MS, type ActionContext, type ActionOutcome, type Handle, type KeptResult } from './actions.js';
import { evaluateCheck, parseSubject, probesReadBy, type CheckFacts } from './checks.js';
import { dependencies } from './depends.js';
import { cgroupProblem, hostToolProblem, NEEDS_ROOT, overlayProblem, toolProblem } from './host-support.js';
import { MAIN } from './params.js';
import { realRuntime, type RuntimeLike } from './runtime-like.js';
import type { EndedContainer, Lesson, Need, ProbeKind, ProbeSnapshot, Step, StepResult } from './types.js';
import { referencesIn, RESULT_FIELDS, stepReferences, substitute, ValueError } from './variables.js';
import { lessonsDir, removeStaleWorkdirs, workdirFor } from './workdirs.js';

export interface SessionOptions {
  /** The runtime to act through (a fake in unit tests). */
  runtime?: RuntimeLike;
  /** Default: the effective uid is 0. Without root, steps that need it say so instead of failing. */
  isRoot?: boolean;
  /** Default: <stateRoot>/lessons/containy-lesson-<id>-<pid> (./workdirs.ts). Removed on reset and close. */
  workdir?: string;
  /** Default: read from the host (/proc/filesystems, /sys/fs/cgroup). Tests pass their own. */
  hostSupport?: HostSupport;
}

/** Why the host cannot give a step what it needs, with what to change; undefined when it can. */
export interface HostSupport {
  overlay(): string | undefined;
  cgroups(controllers: string[]): string | undefined;
  /** Commands missing from the base rootfs. Default: the base the runtime uses (defaultRootfs), listed. */
  tools?(commands: string[]): string | undefined;
  /** Commands missing from the host's PATH. Default: process.env.PATH, searched. */
  hostTools?(commands: string[]): string | undefined;
}

const hostSupportFromHost: HostSupport = { overlay: () => overlayProblem(), cgroups: (c) => cgroupProblem(c) };

/** A container's printed output kept for `output` checks and the TUI: the tail. */
const OUTPUT_KEEP = 64 * 1024;
/** How long a check expecting `victim.alive == false` waits for the kill to be reaped. */
const EXIT_SETTLE_MS = 1500;

interface KeptHandle extends Handle {
  exitStatus?: number;
}

/** The one-shot container of the step running now (or of the last step): shown while it runs, its last reading after. */
interface OneShot {
  container: Container;
  reading?: ProbeSnapshot;
  ended?: EndedContainer;
}

/** What the panes are shown: the host, and the container the last step acted on (a one-shot's last reading once it ended). */
export interface Probed {
  host: ProbeSnapshot;
  container?: ProbeSnapshot;
  ended?: EndedContainer;
}

/** The counters the kernel had at the exit (the OOM kill that ended it), read after the last reading. */
function withFinalEvents(report: CgroupReport, events: CgroupEvents | undefined): void {
  if (!events) return;
  const final: Record<string, number | undefined> = {
    'events.oom_kill': events.oomKills,
    'events.pids_max': events.pidsLimitHits,
    'events.cpu_throttled': events.throttledPeriods,
    'events.cpu_throttled_usec': events.throttledUsec,
  };
  for (const v of report.events) {
    const n = v.id ? final[v.id] : undefined;
    if (n === undefined || n === v.value) continue;
    v.raw = v.raw.replace(/\d+\s*$/, String(n));
    v.value = n;
  }
}

export class LessonSession {
  readonly lesson: Lesson;
  private readonly runtime: RuntimeLike;
  private readonly isRoot: boolean;
  private readonly hostSupport: HostSupport;
  private readonly workdirPath: string;
  private readonly handles = new Map<string, KeptHandle>();
  /** What one-shot steps kept with `as:` (host-run): their output and exit status. */
  private readonly results = new Map<string, KeptResult>();
  /** Named containers whose stored changes this session made. */
  private readonly stored = new Set<string>();
  /** The handle the container pane shows: the one the last step acted on. */
  private focus = MAIN;
  private oneShot?: OneShot;
  /** Steps run since the last reset: a step's dependencies among them are not run again. */
  private readonly ran = new Set<number>();
  /** Steps run one at a time, in the order asked; reset/close wait for the running one. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Gives back the warm stage this session holds (root only). */
  private readonly releaseWarmStage?: () => Promise<void>;

  constructor(lesson: Lesson, opts: SessionOptions = {}) {
    this.lesson = lesson;
    this.runtime = opts.runtime ?? realRuntime;
    this.isRoot = opts.isRoot ?? process.getuid?.() === 0;
    this.hostSupport = opts.hostSupport ?? hostSupportFromHost;
    this.workdirPath = opts.workdir ?? workdirFor(lesson.id);
    if (this.isRoot) this.releaseWarmStage = this.runtime.holdWarmStages?.();
  }

  /** The lesson's container while it runs (for the panes and `containy-learn exec`). */
  get container(): Container | undefined {
    const main = this.handles.get(MAIN);
    return main?.container.running ? main.container : undefined;
  }

  /** The container the panes show (a running one-shot included), for their title. */
  get shown(): { name: string; pid: number } | undefined {
    return this.oneShot?.container ?? this.shownContainer();
  }

  /** Host PIDs of what the lesson started and runs now: its containers' first processes, its host processes. */
  get lessonPids(): number[] {
    const all = [...[...this.handles.values()].map((h) => h.container), ...(this.oneShot ? [this.oneShot.container] : [])];
    return all.filter((c) => c.running).map((c) => c.pid);
  }

  /** The lesson's work directory on the host (it exists once a step has used it). */
  get workdir(): string {
    return this.workdirPath;
  }

  /** Why step `index` (0-based) cannot run on this machine, or undefined when it can. */
  cannotRun(index: number): string | undefined {
    const step = this.stepAt(index);
    const needs = new Set<Need>([...this.lesson.needs, ...step.needs]);
    if (needs.has('root') && !this.isRoot) return NEEDS_ROOT;
    if (needs.has('overlay')) {
      const problem = this.hostSupport.overlay();
      if (problem) return problem;
    }
    if (needs.has('cgroups')) {
      const problem = this.hostSupport.cgroups(ACTIONS[step.action.name].controllers?.(step.action.params) ?? []);
      if (problem) return problem;
    }
    if (step.tools.length) {
      const problem = this.hostSupport.tools ? this.hostSupport.tools(step.tools) : toolProblem(step.tools, this.runtime.defaultRootfs());
      if (problem) return problem;
    }
    if (step.hostTools?.length) {
      const problem = this.hostSupport.hostTools ? this.hostSupport.hostTools(step.hostTools) : hostToolProblem(step.hostTools);
      if (problem) return problem;
    }
    return undefined;
  }

  /**
   * Run step `index` (0-based): first the earlier steps it depends on that have not run
   * (a jump: ./depends.ts), quietly; then its action, probes and checks. Never throws for a step that fails.
   */
  runStep(index: number): Promise<StepResult> {
    const run = this.queue.then(() => this.runWithDependencies(index));
    this.queue = run.catch(() => {});
    return run;
  }

  /** The chosen probes of the host and of the container the last step acted on (while it runs). */
  probe(kinds: ProbeKind[]): Probed {
    const host = this.runtime.probe(undefined, kinds);
    const oneShot = this.oneShot;
    if (oneShot) {
      const c = oneShot.container;
      if (c.running) {
        const reading = this.runtime.probe(c.pid, kinds, c.cgroup);
        // Read as it exited, a reading is partial: the one before it is the last whole one.
        if (c.running) oneShot.reading = reading;
      }
      const ended = c.running ? undefined : oneShot.ended;
      return { host, ...(oneShot.reading ? { container: oneShot.reading } : {}), ...(ended ? { ended } : {}) };
    }
    const shown = this.shownContainer();
    return shown ? { host, container: this.runtime.probe(shown.pid, kinds, shown.cgroup) } : { host };
  }

  /** Tear down what the lesson made: containers, host processes, stored changes, the work directory. */
  reset(): Promise<void> {
    const done = this.queue.then(() => this.teardown());
    this.queue = done.catch(() => {});
    return done;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reset();
    await this.releaseWarmStage?.();
  }

  // ---- running a step ----

  private stepAt(index: number): Step {
    const step = this.lesson.steps[index];
    if (!step) {
      throw new UserError(`lesson ${this.lesson.id} has no step ${index + 1}: its steps are 1 to ${this.lesson.steps.length}`);
    }
    return step;
  }

  /** The steps a jump to `index` runs first: its dependencies not run since the last reset. */
  missingDependencies(index: number): number[] {
    this.stepAt(index);
    return dependencies(this.lesson, index).filter((d) => !this.ran.has(d));
  }

  private async runWithDependencies(index: number): Promise<StepResult> {
    if (this.closed) throw new UserError(`the session of lesson ${this.lesson.id} is closed: open the lesson again`);
    // A step this machine cannot run says so itself, before any step it depends on runs.
    const own = this.cannotRun(index);
    if (own) return { ok: false, checks: [], output: '', ms: 0, cannotRun: own };
    const ranFirst: number[] = [];
    const passedOver: number[] = [];
    for (const d of this.missingDependencies(index)) {
      // One that cannot run here is passed over unless this step reads what it keeps (${runc.stdout}):
      // a step that only shares a work-directory path with it (the bundle runc read) does without;
      // so is one that reads what a passed-over step would have kept.
      if ((this.cannotRun(d) && !this.readsHandleOf(index, d)) || passedOver.some((p) => this.readsHandleOf(d, p))) {
        passedOver.push(d);
        continue;
      }
      const before = await this.runNow(d);
      ranFirst.push(d);
      if (!before.ok) {
        const dep = this.lesson.steps[d];
        const why = before.cannotRun ?? before.error ?? before.checks.filter((c) => !c.ok).map((c) => `${c.text} (saw ${c.actual})`).join('; ');
        return { ok: false, checks: [], output: before.output, ms: before.ms, ranFirst, error: `step ${d + 1} ("${dep.title}"), which this step needs first, did not work: ${why}` };
      }
    }
    const result = await this.runNow(index);
    return ranFirst.length ? { ...result, ranFirst } : result;
  }

  /** Does step `index` act on, or read, the handle step `dep` defines? */
  private readsHandleOf(index: number, dep: number): boolean {
    const d = this.lesson.steps[dep];
    const handle = ACTIONS[d.action.name].defines?.(d.action.params);
    if (!handle) return false;
    const step = this.stepAt(index);
    const roots = [...stepReferences(step), ...step.checks.map((c) => String(parseSubject(c.left)[0]))].map((r) => r.split('.')[0]);
    return ACTIONS[step.action.name].uses?.(step.action.params) === handle || roots.includes(handle) || (handle === MAIN && roots.some((r) => r === 'layers' || r === 'running'));
  }

  private async runNow(index: number): Promise<StepResult> {
    if (this.closed) throw new UserError(`the session of lesson ${this.lesson.id} is closed: open the lesson again`);
    const step = this.stepAt(index);
    const cannotRun = this.cannotRun(index);
    if (cannotRun) return { ok: false, checks: [], output: '', ms: 0, cannotRun };

    const started = performance.now();
    this.oneShot = undefined;
    this.ran.add(index);
    const readsOutput = step.checks.some((c) => ['output', 'stdout', 'stderr', 'exit', 'limits', 'security'].includes(String(parseSubject(c.left)[0])));
    let outcome: ActionOutcome;
    try {
      const params = substitute(step.action.params, (ref) => this.variable(ref, step));
      outcome = await ACTIONS[step.action.name].run(this.context(step, readsOutput), params);
    } catch (err) {
      outcome = { error: describeError(err) };
    }
    if (outcome.focus) this.focus = outcome.focus;
    const oneShot = this.oneShot as OneShot | undefined;
    if (oneShot) {
      const how = outcome.limitMessages?.length ? outcome.limitMessages.join('; ') : `exit status ${outcome.exit ?? '?'}`;
      oneShot.ended = { name: oneShot.container.name, how };
      // Without a reading taken while it ran (nobody watched), the panes show what they showed before.
      if (!oneShot.reading) this.oneShot = undefined;
      else if (oneShot.reading.cgroup) withFinalEvents(oneShot.reading.cgroup, (await oneShot.container.exited).events);
    }
    await this.settleExpectedExits(step);

    const read = probesReadBy(step.checks);
    const kinds = [...new Set<ProbeKind>([...step.probes, ...read.host, ...read.container])];
    const snapshots: Partial<Probed> = kinds.length ? this.probe(kinds) : {};
    const stdout = outcome.stdout ?? '';
    const stderr = outcome.stderr ?? '';
    const output = outcome.output ?? stdout + stderr;
    const facts: CheckFacts = {
      output,
      stdout,
      stderr,
      exit: outcome.exit,
      error: outcome.error ?? '',
      limits: (outcome.limitMessages ?? []).join('\n'),
      security: (outcome.securityNotes ?? []).join('\n'),
      files: outcome.files,
      whiteouts: outcome.whiteouts,
      running: this.container !== undefined,
      host: snapshots.host,
      container: snapshots.container,
      handles: this.handleFacts(),
    };
    const checks = step.checks.map((c) => this.evaluate(c, facts, step));
    // A refused action passes only when a check looks at the refusal: otherwise
    // `host.hostname != "box"` would pass although nothing started.
    const errorExpected = step.checks.some((c) => parseSubject(c.left)[0] === 'error');
    const ok = checks.every((c) => c.ok) && (!outcome.error || errorExpected);
    const result: StepResult = { ok, checks, output, ms: Math.round(performance.now() - started) };
    if (outcome.exit !== undefined) result.exit = outcome.exit;
    if (outcome.error) result.error = outcome.error;
    if (outcome.securityNotes?.length) result.securityNotes = outcome.securityNotes;
    if (snapshots.host) result.host = snapshots.host;
    if (snapshots.container) result.container = snapshots.container;
    if (snapshots.ended) result.ended = snapshots.ended;
    return result;
  }

  /** A check, its `${...}` (what an earlier step kept) filled in first. */
  private evaluate(check: Step['checks'][number], facts: CheckFacts, step: Step): ReturnType<typeof evaluateCheck> {
    if (typeof check.right !== 'string' || !referencesIn(check.right).length) return evaluateCheck(check, facts);
    try {
      return evaluateCheck({ ...check, right: substitute(check.right, (ref) => this.variable(ref, step)) }, facts);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      return { text: check.text, ok: false, actual: `(${err.message})` };
    }
  }

  private context(step: Step, wantsOutput: boolean): ActionContext {
    return {
      runtime: this.runtime,
      lesson: this.lesson,
      step,
      wantsOutput,
      workdir: () => this.ensureWorkdir(),
      handle: (name) => this.handles.get(name),
      keep: (name, kind, container) => this.keep(name, kind, container),
      containerName: (suffix) => `lesson${this.lesson.id}${suffix ? `-${suffix}` : ''}`,
      rememberStored: (name) => this.stored.add(name),
      keepResult: (name, result) => this.results.set(name, result),
      runFirst: (handle) => this.runFirst(handle, step),
      showWhileRunning: (container) => (this.oneShot = { container }),
    };
  }

  private keep(name: string, kind: Handle['kind'], container: Container): Handle {
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (b: Buffer) => {
      chunks.push(b);
      size += b.length;
      while (size > OUTPUT_KEEP && chunks.length > 1) size -= chunks.shift()!.length;
    };
    container.on('stdout', collect);
    container.on('stderr', collect);
    const handle: KeptHandle = { kind, container, output: () => Buffer.concat(chunks).toString() };
    container.exited.then((e) => (handle.exitStatus = e.status), () => {});
    this.handles.set(name, handle);
    return handle;
  }

  private handleFacts(): CheckFacts['handles'] {
    const out: CheckFacts['handles'] = {};
    for (const [name, h] of this.handles) {
      if (name === MAIN) continue;
      out[name] = { pid: h.container.pid, alive: h.container.running, ...(h.exitStatus !== undefined ? { exit: h.exitStatus } : {}) };
    }
    for (const [name, r] of this.results) out[name] = { pid: 0, alive: false, ...(r.exit !== undefined ? { exit: r.exit } : {}) };
    return out;
  }

  /** A kill from inside a chroot lands at once, but its reaping is asynchronous: wait for it when a check expects it. */
  private async settleExpectedExits(step: Step): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const c of step.checks) {
      const [root, field] = parseSubject(c.left);
      const expectsDead = (c.op === '==' && c.right === false) || (c.op === '!=' && c.right === true);
      const h = this.handles.get(String(root));
      if (field === 'alive' && expectsDead && h?.container.running) {
        waits.push(Promise.race([h.container.exited, new Promise((r) => setTimeout(r, EXIT_SETTLE_MS))]));
      }
    }
    await Promise.all(waits);
  }

  private shownContainer(): Container | undefined {
    for (const name of [this.focus, MAIN]) {
      const h = this.handles.get(name);
      if (h?.kind === 'container' && h.container.running) return h.container;
    }
    return undefined;
  }

  /** ${workdir}, ${container.pid}, ${layers.upper}, ${victim.pid}... */
  private variable(ref: string, step: Step): string {
    if (ref === 'workdir') return this.ensureWorkdir();
    const [root, field] = ref.split('.');
    const kept = this.results.get(root);
    if (kept && RESULT_FIELDS.includes(field)) {
      const value = kept[field as keyof KeptResult];
      if (value === undefined) throw new ValueError(`\${${ref}}: ${root} has no ${field} (its command never ran)`);
      return String(value);
    }
    const name = root === 'layers' ? MAIN : root;
    const h = this.handles.get(name);
    const who = name === MAIN ? 'the lesson\'s container' : name;
    const runFirst = this.runFirst(name, step);
    if (!h) throw new ValueError(`\${${ref}}: ${who} has not been started${runFirst}`);
    if (field === 'pid') {
      if (!h.container.running) throw new ValueError(`\${${ref}}: ${who} is not running${runFirst}`);
      return String(h.container.pid);
    }
    if (field === 'name') return h.container.name;
    if (field === 'address') {
      const address = h.container.running ? h.container.network?.address : undefined;
      if (!address) throw new ValueError(`\${${ref}}: ${who} has no address on the bridge (start it with network: bridge)${runFirst}`);
      return address;
    }
    const layers = h.container.layers;
    if (!layers) throw new ValueError(`\${${ref}}: ${who} has no overlay layers (it was started without an overlay)`);
    return layers[field as keyof typeof layers];
  }

  /** `: run step N ("title") first` for the step before `step` that starts `handle`, or ''. */
  private runFirst(handle: string, step: Step): string {
    const starter = this.lesson.steps.find((s) => s.index < step.index && ACTIONS[s.action.name].defines?.(s.action.params) === handle);
    return starter ? `: run step ${starter.index + 1} ("${starter.title}") first` : '';
  }

  // ---- the work directory and teardown ----

  private ensureWorkdir(): string {
    // Making its work directory, a session clears what killed sessions left there; what
    // it cannot remove (a mount inside) waits for `containy-learn cleanup`, which says why.
    // Only in lessonsDir(): a directory given in the options is the caller's.
    if (this.runtime.makeDirectory(this.workdirPath) && path.dirname(this.workdirPath) === lessonsDir()) removeStaleWorkdirs(this.runtime);
    return this.workdirPath;
  }

  private async teardown(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    this.results.clear();
    this.focus = MAIN;
    this.oneShot = undefined;
    this.ran.clear();
    const stops = await Promise.allSettled(handles.map((h) => h.container.stop(STOP_GRACE_MS)));
    const problems: string[] = stops.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => describeError(s.reason));
    const storedNow = new Set(this.stored.size ? this.runtime.storedContainers() : []);
    for (const name of this.stored) {
      if (!storedNow.has(name)) continue;
      try {
        this.runtime.removeStored(name);
      } catch (err) {
        problems.push(describeError(err));
      }
    }
    this.stored.clear();
    try {
      this.runtime.removeTree(this.workdirPath);
    } catch (err) {
      problems.push(describeError(err));
    }
    if (problems.length) throw new UserError(`lesson ${this.lesson.id} could not remove everything it made: ${problems.join('; ')}`);
  }
}
