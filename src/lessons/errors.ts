import path from 'node:path';
import { UserError } from '../runtime/errors.js';
import { PACKAGE_ROOT } from '../runtime/paths.js';

/** A lesson file that does not follow lessons/FORMAT.md. Names the file, the step and the problem. */
export class LessonError extends UserError {
  constructor(
    readonly file: string,
    readonly problem: string,
    /** 1-based step number, when the problem is inside a step. */
    readonly step?: number,
    readonly stepTitle?: string,
    /** 1-based line in the file. */
    readonly line?: number,
  ) {
    super(`${displayPath(file)}${line ? `:${line}` : ''}${step ? `, step ${step}${stepTitle ? ` "${stepTitle}"` : ''}` : ''}: ${problem}`);
    this.name = 'LessonError';
  }
}

/** Paths inside the package are shown relative to it (lessons/02-unshare.md), others as given. */
export function displayPath(file: string): string {
  const rel = path.relative(PACKAGE_ROOT, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}
