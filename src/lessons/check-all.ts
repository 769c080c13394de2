// `containy-learn check-all [--lesson N]`: rehearse every step of every lesson
// for real, without a terminal, the way an instructor does before a talk and CI
// does on every change. A line per step as it goes, a table at the end, the
// host left as found, exit 0 only when every step passed. It opens with the
// facts of the machine that decide the lessons, so two tables can be compared.
// Everything it prints fits 80 columns.
import { performance } from 'node:perf_hooks';
import { hostFactLines, readHostFacts, UserError, wrap, type HostFacts } from '../runtime/index.js';
import { signalStatus } from '../runtime/errors.js';
import { ACTIONS } from './actions.js';
import { MAIN } from './params.js';
import { LessonSession, type SessionOptions } from './engine.js';
import { loadLessons } from './loader.js';
import { realRuntime } from './runtime-like.js';
import { findLesson } from './plain.js';
import type { Lesson, Step, StepResult } from './types.js';
import { stepList } from './step-list.js';
import { stepReferences } from './variables.js';

export { formatLessonPlain, formatLessonListPlain } from './plain.js';

export interface CheckAllOptions {
  lesson?: number;
  out: NodeJS.WritableStream;
  color: boolean;
  /** Default: lessons/ of the package. */
  lessonsDir?: string;
  /** For tests: a fake runtime, a work directory... */
  session?: SessionOptions;
  /** Stop after the running step (the CLI's SIGINT/SIGTERM/SIGHUP); its reason may carry `signal` and `exitCode`. */
  signal?: AbortSignal;
  /** Default: read from this machine (tests pass their own). */
  facts?: HostFacts;
  /**
   * Reach every step by a jump, as an instructor does with `lesson N --step M`: the lesson is
   * reset before each step, which runs only the earlier steps it depends on first (./depends.ts).
   */
  jumps?: boolean;
  /** Lessons left out (on a machine where their steps cannot run; its caller says why). */
  except?: number[];
}

interface Row {
  lesson: number;
  step: number;
  title: string;
  result: 'pass' | 'FAIL' | 'cannot run' | 'skipped';
  ms: number;
  reason: string;
  /** A FAIL whose action was refused: what it was to start does not exist. */
  madeNothing?: boolean;
}

const WIDTH = 80;

