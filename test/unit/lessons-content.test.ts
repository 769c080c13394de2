// Every lesson in lessons/ must load and validate: a lesson that stops
// following lessons/FORMAT.md turns the suite red, naming file, step and problem.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { DEFAULT_LESSONS_DIR, lessonFileNames, lintLessons } from '../../src/lessons/loader.js';
import { ACTIONS } from '../../src/lessons/actions.js';

const files = lessonFileNames(fs.readdirSync(DEFAULT_LESSONS_DIR));
if (files.length === 0) console.warn(`no lesson files in ${DEFAULT_LESSONS_DIR} yet (only FORMAT.md/README.md): nothing to validate`);

describe.skipIf(files.length === 0)('the lessons in lessons/', () => {
  const { lessons, errors } = lintLessons();

  it('all load and validate', () => {
    // Every problem at once, one per line, each naming file, step and problem.
    expect(errors.map((e) => e.message).join('\n')).toBe('');
    expect(lessons.length).toBe(files.length);
  });

  it('have the core lessons 0 to 5 without gaps; later ones (6 on) may be numbered ahead while others are written', () => {
    const ids = lessons.map((l) => l.id);
    expect(ids.length).toBeGreaterThan(0);
    // Later lessons (6 security, 7 user namespaces, 8 networking, 9 images) are written apart and may land in any order.
    const core = ids.filter((id) => id <= 5);
    expect(core).toEqual([...core.keys()].map((i) => i + core[0]));
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
  });

  it('every step has an action the engine knows and at least one check', () => {
    for (const lesson of lessons) {
      for (const step of lesson.steps) {
        expect(ACTIONS[step.action.name], `${lesson.file} step ${step.index + 1}`).toBeDefined();
        expect(step.checks.length, `${lesson.file} step ${step.index + 1}`).toBeGreaterThan(0);
      }
    }
  });
});
