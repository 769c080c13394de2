import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import { App } from '../../src/tui/app.js';
import { loadMarkdownRenderer, type MarkdownRenderer } from '../../src/tui/markdown.js';
import { ProgressStore } from '../../src/tui/progress.js';
import { SessionRegistry } from '../../src/tui/sessions.js';
import type { Lesson } from '../../src/tui/types.js';
import { FakeSession, KEY, LESSONS, tick, waitFor } from './fixtures.js';

let markdown: MarkdownRenderer;
let dir: string;
let progress: ProgressStore;
let opened: Map<number, FakeSession>;
let sessions: SessionRegistry;

beforeAll(async () => {
  markdown = await loadMarkdownRenderer();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-tui-app-'));
  progress = new ProgressStore({ file: path.join(dir, 'progress.json') });
  opened = new Map();
  sessions = new SessionRegistry((lesson: Lesson) => {
    const session = new FakeSession();
    opened.set(lesson.id, session);
    return session;
  });
});
afterEach(() => {
  cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function renderApp(over: Partial<Parameters<typeof App>[0]> = {}) {
  const onExit = vi.fn();
  const app = render(<App lessons={LESSONS} sessions={sessions} progress={progress} onExit={onExit} size={{ columns: 80, rows: 24 }} markdown={markdown} {...over} />);
  return { ...app, onExit };
}

describe('the workshop', () => {
  it('opens lessons from the menu, keeps one session per lesson, and closes every one on quit', async () => {
    const { lastFrame, stdin, onExit } = renderApp();
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('lesson 0 · Title of lesson 0'), 'lesson 0');
    await waitFor(() => opened.has(0), 'its session');
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('result: ✓ passed'), 'the run');
    stdin.write('q');
    await waitFor(() => lastFrame()!.includes('containy-learn · how containers are made'), 'the menu');
    expect(lastFrame()).toMatch(/▸ 0 {2}Title of lesson 0\s+in progress, step 1 of 3/);
    stdin.write('3');
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('lesson 3 · Title of lesson 3'), 'lesson 3');
    await waitFor(() => opened.has(3), 'its session');
    stdin.write('q');
    await tick();
    stdin.write('0');
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('lesson 0 · Title of lesson 0'), 'lesson 0 again');
    stdin.write('q');
    await tick();
    expect(opened.size).toBe(2); // lesson 0's session was reused
    stdin.write('q');
    await waitFor(() => onExit.mock.calls.length > 0, 'the exit');
    expect(onExit).toHaveBeenCalledWith(0);
    expect([...opened.values()].map((s) => s.closed)).toEqual([1, 1]);
  });

  it('quits from inside a lesson on ctrl-c, closing its session first', async () => {
    const { lastFrame, stdin, onExit } = renderApp({ initialLesson: { index: 2, step: 1 } });
    await tick();
    expect(lastFrame()).toContain('lesson 2 · Title of lesson 2');
    expect(lastFrame()).toContain('step 2 of 3');
    await waitFor(() => opened.has(2), 'its session');
    stdin.write('\x03');
    await waitFor(() => onExit.mock.calls.length > 0, 'the exit');
    expect(onExit).toHaveBeenCalledWith(130);
    expect(opened.get(2)!.closed).toBe(1);
  });

  it('resumes where the learner stopped: the menu starts on that lesson, which opens at that step', async () => {
    progress.visit('lesson-4', 2);
    const { lastFrame, stdin } = renderApp();
    await tick();
    expect(lastFrame()).toMatch(/^▸ 4 {2}Title of lesson 4/m);
    expect(lastFrame()).toContain('resume: lesson 4 · Title of lesson 4, step 3 of 3');
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('step 3 of 3'), 'the saved step');
  });

  it('says when a lesson could not start, and still shows its text', async () => {
    sessions = new SessionRegistry(() => {
      throw new Error('the base rootfs is missing: run containy-learn rootfs build');
    });
    const { lastFrame, stdin } = renderApp({ initialLesson: { index: 1 } });
    await waitFor(() => lastFrame()!.includes('could not start'), 'the error');
    expect(lastFrame()).toContain('Prose of step 1.');
    stdin.write(KEY.enter);
    await tick();
    expect(lastFrame()).toContain('the lesson could not start: the base rootfs is missing');
  });
});
