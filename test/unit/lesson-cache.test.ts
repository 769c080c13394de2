// The build's copy of the parsed lessons (dist/lessons.json), which the menu
// reads instead of parsing: it must be exactly what the loader gives, and it
// must not be used once a lesson file has changed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readLessonCache, writeLessonCache } from '../../src/lessons/lesson-cache.js';
import { DEFAULT_LESSONS_DIR, loadLessons } from '../../src/lessons/loader.js';

let dir: string;
let lessonsDir: string;
let cacheFile: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-lesson-cache-'));
  lessonsDir = path.join(dir, 'lessons');
  fs.cpSync(DEFAULT_LESSONS_DIR, lessonsDir, { recursive: true, preserveTimestamps: true });
  cacheFile = path.join(dir, 'lessons.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the lesson cache', () => {
  it('gives back exactly what the loader parsed, RegExp checks included, with paths in the directory it is read for', () => {
    const parsed = loadLessons(lessonsDir);
    writeLessonCache(parsed, lessonsDir, cacheFile);
    const cached = readLessonCache(lessonsDir, cacheFile);
    expect(cached).toStrictEqual(parsed);
    const regexps = parsed.flatMap((l) => l.steps.flatMap((s) => s.checks)).filter((c) => c.right instanceof RegExp);
    expect(regexps.length).toBeGreaterThan(0);
    // Moved with the package: the same copy serves the new place.
    const moved = path.join(dir, 'moved');
    fs.renameSync(lessonsDir, moved);
    expect(readLessonCache(moved, cacheFile)?.[0].file).toBe(path.join(moved, path.basename(parsed[0].file)));
  });

  it('is not used once a lesson file is edited, added or removed, or when it is missing or damaged', () => {
    writeLessonCache(loadLessons(lessonsDir), lessonsDir, cacheFile);
    const first = path.join(lessonsDir, fs.readdirSync(lessonsDir).filter((n) => /^\d.*\.md$/.test(n)).sort()[0]);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(first, later, later);
    expect(readLessonCache(lessonsDir, cacheFile)).toBeUndefined();

    writeLessonCache(loadLessons(lessonsDir), lessonsDir, cacheFile);
    expect(readLessonCache(lessonsDir, cacheFile)).toBeDefined();
    fs.writeFileSync(path.join(lessonsDir, '99-new.md'), fs.readFileSync(first));
    expect(readLessonCache(lessonsDir, cacheFile)).toBeUndefined();
    fs.rmSync(path.join(lessonsDir, '99-new.md'));
    expect(readLessonCache(lessonsDir, cacheFile)).toBeDefined();
    fs.rmSync(first);
    expect(readLessonCache(lessonsDir, cacheFile)).toBeUndefined();

    fs.writeFileSync(cacheFile, '{"format": 1, "files": [');
    expect(readLessonCache(lessonsDir, cacheFile)).toBeUndefined();
    expect(readLessonCache(lessonsDir, path.join(dir, 'absent.json'))).toBeUndefined();
  });

  it('ignores files that are not lessons (FORMAT.md): editing one keeps the copy', () => {
    writeLessonCache(loadLessons(lessonsDir), lessonsDir, cacheFile);
    fs.appendFileSync(path.join(lessonsDir, 'FORMAT.md'), '\nmore\n');
    expect(readLessonCache(lessonsDir, cacheFile)).toBeDefined();
  });
});
