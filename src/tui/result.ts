// A step's result as document rows: whether it passed, each check with what
// it saw, what the command printed, the runtime's refusal, or why the step
// cannot run here. Marks are characters (✓ ✗ !) so NO_COLOR loses nothing.
import { stepList } from '../lessons/step-list.js';
import type { DocRow } from './markdown.js';
import { wrapLine } from './text.js';
import type { StepResult } from './types.js';

const OUTPUT_MAX_LINES = 40;

/** Control characters (ESC above all) from a command's output must not reach the terminal as escapes. */
export function sanitize(text: string): string {
  return text.replace(/\t/g, '    ').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

function wrapped(text: string, width: number, kind: DocRow['kind'], firstPrefix = '', restIndent = firstPrefix.length): DocRow[] {
  return sanitize(text)
    .split('\n')
    .flatMap((line, i) => wrapLine((i === 0 ? firstPrefix : ' '.repeat(restIndent)) + line, width, restIndent))
    .map((row) => ({ text: row, kind }));
}

/** A value short enough to sit beside its check on one line. */
const SHORT_VALUE = 24;

function isShort(value: string): boolean {
  return value.length <= SHORT_VALUE && !value.includes('\n');
}

export function resultRows(result: StepResult, width: number): DocRow[] {
  const rows: DocRow[] = [];
  if (result.cannotRun) {
    rows.push({ text: '── cannot run here ──', kind: 'warn' });
    rows.push(...wrapped(result.cannotRun, width, 'warn', '! '));
    return rows;
  }
  const verdict = result.ok ? '✓ passed' : '✗ not yet: a check failed';
  rows.push({ text: `── result: ${verdict} · ${Math.round(result.ms)} ms ──`, kind: result.ok ? 'ok' : 'fail' });
  if (result.ranFirst?.length) rows.push(...wrapped(`ran ${stepList(result.ranFirst)} for you first: this step needs what ${result.ranFirst.length > 1 ? 'they' : 'it'} made`, width, 'dim'));
  for (const check of result.checks) {
    // A pass is one line: what was checked. What was seen only when it failed, or when it is short
    // (the output is shown once, below, not inside every check).
    const seen = !check.ok || isShort(check.actual) ? `   (saw: ${check.actual})` : '';
    rows.push(...wrapped(`${check.text}${seen}`, width, check.ok ? 'ok' : 'fail', check.ok ? '✓ ' : '✗ '));
  }
  if (result.error) rows.push(...wrapped(result.error, width, 'fail', 'error: ', 2));
  if (result.exit !== undefined) rows.push({ text: `exit status ${result.exit}`, kind: 'dim' });
  for (const note of result.securityNotes ?? []) rows.push(...wrapped(note, width, 'warn', 'security: ', 2));
  const output = result.output.replace(/\n+$/, '');
  if (output) {
    const lines = output.split('\n');
    rows.push({ text: 'output:', kind: 'dim' });
    if (lines.length > OUTPUT_MAX_LINES) rows.push({ text: `  … ${lines.length - OUTPUT_MAX_LINES} earlier lines`, kind: 'dim' });
    // Output is shown as printed: long lines are continued on the next row, not re-flowed.
    for (const line of lines.slice(-OUTPUT_MAX_LINES)) {
      const chars = [...sanitize(line)];
      const room = Math.max(10, width - 2);
      if (chars.length === 0) rows.push({ text: '', kind: 'output' });
      for (let i = 0; i < chars.length; i += room) rows.push({ text: '  ' + chars.slice(i, i + room).join(''), kind: 'output' });
    }
  }
  return rows;
}

export function hintRows(hints: string[], shown: number, width: number): DocRow[] {
  return hints.slice(0, shown).flatMap((hint, i) => wrapped(hint, width, 'warn', `hint ${i + 1}/${hints.length}: `, 2));
}

/** A step's speaker notes (presenter mode), wrapped, paragraphs kept. */
export function notesRows(notes: string, width: number): DocRow[] {
  return wrapped(notes, width, 'warn', '  ', 2);
}