export async function checkAll(opts: CheckAllOptions): Promise<number> {
  const all = loadLessons(opts.lessonsDir);
  for (const id of opts.except ?? []) findLesson(all, id); // an unknown number is refused, not ignored
  const lessons = (opts.lesson === undefined ? all : [findLesson(all, opts.lesson)]).filter((l) => !opts.except?.includes(l.id));
  const isRoot = opts.session?.isRoot ?? process.getuid?.() === 0;
  if (!isRoot && lessons.some((l) => l.needs.includes('root') || l.steps.some((s) => s.needs.includes('root')))) {
    throw new UserError('check-all runs every step for real, and steps need root: run `sudo containy-learn check-all`');
  }
  const paint = painter(opts.color);
  const rows: Row[] = [];
  const started = performance.now();

  // Told through the AbortSignal, we stop ourselves: the sessions must be closed before the process exits.
  let stoppedBy: string | undefined;
  const runtime = opts.session?.runtime ?? realRuntime;
  const facts = opts.facts ?? readHostFacts({ rootfs: runtime.defaultRootfs() });
  opts.out.write(`This machine:\n${hostFactLines(facts, WIDTH - 2).map((l) => `  ${l}`).join('\n')}\n\n`);
  if (opts.except?.length) opts.out.write(`left out (--except): lesson ${opts.except.join(', ')}\n\n`);
  const onAbort = () => {
    if (stoppedBy) return;
    stoppedBy = (opts.signal?.reason as { signal?: string } | undefined)?.signal ?? 'SIGINT';
    opts.out.write(`\n${stoppedBy}: stopping after this step and removing what the lessons made...\n`);
    // Stopping every container ends a long step (a memory hog) at once; the sessions then clean up.
    void runtime.stopAll().catch(() => {});
  };
  opts.signal?.addEventListener('abort', onAbort);

  try {
    for (const lesson of lessons) {
      if (stoppedBy) break;
      const session = new LessonSession(lesson, { ...opts.session, isRoot });
      // A handle (a container, a host process) whose step made nothing: the steps that use it are skipped.
      const broken = new Map<string, Row>();
      try {
        for (const step of lesson.steps) {
          if (stoppedBy) break;
          const n = lesson.steps.length;
          const label = `lesson ${lesson.id} step ${step.index + 1}/${n}: `;
          opts.out.write(`${label}${fit(step.title, WIDTH - label.length - LONGEST_SKIP.length)} ... `);
          if (opts.jumps) await session.reset();
          const blocker = opts.jumps || session.cannotRun(step.index) ? undefined : handlesUsed(step).map((h) => broken.get(h)).find(Boolean);
          const row = blocker ? skippedRow(lesson, step, blocker) : toRow(lesson, step.index, await session.runStep(step.index));
          rows.push(row);
          const defined = ACTIONS[step.action.name]?.defines?.(step.action.params);
          if (defined) {
            if (row.result === 'pass' || (row.result === 'FAIL' && !row.madeNothing)) broken.delete(defined);
            else broken.set(defined, row.result === 'skipped' ? blocker! : row);
          }
          if (row.result === 'skipped') opts.out.write(`${paint(`skipped (${row.reason})`)}\n`);
          else opts.out.write(`${paint(`${row.result} (${row.ms} ms)`)}\n${row.reason ? indented(row.reason, 4) : ''}`);
        }
      } finally {
        try {
          await session.close();
        } catch (err) {
          rows.push({ lesson: lesson.id, step: 0, title: 'teardown', result: 'FAIL', ms: 0, reason: (err as Error).message });
          opts.out.write(`lesson ${lesson.id} teardown: ${paint('FAIL')}\n${indented((err as Error).message, 4)}`);
        }
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }

  opts.out.write('\n' + formatTable(rows, paint));
  const passed = rows.filter((r) => r.result === 'pass').length;
  const total = lessons.reduce((n, l) => n + l.steps.length, 0);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const notRun = (['skipped', 'cannot run'] as const).map((r) => [r, rows.filter((x) => x.result === r).length] as const).filter(([, c]) => c > 0);
  const others = notRun.length ? ` (${notRun.map(([r, c]) => `${c} ${r}`).join(', ')})` : '';
  opts.out.write(`\n${passed} of ${total} steps passed${others} in ${seconds} s${stoppedBy ? `, stopped by ${stoppedBy}` : ''}\n`);
  if (stoppedBy) return (opts.signal?.reason as { exitCode?: number } | undefined)?.exitCode ?? signalStatus('SIGINT');
  return passed === total && rows.every((r) => r.result === 'pass') ? 0 : 1;
}

function toRow(lesson: Lesson, index: number, r: StepResult): Row {
  const base = { lesson: lesson.id, step: index + 1, title: lesson.steps[index].title, ms: r.ms };
  if (r.cannotRun) return { ...base, result: 'cannot run', reason: r.cannotRun };
  const first = r.ranFirst?.length ? `ran ${stepList(r.ranFirst)} first` : '';
  if (r.ok) return { ...base, result: 'pass', reason: first };
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.text} (saw ${c.actual})`);
  const reasons = [...(r.error ? [`error: ${r.error}`] : []), ...failed];
  if (r.exit !== undefined && r.exit !== 0 && failed.length) reasons.push(`exit ${r.exit}`);
  const printed = r.output.trim().split('\n').slice(-3).join(' | ');
  if (failed.length && printed) reasons.push(`output: ${printed.length > 200 ? printed.slice(-200) : printed}`);
  if (first) reasons.unshift(first);
  return { ...base, result: 'FAIL', reason: reasons.join('; ') || 'failed', madeNothing: r.error !== undefined };
}


/** The handles a step acts on or names in a ${...} (of a parameter or a check's value): made by earlier steps. */
function handlesUsed(step: Step): string[] {
  const used = new Set<string>();
  const acted = ACTIONS[step.action.name]?.uses?.(step.action.params);
  if (acted) used.add(acted);
  for (const ref of stepReferences(step)) {
    const root = ref.split('.')[0];
    if (root !== 'workdir') used.add(root === 'layers' ? MAIN : root);
  }
  return [...used];
}

function skipReason(blocker: Pick<Row, 'step' | 'result'>): string {
  return `step ${blocker.step} ${blocker.result === 'cannot run' ? 'could not run here' : 'failed'}`;
}

/** What a skipped step's line ends in at its longest, so that its title is cut to fit 80 columns. */
const LONGEST_SKIP = ` ... skipped (${skipReason({ step: 99, result: 'cannot run' })})`;

function skippedRow(lesson: Lesson, step: Step, blocker: Row): Row {
  return { lesson: lesson.id, step: step.index + 1, title: step.title, result: 'skipped', ms: 0, reason: skipReason(blocker) };
}

/** One line per step; a reason on the lines below it, so every line fits 80 columns. */
function formatTable(rows: Row[], paint: (result: string) => string): string {
  const head = 'lesson  step  result      time      ';
  const titleWidth = WIDTH - head.length;
  const lines = [`${head}title`];
  for (const r of rows) {
    const time = (r.result === 'skipped' ? '' : `${r.ms} ms`).padEnd(8);
    lines.push(`${String(r.lesson).padStart(6)}  ${String(r.step).padStart(4)}  ${paint(r.result.padEnd(10))}  ${time}  ${fit(r.title, titleWidth)}`.trimEnd());
    if (r.reason) lines.push(indented(r.result === 'skipped' ? `skipped (${r.reason})` : r.reason, 8).trimEnd());
  }
  return lines.join('\n') + '\n';
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** `text` wrapped to 80 columns, each line indented by `by`, ending in a newline. */
function indented(text: string, by: number): string {
  return wrap(' '.repeat(by), text, WIDTH).join('\n') + '\n';
}

function painter(color: boolean): (text: string) => string {
  if (!color) return (t) => t;
  return (t) => {
    const code = t.startsWith('pass') ? 32 : t.startsWith('FAIL') ? 31 : 33;
    return `\x1b[${code}m${t}\x1b[0m`;
  };
}
