// Lesson 5's limits, watched as they bite at 80x24 (a projector's terminal):
// while mem.py runs in its one-shot container the cgroup pane shows its memory
// climbing, and afterwards the last reading with the OOM kill that ended it;
// the same for proc.py's forks against pids.max in the lesson's container.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultRootfs } from '../../src/runtime/paths.js';
import { cli, hostState, isRoot, tempStateDir, warnIfNotRoot } from '../helpers/host.js';
import { sleep, TmuxWindow } from '../helpers/tmux.js';

warnIfNotRoot('the live panes test (its steps start real containers)');

describe.skipIf(!isRoot)('lesson 5 at 80x24: the limits bite on screen', () => {
  let dir: string;
  let state: string;
  let term: TmuxWindow;
  let before: ReturnType<typeof hostState>;

  beforeAll(async () => {
    expect((await cli(['rootfs', 'build'])).status).toBe(0);
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-live-'));
    state = tempStateDir('live');
    term = new TmuxWindow();
    before = hostState();
  });

  afterEach(() => {
    term.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  });

  const open = (args: string) =>
    term.start(args, {
      columns: 80,
      rows: 24,
      exitFile: path.join(dir, 'exit'),
      stderrFile: path.join(dir, 'stderr'),
      env: [`HOME=${dir}`, `CONTAINY_STATE_DIR=${state}`, `CONTAINY_ROOTFS=${defaultRootfs()}`, `CONTAINY_PROGRESS_FILE=${path.join(dir, 'progress.json')}`],
    });

  /** Enter, then every screen until the result is on it: [the screens while it ran, the screen with the result]. */
  async function runAndWatch(): Promise<{ during: string[]; after: string }> {
    term.keys('Enter');
    const during: string[] = [];
    const after = await term.waitForScreen('the result', (t) => {
      if (t.includes('result:')) return true;
      if (t.includes('running step')) during.push(t);
      return false;
    }, 30_000, 30);
    return { during, after };
  }

  async function quit(): Promise<void> {
    term.keys('q');
    await term.waitForScreen('the menu', (t) => t.includes('how containers are made'));
    term.keys('q');
    expect(await term.waitForExit(path.join(dir, 'exit'))).toBe('0');
    expect(hostState()).toEqual(before);
  }

  const figures = (screens: string[], re: RegExp) => new Set(screens.flatMap((s) => [...s.matchAll(re)].map((m) => m[1])));

  it('step 6: mem.py\'s memory climbs in the pane while it runs, and the OOM kill shows after', async () => {
    open('lesson 5 --step 6');
    await term.waitForScreen('lesson 5 step 6', (t) => t.includes('step 6 of 8') && t.includes(' host'));
    const { during, after } = await runAndWatch();
    for (const s of during) expect(s).not.toContain('none running');
    const memory = figures(during, /memory (\d+(?:\.\d+)?)\/512 MiB/g);
    expect(memory.size, `memory figures seen while it ran: ${[...memory].join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(after).toContain('result: ✓ passed');
    expect(after).toMatch(/· exited/);
    expect(after).toMatch(/memory \d+(\.\d+)?\/512 MiB · oom_kill 1/);
    expect(after).toContain('ended: the container was OOM-killed (memory limit 512 MiB)');
    for (const line of after.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    await quit();
  }, 60_000);

  it('step 4: proc.py\'s processes rise against pids.max while it runs, and the refused forks are counted', async () => {
    open('lesson 5 --step 1');
    await term.waitForScreen('lesson 5 step 1', (t) => t.includes('step 1 of 8') && t.includes(' host'));
    expect((await runAndWatch()).after).toContain('result: ✓ passed');
    term.keys('n', 'n', 'n');
    await term.waitForScreen('step 4', (t) => t.includes('step 4 of 8'));
    const { during, after } = await runAndWatch();
    for (const s of during) expect(s).not.toContain('none running');
    const pids = figures(during, /pids (\d+)\/10/g);
    expect(pids.size, `pids figures seen while it ran: ${[...pids].join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(after).toContain('result: ✓ passed');
    expect(after).toMatch(/pids \d+\/10 · refused [1-9]/);
    await quit();
  }, 60_000);

  it('lesson 1 --step 8 passes on enter: the jump starts the victim (step 7) first', async () => {
    open('lesson 1 --step 8');
    await term.waitForScreen('lesson 1 step 8', (t) => t.includes('step 8 of 10'));
    const { after } = await runAndWatch();
    expect(after).toContain('result: ✓ passed');
    expect(after).toContain('ran step 7 for you');
    await quit();
  }, 60_000);

  it('--record writes an asciicast v2 file: it parses, has a marker per step run, and replays to the screen the workshop ended on', async () => {
    const cast = path.join(dir, 'demo.cast');
    open(`lesson 5 --step 6 --record ${cast}`);
    await term.waitForScreen('lesson 5 step 6', (t) => t.includes('step 6 of 8') && t.includes(' host'));
    expect((await runAndWatch()).after).toContain('result: ✓ passed');
    term.keys('n');
    await term.waitForScreen('step 7', (t) => t.includes('step 7 of 8'));
    expect((await runAndWatch()).after).toContain('result: ✓ passed');
    term.keys('q');
    await term.waitForScreen('the menu', (t) => t.includes('how containers are made'));
    await sleep(500); // nothing more is drawn until a key
    const finalScreen = term.screen();
    term.keys('q');
    expect(await term.waitForExit(path.join(dir, 'exit'))).toBe('0');

    const [header, ...events] = fs.readFileSync(cast, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    for (const e of events) {
      expect(e).toHaveLength(3);
      expect(typeof e[0]).toBe('number');
      expect(['o', 'm']).toContain(e[1]);
    }
    expect(events.map((e) => e[0])).toEqual([...events.map((e) => e[0])].sort((a, b) => a - b));
    const markers = events.filter((e) => e[1] === 'm').map((e) => e[2]);
    expect(markers).toEqual(['lesson 5 step 6: Memory: OOM-killed on the 6th allocation', 'lesson 5 step 7: CPU: no limit']);

    // Replayed into a terminal of the same size, the recording shows the screen the workshop showed
    // last (the menu) before quitting; the last frame it holds is the brief "closing" one.
    const written = events.filter((e) => e[1] === 'o').map((e) => e[2] as string);
    const closing = written.findIndex((o) => o.includes('closing: removing the workshop'));
    expect(closing).toBeGreaterThan(0);
    const output = path.join(dir, 'replay.out');
    fs.writeFileSync(output, written.slice(0, closing).join(''));
    const replay = new TmuxWindow();
    try {
      replay.tmux('new-session', '-d', '-s', replay.window, '-x', '80', '-y', '24', `cat ${output}; sleep 60`);
      const trim = (t: string) => t.split('\n').map((l) => l.trimEnd()).join('\n').trimEnd();
      const replayed = await replay.waitForScreen('the replay', (t) => trim(t) === trim(finalScreen), 5000);
      expect(trim(replayed)).toBe(trim(finalScreen));
    } finally {
      replay.close();
    }
    expect(hostState()).toEqual(before);
  }, 90_000);

  // The last step of each lesson at 80x24, reached by a jump: its result and both pane titles on one screen.
  for (const [lesson, steps] of [[0, 9], [1, 10], [2, 10], [3, 7], [4, 10], [5, 8]] as const) {
    it(`lesson ${lesson}, last step (${steps}): the result and both panes fit 80x24`, async () => {
      open(`lesson ${lesson} --step ${steps}`);
      await term.waitForScreen(`lesson ${lesson} step ${steps}`, (t) => t.includes(`step ${steps} of ${steps}`));
      term.keys('Enter');
      const shown = await term.waitForScreen('the result', (t) => t.includes('result:') && !t.includes('running step'), 60_000);
      expect(shown).toContain('result: ✓ passed');
      expect(shown).toMatch(/^ host\b.*│ (container|c-|lesson)/m);
      for (const line of shown.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
      await quit();
    }, 90_000);
  }
});
