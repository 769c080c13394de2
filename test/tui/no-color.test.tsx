// NO_COLOR: the CLI sets FORCE_COLOR=0 before anything loads chalk (chalk
// reads it once, at import). With it, not one escape may reach the screen,
// and nothing may be lost: every difference and verdict is also a character.
// Everything that loads chalk is imported after the variable is set.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeSession, KEY, LESSONS, makeLesson, makeStep, tick, waitFor } from './fixtures.js';

const previous = process.env.FORCE_COLOR;
process.env.FORCE_COLOR = '0';
const { render, cleanup } = await import('ink-testing-library');
const { default: chalk } = await import('chalk');
const { LessonView } = await import('../../src/tui/lesson-view.js');
const { Menu } = await import('../../src/tui/menu.js');
const { loadMarkdownRenderer } = await import('../../src/tui/markdown.js');
const { ProgressStore } = await import('../../src/tui/progress.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-tui-nocolor-'));
afterAll(() => {
  cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
  if (previous === undefined) delete process.env.FORCE_COLOR;
  else process.env.FORCE_COLOR = previous;
});

const lesson = makeLesson(2, {
  steps: [makeStep(0, { prose: 'Some **bold**, some `code`, a [link](https://man7.org/linux/man-pages/man7/namespaces.7.html).\n\n    hostname box\n' })],
});

async function ranLesson(): Promise<string> {
  const progress = new ProgressStore({ file: path.join(dir, 'progress.json') });
  const markdown = await loadMarkdownRenderer();
  const app = render(<LessonView lesson={lesson} session={new FakeSession()} startStep={0} progress={progress} markdown={markdown} width={80} height={30} onBack={() => {}} />);
  await tick();
  app.stdin.write(KEY.enter);
  await waitFor(() => app.lastFrame()!.includes('result:') && app.lastFrame()!.includes('lesson-box · live'), 'the result');
  const frame = app.lastFrame()!;
  app.unmount();
  return frame;
}

describe('NO_COLOR (FORCE_COLOR=0)', () => {
  it('draws the lesson, its result and the panes without one escape sequence, keeping every mark', async () => {
    expect(chalk.level).toBe(0);
    const frame = await ranLesson();
    expect(frame).not.toContain('\x1b');
    expect(frame).toContain('✓ container.hostname == "box"');
    expect(frame).toMatch(/≠ hostname: the-host\s+│≠ hostname: box/);
    expect(frame).toMatch(/Some bold, some code, a link\s+\(https:\/\/man7\.org\/linux\/man-pages\/man7\/namespaces\.7\.html\)\./);
  });

  it('draws the menu without escapes, the cursor still visible as ▸', async () => {
    const progress = new ProgressStore({ file: path.join(dir, 'progress.json') });
    const app = render(<Menu lessons={LESSONS} progress={progress} width={80} height={23} initialCursor={2} onOpen={() => {}} onQuit={() => {}} />);
    await tick();
    expect(app.lastFrame()).not.toContain('\x1b');
    expect(app.lastFrame()).toMatch(/^▸ 2 {2}Title of lesson 2/m);
    app.unmount();
  });

  it('would have caught colour: the same screens with colour on do carry escapes', async () => {
    chalk.level = 3;
    try {
      const frame = await ranLesson();
      expect(frame).toContain('\x1b[');
    } finally {
      chalk.level = 0;
    }
  });
});
