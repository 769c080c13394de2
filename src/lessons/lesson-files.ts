// Which files of a lessons directory are lessons, and where the package's own
// lessons live: shared by the loader and by the build-time copy of its result
// (lesson-cache.ts), which must not load the loader to find them.
import { fileURLToPath } from 'node:url';

/** The package's lessons/ (dist/lessons/ and src/lessons/ are both two levels below the package). */
export const DEFAULT_LESSONS_DIR = fileURLToPath(new URL('../../lessons', import.meta.url));

/** Files in lessons/ that are about lessons, not lessons. */
const NOT_LESSONS = new Set(['format.md', 'readme.md']);

/** The names in a directory listing that are lesson files. */
export function lessonFileNames(names: string[]): string[] {
  return names.filter((n) => n.endsWith('.md') && !NOT_LESSONS.has(n.toLowerCase())).sort();
}

