// The lesson engine through the real runtime: real containers, a real overlay
// whiteout, a real pids limit, a real chroot and kill. The host is checked
// before and after: mounts, our cgroups, run records, lesson work directories.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { cli, hostState, isRoot, tempStateDir, warnIfNotRoot } from '../helpers/host.js';
import { LessonSession } from '../../src/lessons/engine.js';
import { loadLesson, loadLessons, parseLesson } from '../../src/lessons/loader.js';
import { checkAll } from '../../src/lessons/check-all.js';
import type { StepResult } from '../../src/lessons/types.js';
import { mount, umount2 } from '../../src/runtime/libc.js';

warnIfNotRoot('lesson engine integration tests');

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

function describeFailure(r: StepResult): string {
  return JSON.stringify({ error: r.error, cannotRun: r.cannotRun, output: r.output, exit: r.exit, failed: r.checks.filter((c) => !c.ok) }, null, 1);
}

/** A one-step lesson from its step block's lines. */
function lessonFrom(id: number, stepLines: string[]) {
  const text = ['---', `id: ${id}`, 'title: Inline', 'summary: One step.', '---', '', '## The step', '', '```step', ...stepLines, '```', ''].join('\n');
  return parseLesson(text, path.join(FIXTURES, `inline-${id}.md`));
}

