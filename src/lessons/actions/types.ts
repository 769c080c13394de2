// What an action is, what the engine hands it, and what it gives back.
import type { Container } from '../../runtime/index.js';
import type { ParamSpec } from '../params.js';
import type { RuntimeLike } from '../runtime-like.js';
import type { Lesson, Need, Step } from '../types.js';

/** A container or host process a step started, kept for later steps (`${victim.pid}`, `exec in: second`). */
export interface Handle {
  kind: 'container' | 'host-process';
  container: Container;
  /** What it printed so far (the tail, when it prints a lot). */
  output: () => string;
}

/** What the engine gives an action to work with. */
export interface ActionContext {
  /** The only way to the host: containers, and the work directory's files. */
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
  /** Keep a one-shot's output and exit status for later checks (`${runc.stdout}`, `runc.exit`). */
  keepResult(name: string, result: KeptResult): void;
  /** A named container's stored changes must go when the lesson is reset. */
  rememberStored(name: string): void;
  /** `: run step 2 ("Start a victim") first` for the earlier step that starts `handle`, or ''. */
  runFirst(handle: string): string;
  /** A one-shot container the panes show while it runs (its last reading stays after it exits). */
  showWhileRunning(container: Container): void;
  /** A check reads `output` or `exit` of a start: wait a little for a short command to finish. */
  readonly wantsOutput: boolean;
}

/** What a one-shot step kept with `as:`. */
export interface KeptResult {
  stdout: string;
  stderr: string;
  output: string;
  exit?: number;
}

export interface ActionOutcome {
  /** The action's own report; default: stdout then stderr. */
  output?: string;
  stdout?: string;
  stderr?: string;
  exit?: number;
  error?: string;
  limitMessages?: string[];
  /** explainRefusals' sentences for the output. */
  securityNotes?: string[];
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
