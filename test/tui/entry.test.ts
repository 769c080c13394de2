import { afterEach, describe, expect, it, vi } from 'vitest';
import { pickLesson } from '../../src/tui/index.js';
import { LESSONS } from './fixtures.js';

afterEach(() => vi.restoreAllMocks());

describe('runWorkshop options', () => {
  it('opens the menu, or lesson N at 1-based step M', () => {
    expect(pickLesson(LESSONS, {})).toBeUndefined();
    expect(pickLesson(LESSONS, { lesson: 4 })).toEqual({ index: 4, step: undefined });
    expect(pickLesson(LESSONS, { lesson: 4, step: 3 })).toEqual({ index: 4, step: 2 });
  });

  it('refuses a lesson or step that does not exist, naming what exists (exit 125)', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(pickLesson(LESSONS, { lesson: 9 })).toBe(125);
    expect(String(stderr.mock.calls.at(-1)![0])).toBe('containy-learn: lesson 9: no such lesson; they are 0 to 5 (see `containy-learn list`)\n');
    expect(pickLesson(LESSONS, { lesson: 1, step: 4 })).toBe(125);
    expect(String(stderr.mock.calls.at(-1)![0])).toBe('containy-learn: --step 4: lesson 1 has steps 1 to 3\n');
    expect(pickLesson(LESSONS, { lesson: 1, step: 0 })).toBe(125);
    expect(pickLesson(LESSONS, { step: 2 })).toBe(125);
  });
});
