// `containy-learn lessons check [DIR]`: validate lesson files the way the
// workshop loads them, for authors, without root and without running a step
// (as rustlings' `dev check` does for its exercises).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from './args.js';
import { UserError } from '../runtime/errors.js';
import { DEFAULT_LESSONS_DIR, lessonFileNames, lintLessons } from '../lessons/loader.js';
import { displayPath } from '../lessons/errors.js';

export async function lessonsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'check') return checkCommand(rest);
  throw new UserError(sub === undefined
    ? 'lessons: give a subcommand: containy-learn lessons check [DIR]'
    : `lessons: unknown subcommand '${sub}': use containy-learn lessons check [DIR]`);
}

/** Exit 0 with one summary line when every lesson loads; else each problem, and 1. */
function checkCommand(argv: string[]): number {
  const p = parseArgs('lessons', argv, [], { stopAtPositional: false });
  if (p.rest.length > 1) throw new UserError(`lessons check: give one directory, not ${p.rest.length}: containy-learn lessons check [DIR]`);
  const dir = path.resolve(p.rest[0] ?? DEFAULT_LESSONS_DIR);
  const shown = displayPath(dir);
  let isDirectory: boolean;
  try {
    isDirectory = fs.statSync(dir).isDirectory();
  } catch {
    throw new UserError(`lessons check: there is no directory ${shown}: give the directory that holds the NN-slug.md lesson files`);
  }
  if (!isDirectory) throw new UserError(`lessons check: ${shown} is a file, not a directory: give the directory that holds it`);
  const files = lessonFileNames(fs.readdirSync(dir));
  if (!files.length) {
    process.stderr.write(`containy-learn: lessons check: no lesson files (NN-slug.md) in ${shown}\n`);
    return 1;
  }
  const { lessons, errors } = lintLessons(dir);
  for (const err of errors) process.stderr.write(`${err.message}\n`);
  if (errors.length) {
    process.stdout.write(`${shown}: ${plural(errors.length, 'problem')} in ${plural(files.length, 'lesson file')}\n`);
    return 1;
  }
  const steps = lessons.reduce((n, l) => n + l.steps.length, 0);
  process.stdout.write(`${shown}: ${plural(lessons.length, 'lesson')}, ${plural(steps, 'step')}, no problems\n`);
  return 0;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
