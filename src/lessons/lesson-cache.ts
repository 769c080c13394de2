// The package's lessons as the loader parsed them at build time (dist/lessons.json),
// so that the menu's first frame neither loads the loader with its checks, values
// and action table (~9 ms) nor parses every lesson file (~17 ms; Node 22, this
// machine). The copy is used only while every lesson file has the size and
// mtime it had when the copy was made; an edited, added or removed lesson, or
// another lessons directory, is parsed from its markdown as before, with the
// loader's precise errors. `npm run build` writes it (write-lesson-cache.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LESSONS_DIR, lessonFileNames } from './lesson-files.js';
import type { Lesson } from './types.js';

/** dist/lessons.json beside dist/lessons/ (from src/, under vitest, a file that is never there). */
export const LESSON_CACHE_FILE = fileURLToPath(new URL('../lessons.json', import.meta.url));
const FORMAT = 1;

/** Each lesson file's name, size and mtime: the copy is the loader's result for exactly these. */
type FileKey = [name: string, size: number, mtimeMs: number];

interface CacheFile {
  format: number;
  files: FileKey[];
  /** `file` is the name within the directory, so the copy survives the package being moved. */
  lessons: Lesson[];
}

function fileKeys(dir: string): FileKey[] {
  return lessonFileNames(fs.readdirSync(dir)).map((name) => {
    const st = fs.statSync(path.join(dir, name));
    return [name, st.size, st.mtimeMs];
  });
}

// A check's `matches` value is a RegExp, which JSON would turn into {}.
function encode(_key: string, value: unknown): unknown {
  return value instanceof RegExp ? { $regexp: value.source, flags: value.flags } : value;
}
function decode(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && '$regexp' in value) {
    const { $regexp, flags } = value as { $regexp: string; flags: string };
    return new RegExp($regexp, flags);
  }
  return value;
}

/** The lessons from the copy at `cacheFile`, or undefined when it is missing, unreadable or not for the files now in `dir`. */
export function readLessonCache(dir: string = DEFAULT_LESSONS_DIR, cacheFile: string = LESSON_CACHE_FILE): Lesson[] | undefined {
  let cache: CacheFile;
  try {
    cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8'), decode) as CacheFile;
  } catch {
    return undefined;
  }
  if (cache.format !== FORMAT || JSON.stringify(cache.files) !== JSON.stringify(fileKeys(dir))) return undefined;
  return cache.lessons.map((lesson) => ({ ...lesson, file: path.join(dir, lesson.file) }));
}

/** Writes the copy of `lessons`, just loaded from `dir` (whose files must not have changed since). */
export function writeLessonCache(lessons: Lesson[], dir: string = DEFAULT_LESSONS_DIR, cacheFile: string = LESSON_CACHE_FILE): void {
  const cache: CacheFile = { format: FORMAT, files: fileKeys(dir), lessons: lessons.map((l) => ({ ...l, file: path.relative(dir, l.file) })) };
  fs.writeFileSync(cacheFile, JSON.stringify(cache, encode));
}

/** The package's lessons: from the build's copy when it is current, else parsed (and a lesson's problem thrown as the loader throws it). */
export async function loadPackageLessons(): Promise<Lesson[]> {
  const cached = readLessonCache();
  if (cached) return cached;
  const { loadLessons } = await import('./loader.js');
  return loadLessons();
}
