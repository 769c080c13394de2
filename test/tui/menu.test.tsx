import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import { Menu } from '../../src/tui/menu.js';
import { ProgressStore } from '../../src/tui/progress.js';
import { KEY, LESSONS, makeLesson, tick } from './fixtures.js';

let dir: string;
let progress: ProgressStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-tui-menu-'));
  progress = new ProgressStore({ file: path.join(dir, 'progress.json') });
});
afterEach(() => {
  cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The lesson number on the row the cursor (▸) is on. */
function selected(frame: string | undefined): number {
  const line = (frame ?? '').split('\n').find((l) => l.startsWith('▸'));
  if (!line) throw new Error(`no selected row in:\n${frame}`);
  return Number(/^▸\s+(\d+)/.exec(line)![1]);
}

function renderMenu(over: Partial<Parameters<typeof Menu>[0]> = {}) {
  const onOpen = vi.fn();
  const onQuit = vi.fn();
  const app = render(
    <Menu lessons={LESSONS} progress={progress} width={80} height={23} initialCursor={0} onOpen={onOpen} onQuit={onQuit} {...over} />,
  );
  return { ...app, onOpen, onQuit };
}

describe('menu', () => {
  it('lists every lesson with its number, title, what it teaches and its status', async () => {
    progress.visit('lesson-1', 2);
    for (const step of [0, 1, 2]) progress.passed('lesson-2', step, 3);
    const { lastFrame } = renderMenu();
    await tick();
    const frame = lastFrame()!;
    for (const lesson of LESSONS) {
      expect(frame).toContain(lesson.title);
      expect(frame).toContain(lesson.summary);
      expect(frame).toMatch(new RegExp(`^.\\s+${lesson.id}\\s+${lesson.title}`, 'm'));
    }
    expect(frame).toMatch(/1\s+Title of lesson 1\s+in progress, step 3 of 3/);
    expect(frame).toMatch(/2\s+Title of lesson 2\s+✓ done/);
    expect(frame).toMatch(/0\s+Title of lesson 0\s+not started/);
    expect(frame).toContain('resume: lesson 1 · Title of lesson 1, step 3 of 3');
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('moves with j/k and the arrows, never past either end', async () => {
    const { lastFrame, stdin } = renderMenu();
    await tick();
    expect(selected(lastFrame())).toBe(0);
    stdin.write('k');
    await tick();
    expect(selected(lastFrame())).toBe(0);
    stdin.write('j');
    await tick();
    expect(selected(lastFrame())).toBe(1);
    stdin.write(KEY.down);
    await tick();
    expect(selected(lastFrame())).toBe(2);
    stdin.write(KEY.up);
    await tick();
    expect(selected(lastFrame())).toBe(1);
    for (let i = 0; i < 10; i++) {
      stdin.write('j');
      await tick();
    }
    expect(selected(lastFrame())).toBe(5);
  });

  it('jumps with number keys, including two-digit lesson numbers', async () => {
    const lessons = [...LESSONS, makeLesson(12)];
    const { lastFrame, stdin } = renderMenu({ lessons });
    await tick();
    stdin.write('4');
    await tick();
    expect(selected(lastFrame())).toBe(4);
    stdin.write('1');
    await tick();
    expect(selected(lastFrame())).toBe(1);
    stdin.write('2');
    await tick();
    expect(selected(lastFrame())).toBe(12);
    stdin.write('9'); // no lesson 9 (nor 129): the cursor stays
    await tick();
    expect(selected(lastFrame())).toBe(12);
  });

  it('opens the selected lesson with enter and quits with q', async () => {
    const { stdin, onOpen, onQuit } = renderMenu({ initialCursor: 3 });
    await tick();
    stdin.write('j');
    await tick();
    stdin.write(KEY.enter);
    await tick();
    expect(onOpen).toHaveBeenCalledWith(4);
    expect(onQuit).not.toHaveBeenCalled();
    stdin.write('q');
    await tick();
    expect(onQuit).toHaveBeenCalledOnce();
  });

  it('takes a burst of keys (a paste) in order', async () => {
    const { stdin, onOpen } = renderMenu();
    await tick();
    stdin.write('jjk\r');
    await tick();
    expect(onOpen).toHaveBeenCalledWith(1);
  });

  it('keeps the cursor in view when the lessons do not fit the height', async () => {
    const { lastFrame, stdin } = renderMenu({ height: 10 });
    await tick();
    expect(lastFrame()!.split('\n').length).toBeLessThanOrEqual(10);
    stdin.write('5');
    await tick();
    expect(selected(lastFrame())).toBe(5);
    expect(lastFrame()).toContain('Title of lesson 5');
  });

  it('shows the keys on ? and goes back on any key', async () => {
    const { lastFrame, stdin, onQuit } = renderMenu();
    await tick();
    stdin.write('?');
    await tick();
    expect(lastFrame()).toContain('jump to a lesson by number');
    stdin.write('q');
    await tick();
    expect(onQuit).not.toHaveBeenCalled(); // q closed the help, it did not quit
    expect(lastFrame()).toContain('Title of lesson 0');
  });

  it('reports its first frame once', async () => {
    const onFirstFrame = vi.fn();
    const { stdin } = renderMenu({ onFirstFrame });
    await tick();
    stdin.write('j');
    await tick();
    expect(onFirstFrame).toHaveBeenCalledOnce();
  });
});
