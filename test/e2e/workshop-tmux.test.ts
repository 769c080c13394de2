// The workshop in a real terminal: `containy-learn lesson 2` in a 120x40 tmux
// window, run the UTS step, read the container's hostname in one pane and the
// host's in the other, quit, and find the host as it was.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadLessons } from '../../src/lessons/loader.js';
import { defaultRootfs } from '../../src/runtime/paths.js';
import { CLI, cli, hostState, isRoot, tempStateDir, warnIfNotRoot } from '../helpers/host.js';
import { sleep, TmuxWindow } from '../helpers/tmux.js';

warnIfNotRoot('the workshop end-to-end test (its steps start real containers)');

// A tmux server of our own (-L): the learner's or CI's tmux is never touched (../helpers/tmux.ts).
const term = new TmuxWindow();
const WINDOW = term.window;
const tmux = (...args: string[]) => term.tmux(...args);
const screen = () => term.screen();
const waitForScreen = (what: string, test: (text: string) => boolean, timeoutMs?: number) => term.waitForScreen(what, test, timeoutMs);

/** The two halves of the pane row holding `text`: host left of the divider, container right. */
function paneHalves(text: string, label: string): { host: string; container: string } {
  const title = text.split('\n').find((l) => /^ host\b/.test(l) && l.includes('│'));
  if (!title) throw new Error(`no pane titles on the screen:\n${text}`);
  const divider = [...title].indexOf('│');
  const row = text.split('\n').find((l) => l.includes(label) && [...l][divider] === '│');
  if (!row) throw new Error(`no pane row with "${label}":\n${text}`);
  const chars = [...row];
  return { host: chars.slice(0, divider).join('').trim(), container: chars.slice(divider + 1).join('').trim() };
}

describe.skipIf(!isRoot)('the workshop in a terminal', () => {
  let dir: string;
  let state: string;

  beforeAll(async () => {
    execFileSync('tmux', ['-V']); // npm test installs tmux (scripts/test.sh); say so plainly if it is missing
    expect((await cli(['rootfs', 'build'])).status).toBe(0);
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-e2e-'));
    state = tempStateDir('e2e');
  });

  afterEach(() => {
    try {
      tmux('kill-server');
    } catch {
      // the server ended with its only window
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  });

  it('lesson 2, UTS step: the container pane shows its hostname, the host pane the host\'s; quitting leaves the host as found', async () => {
    const lesson = loadLessons().find((l) => l.id === 2)!;
    const uts = lesson.steps[0];
    expect(uts.action.params.namespaces).toEqual(['uts']);
    const boxName = String(uts.action.params.hostname);
    const hostName = os.hostname();
    expect(boxName).not.toBe(hostName);

    const before = hostState();
    const exitFile = path.join(dir, 'exit');
    // A clean environment: Ink draws nothing at all when it believes it runs in CI.
    const env = [
      `PATH=${process.env.PATH}`,
      `HOME=${dir}`,
      'TERM=screen-256color',
      `CONTAINY_STATE_DIR=${state}`,
      // The base beforeAll built: rootfs/base, or the test matrix's CONTAINY_ROOTFS.
      `CONTAINY_ROOTFS=${defaultRootfs()}`,
      `CONTAINY_PROGRESS_FILE=${path.join(dir, 'progress.json')}`,
    ];
    const command = `env -i ${env.map((e) => `'${e}'`).join(' ')} ${process.execPath} ${CLI} lesson 2 2>${dir}/stderr; echo $? > ${exitFile}`;
    tmux('new-session', '-d', '-s', WINDOW, '-x', '120', '-y', '40', command);

    await waitForScreen('lesson 2 to open', (t) => /lesson 2 · .*step 1 of \d+/.test(t) && t.includes(' host'));
    tmux('send-keys', '-t', WINDOW, 'Enter');
    const shown = await waitForScreen('the step to run', (t) => t.includes('result:') && t.includes('· live'));
    expect(shown).toContain('result: ✓ passed');

    const hostnames = paneHalves(shown, 'hostname:');
    expect(hostnames.host).toBe(`≠ hostname: ${hostName}`);
    expect(hostnames.container).toBe(`≠ hostname: ${boxName}`);
    // Only the UTS namespace is the container's own.
    expect(paneHalves(shown, 'uts ').container.startsWith('≠')).toBe(true);
    expect(paneHalves(shown, 'pid ').container.startsWith('≠')).toBe(false);
    expect(paneHalves(shown, 'mnt ').container.startsWith('≠')).toBe(false);
    for (const line of shown.split('\n')) expect([...line].length).toBeLessThanOrEqual(120);

    tmux('send-keys', '-t', WINDOW, 'q');
    await waitForScreen('the menu', (t) => t.includes('how containers are made'));
    tmux('send-keys', '-t', WINDOW, 'q');
    const deadline = Date.now() + 20_000;
    while (!fs.existsSync(exitFile) || !fs.readFileSync(exitFile, 'utf8').trim()) {
      if (Date.now() > deadline) throw new Error(`the workshop did not exit; the screen:\n${screen()}`);
      await sleep(50);
    }
    expect(fs.readFileSync(exitFile, 'utf8').trim()).toBe('0');
    // Nothing on stderr but Ink's "show the cursor".
    expect(fs.readFileSync(path.join(dir, 'stderr'), 'utf8').replace('\x1b[?25h', '')).toBe('');
    expect(hostState()).toEqual(before);
    // Progress was kept: lesson 2, step 1 passed.
    const progress = JSON.parse(fs.readFileSync(path.join(dir, 'progress.json'), 'utf8'));
    expect(progress.lessons[lesson.slug]).toMatchObject({ step: 0, passed: [0] });
  });
});

describe('the workshop start, for the benchmark', () => {
  it('with CONTAINY_FIRST_FRAME_MARK=exit, reports the first frame of the menu on stderr and quits', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-e2e-mark-'));
    try {
      const env = [`PATH=${process.env.PATH}`, `HOME=${dir}`, 'TERM=screen-256color', 'CONTAINY_FIRST_FRAME_MARK=exit', `CONTAINY_PROGRESS_FILE=${dir}/progress.json`];
      tmux('new-session', '-d', '-s', WINDOW, '-x', '100', '-y', '30', `env -i ${env.map((e) => `'${e}'`).join(' ')} ${process.execPath} ${CLI} 2>${dir}/stderr; echo $? > ${dir}/exit`);
      const deadline = Date.now() + 20_000;
      while (!fs.existsSync(`${dir}/exit`) || !fs.readFileSync(`${dir}/exit`, 'utf8').trim()) {
        if (Date.now() > deadline) throw new Error('the workshop did not quit after its first frame');
        await sleep(50);
      }
      expect(fs.readFileSync(`${dir}/exit`, 'utf8').trim()).toBe('0');
      const mark = /^containy-learn first-frame-ms (\d+(\.\d+)?)$/m.exec(fs.readFileSync(`${dir}/stderr`, 'utf8'));
      expect(mark).not.toBeNull();
      expect(Number(mark![1])).toBeGreaterThan(0);
    } finally {
      try {
        tmux('kill-server');
      } catch {
        // gone with its window
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
