// `containy-learn check-all [--lesson N]`: rehearse every step of every lesson
// for real, without a terminal, the way an instructor does before a talk and CI
// does on every change. A line per step as it goes, a table at the end, the
// host left as found, exit 0 only when every step passed.
import { performance } from 'node:perf_hooks';
import { UserError, signalStatus } from '../runtime/errors.js';
import { LessonSession, type SessionOptions } from './engine.js';
import { loadLessons } from './loader.js';
import { realRuntime } from './runtime-like.js';
import { findLesson } from './plain.js';
import type { Lesson, StepResult } from './types.js';

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
}

interface Row {
  lesson: number;
  step: number;
  title: string;
  result: 'pass' | 'FAIL' | 'cannot run';
  ms: number;
  reason: string;
}

export async function checkAll(opts: CheckAllOptions): Promise<number> {
  const all = loadLessons(opts.lessonsDir);
  const lessons = opts.lesson === undefined ? all : [findLesson(all, opts.lesson)];
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
      try {
        for (const step of lesson.steps) {
          if (stoppedBy) break;
          const label = `lesson ${lesson.id}  step ${step.index + 1}/${lesson.steps.length}  ${step.title}`;
          opts.out.write(`${label} ... `);
          const row = toRow(lesson, step.index, await session.runStep(step.index));
          rows.push(row);
          opts.out.write(`${paint(row.result)} (${row.ms} ms)${row.reason ? `: ${row.reason}` : ''}\n`);
        }
      } finally {
        try {
          await session.close();
        } catch (err) {
          rows.push({ lesson: lesson.id, step: 0, title: 'teardown', result: 'FAIL', ms: 0, reason: (err as Error).message });
          opts.out.write(`lesson ${lesson.id} teardown: ${paint('FAIL')}: ${(err as Error).message}\n`);
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
  opts.out.write(`\n${passed} of ${total} steps passed in ${seconds} s${stoppedBy ? ` (stopped by ${stoppedBy})` : ''}\n`);
  if (stoppedBy) return (opts.signal?.reason as { exitCode?: number } | undefined)?.exitCode ?? signalStatus('SIGINT');
  return passed === total && rows.every((r) => r.result === 'pass') ? 0 : 1;
}

function toRow(lesson: Lesson, index: number, r: StepResult): Row {
  const base = { lesson: lesson.id, step: index + 1, title: lesson.steps[index].title, ms: r.ms };
  if (r.cannotRun) return { ...base, result: 'cannot run', reason: r.cannotRun };
  if (r.ok) return { ...base, result: 'pass', reason: '' };
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.text} (saw ${c.actual})`);
  const reasons = [...(r.error ? [`error: ${r.error}`] : []), ...failed];
  if (r.exit !== undefined && r.exit !== 0 && failed.length) reasons.push(`exit ${r.exit}`);
  const printed = r.output.trim().split('\n').slice(-3).join(' | ');
  if (failed.length && printed) reasons.push(`output: ${printed.length > 200 ? printed.slice(-200) : printed}`);
  return { ...base, result: 'FAIL', reason: reasons.join('; ') || 'failed' };
}

function formatTable(rows: Row[], paint: (result: string) => string): string {
  const titleWidth = Math.min(40, Math.max(5, ...rows.map((r) => r.title.length)));
  const lines = [`lesson  step  ${'title'.padEnd(titleWidth)}  result      time      reason`];
  for (const r of rows) {
    const title = r.title.length > titleWidth ? `${r.title.slice(0, titleWidth - 1)}…` : r.title.padEnd(titleWidth);
    const time = `${r.ms} ms`.padEnd(8);
    lines.push(`${String(r.lesson).padStart(6)}  ${String(r.step).padStart(4)}  ${title}  ${paint(r.result.padEnd(10))}  ${time}  ${r.reason}`.trimEnd());
  }
  return lines.join('\n') + '\n';
}

function painter(color: boolean): (text: string) => string {
  if (!color) return (t) => t;
  return (t) => {
    const code = t.trim() === 'pass' ? 32 : t.trim() === 'FAIL' ? 31 : 33;
    return `\x1b[${code}m${t}\x1b[0m`;
  };
}
