// Lessons as plain text, for `containy-learn list` and `containy-learn lesson N`
// when stdout is not a terminal (a pipe, a file, a screen reader). The markdown
// is left as it is: it reads well as text.
import { UserError } from '../runtime/errors.js';
import { loadLessons } from './loader.js';
import type { Lesson } from './types.js';

/** How far a learner got in a lesson (the TUI keeps this; the list only shows it). */
export interface LessonProgress {
  status: 'not started' | 'in progress' | 'done';
  /** 0-based step to resume at, while in progress. */
  step?: number;
}

function describeAction(lesson: Lesson, index: number): string {
  const { name, params } = lesson.steps[index].action;
  const parts = Object.entries(params).map(([k, v]) => `${k}: ${typeof v === 'string' && !v.includes('\n') ? v : JSON.stringify(v)}`);
  return parts.length ? `${name} (${parts.join(', ')})` : name;
}

export function formatLessonPlain(lesson: Lesson): string {
  const out: string[] = [];
  out.push(`Lesson ${lesson.id}: ${lesson.title}`, lesson.summary);
  if (lesson.needs.length) out.push(`Needs: ${lesson.needs.join(', ')}`);
  if (lesson.intro) out.push('', lesson.intro);
  lesson.steps.forEach((step, i) => {
    out.push('', `--- Step ${i + 1} of ${lesson.steps.length}: ${step.title} ---`);
    if (step.prose) out.push('', step.prose);
    out.push('', `  runs:   ${describeAction(lesson, i)}`);
    for (const c of step.checks) out.push(`  checks: ${c.text}`);
    for (const h of step.hints) out.push(`  hint:   ${h}`);
  });
  return out.join('\n') + '\n';
}

function statusText(lesson: Lesson, p: LessonProgress | undefined): string {
  if (!p) return 'not started';
  if (p.status === 'in progress' && p.step !== undefined) return `step ${p.step + 1} of ${lesson.steps.length}`;
  return p.status;
}

export function formatLessonListPlain(lessons: Lesson[], progress?: Record<number, LessonProgress>): string {
  const titleWidth = Math.max(6, ...lessons.map((l) => l.title.length));
  const rows = lessons.map((l) => {
    const status = progress ? `${statusText(l, progress[l.id]).padEnd(14)}  ` : '';
    return `${String(l.id).padStart(2)}  ${l.title.padEnd(titleWidth)}  ${status}${l.summary}`;
  });
  const header = ` #  ${'lesson'.padEnd(titleWidth)}  ${progress ? `${'status'.padEnd(14)}  ` : ''}what it teaches`;
  const footer = lessons.length ? '\nOpen one with `sudo containy-learn lesson N`.' : 'No lessons found.';
  return [header, ...rows, footer].join('\n') + '\n';
}

export function findLesson(lessons: Lesson[], id: number): Lesson {
  const lesson = lessons.find((l) => l.id === id);
  if (!lesson) {
    const range = lessons.length ? `lessons are ${lessons.map((l) => l.id).join(', ')}` : 'no lessons are installed';
    throw new UserError(`there is no lesson ${id}: ${range} (see \`containy-learn list\`)`);
  }
  return lesson;
}

/** `containy-learn lesson N` without a terminal. Returns the exit code. */
export function printLessonPlain(id: number, out: NodeJS.WritableStream, dir?: string): number {
  out.write(formatLessonPlain(findLesson(loadLessons(dir), id)));
  return 0;
}

/** `containy-learn list` without a terminal. Returns the exit code. */
export function printLessonListPlain(out: NodeJS.WritableStream, progress?: Record<number, LessonProgress>, dir?: string): number {
  out.write(formatLessonListPlain(loadLessons(dir), progress));
  return 0;
}
