// Build step (`npm run build`, after tsc): parses the package's lessons once and
// keeps the result as dist/lessons.json for the menu (lesson-cache.ts). A lesson
// with a problem gets no copy: the workshop then parses the files itself and
// shows the problem as it always did, so a broken lesson does not break the build.
import fs from 'node:fs';
import { displayPath } from './errors.js';
import { LESSON_CACHE_FILE, writeLessonCache } from './lesson-cache.js';
import { lintLessons } from './loader.js';

fs.rmSync(LESSON_CACHE_FILE, { force: true });
const { lessons, errors } = lintLessons();
if (errors.length) {
  process.stdout.write(`write-lesson-cache: no copy of the lessons (${errors[0].message}); the workshop will parse them at each start\n`);
} else {
  writeLessonCache(lessons);
  process.stdout.write(`write-lesson-cache: ${displayPath(LESSON_CACHE_FILE)} (${lessons.length} lessons)\n`);
}