describe.skipIf(!isRoot)('lessons through the real runtime', () => {
  let state: string;
  let before: ReturnType<typeof hostState>;
  const savedState = process.env.CONTAINY_STATE_DIR;

  beforeAll(async () => {
    const built = await cli(['rootfs', 'build']);
    expect(built.status, built.stderr).toBe(0);
  });

  beforeEach(() => {
    state = tempStateDir('lessons');
    process.env.CONTAINY_STATE_DIR = state;
    before = hostState();
  });

  afterEach(() => {
    try {
      expect(hostState()).toEqual(before);
      const left = (dir: string) => (fs.existsSync(path.join(state, dir)) ? fs.readdirSync(path.join(state, dir)) : []);
      expect(left('run')).toEqual([]);
      expect(left('scratch')).toEqual([]);
      expect(left('containers')).toEqual([]);
      expect(left('lessons')).toEqual([]);
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  });

  afterAll(() => {
    if (savedState === undefined) delete process.env.CONTAINY_STATE_DIR;
    else process.env.CONTAINY_STATE_DIR = savedState;
  });

  it('runs the fixture: a container with its own hostname, then exec hostname in it', async () => {
    const session = new LessonSession(loadLesson(path.join(FIXTURES, 'lessons', '00-fixture.md')));
    try {
      const started = await session.runStep(0);
      expect(started.ok, describeFailure(started)).toBe(true);
      expect(started.container?.hostname).toBe('fixture-box');
      expect(started.host?.hostname).toBe(os.hostname());
      expect(started.container?.namespaces?.uts).not.toBe(started.host?.namespaces?.uts);
      expect(started.container?.namespaces?.pid).not.toBe(started.host?.namespaces?.pid);
      // The panes' live probe sees the same container.
      const container = session.container!;
      expect(container.running).toBe(true);
      expect(session.probe(['hostname']).container?.hostname).toBe('fixture-box');

      const asked = await session.runStep(1);
      expect(asked.ok, describeFailure(asked)).toBe(true);
      expect(asked.output).toBe('fixture-box\n');
      expect(asked.exit).toBe(0);
      expect(os.hostname()).not.toBe('fixture-box');
    } finally {
      await session.close();
    }
    expect(session.container).toBeUndefined();
  });

  it('runs every action for real', async () => {
    const lesson = loadLesson(path.join(FIXTURES, 'lessons-real', '01-every-action.md'));
    const session = new LessonSession(lesson);
    const results: StepResult[] = [];
    try {
      for (const step of lesson.steps) {
        const r = await session.runStep(step.index);
        results.push(r);
        expect(r.ok, `step ${step.index + 1} "${step.title}": ${describeFailure(r)}`).toBe(true);
      }
      expect(fs.readFileSync(path.join(session.workdir, 'secret.txt'), 'utf8')).toBe('above the jail');
    } finally {
      await session.close();
    }
    expect(fs.existsSync(session.workdir)).toBe(false);
  });

  it('reset removes a named container\'s stored changes and the work directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-lessons-named-'));
    try {
      fs.writeFileSync(path.join(dir, '02-named.md'), [
        '---', 'id: 2', 'title: Named', 'summary: A named container keeps its changes.', '---', '',
        '## Write in a named container', '', '```step', 'action: run', 'name: keep', 'command: echo kept > /root/note', 'check: exit == 0', '```', '',
        '## Run it again', '', '```step', 'action: run', 'name: keep', 'command: cat /root/note', 'check: output == "kept"', '```', '',
      ].join('\n'));
      const session = new LessonSession(loadLessons(dir)[0]);
      try {
        for (const i of [0, 1]) {
          const r = await session.runStep(i);
          expect(r.ok, describeFailure(r)).toBe(true);
        }
        expect(fs.existsSync(path.join(state, 'containers', 'lesson2-keep'))).toBe(true);
      } finally {
        await session.close();
      }
      expect(fs.existsSync(path.join(state, 'containers', 'lesson2-keep'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a one-shot container under a pids limit: forks refused, and limits says so', async () => {
    const session = new LessonSession(lessonFrom(3, [
      'action: run',
      'limits: {pids: 10}',
      'command: for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; echo started; kill $(jobs -p) 2>/dev/null; true',
      // The kernel refuses fork with EAGAIN; each shell words it its own way (busybox, dash, bash).
      'check: output matches /can\'t fork|cannot fork|Resource temporarily unavailable/i',
      'check: limits contains "pids limit 10"',
    ]));
    try {
      const r = await session.runStep(0);
      expect(r.ok, describeFailure(r)).toBe(true);
    } finally {
      await session.close();
    }
  });

  it('never deletes a work directory through a mount: reset and cleanup refuse, and say why', async () => {
    const session = new LessonSession(lessonFrom(4, ['action: write-file', 'path: jail/mnt/.keep', 'content: x', 'check: error == ""']));
    const mnt = path.join(session.workdir, 'jail', 'mnt');
    let mounted = false;
    try {
      expect((await session.runStep(0)).ok).toBe(true);
      mount('tmpfs', mnt, 'tmpfs', 0, 'size=1m');
      mounted = true;
      fs.writeFileSync(path.join(mnt, 'on-the-mount'), 'must survive');
      await expect(session.reset()).rejects.toThrow(`lesson 4 could not remove everything it made: ${session.workdir} still has mounts (${mnt})`);
      expect(fs.readFileSync(path.join(mnt, 'on-the-mount'), 'utf8')).toBe('must survive');
      // A killed session's directory is cleanup's; with the mount still there, it is kept.
      const stale = path.join(state, 'lessons', 'containy-lesson-4-4194399');
      fs.renameSync(session.workdir, stale);
      const refused = await cli(['cleanup'], { env: { CONTAINY_STATE_DIR: state } });
      expect(refused.status, refused.stderr).toBe(125);
      expect(refused.stderr).toContain(`cleanup could not remove everything: ${stale} still has mounts (${stale}/jail/mnt)`);
      expect(fs.readFileSync(path.join(stale, 'jail', 'mnt', 'on-the-mount'), 'utf8')).toBe('must survive');
      umount2(path.join(stale, 'jail', 'mnt'), 0);
      mounted = false;
      const cleaned = await cli(['cleanup'], { env: { CONTAINY_STATE_DIR: state } });
      expect(cleaned.status, cleaned.stderr).toBe(0);
      expect(cleaned.stdout).toContain(`directory ${stale}`);
      expect(fs.existsSync(stale)).toBe(false);
    } finally {
      for (const dir of [mnt, path.join(state, 'lessons', 'containy-lesson-4-4194399', 'jail', 'mnt')]) {
        if (mounted && fs.existsSync(dir)) try { umount2(dir, 0); } catch { /* not this one */ }
      }
      await session.close().catch(() => {});
    }
  });

  it('check-all rehearses a lessons directory and leaves nothing behind', async () => {
    let text = '';
    const out = new Writable({ write(chunk, _enc, done) { text += chunk.toString(); done(); } });
    const code = await checkAll({ out, color: false, lessonsDir: path.join(FIXTURES, 'lessons') });
    expect(code, text).toBe(0);
    expect(text).toMatch(/2 of 2 steps passed/);
  });
});
