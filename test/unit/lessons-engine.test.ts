// The step engine with a fake runtime: what it asks the runtime for, how
// checks see the results, the "cannot run here" answers, variables, teardown,
// and check-all's report. The real runtime is in test/integration/lessons-engine.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { LessonSession, type HostSupport } from '../../src/lessons/engine.js';
import { loadLesson, parseLesson } from '../../src/lessons/loader.js';
import { checkAll } from '../../src/lessons/check-all.js';
import { formatLessonListPlain, formatLessonPlain } from '../../src/lessons/plain.js';
import { UserError } from '../../src/runtime/errors.js';
import { defaultSecuritySpec, securitySpecFrom } from '../../src/runtime/security/options.js';
import { hostFiles } from '../../src/lessons/runtime-like.js';
import { lessonsDir, removeStaleWorkdirs } from '../../src/lessons/workdirs.js';
import { fakeRuntime, type FakeRuntime } from './lessons-fake-runtime.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/lessons/00-fixture.md');
const supported: HostSupport = { overlay: () => undefined, cgroups: () => undefined };

let tmp: string;
let workdir: string;
let rt: FakeRuntime;
const sessions: LessonSession[] = [];

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-engine-test-'));
  workdir = path.join(tmp, 'containy-lesson-work');
  rt = fakeRuntime();
});

afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function session(text: string | undefined, opts: { isRoot?: boolean; hostSupport?: HostSupport } = {}): LessonSession {
  const lesson = text === undefined ? loadLesson(FIXTURE) : parseLesson(text, path.join(tmp, '09-test.md'));
  const s = new LessonSession(lesson, { runtime: rt, isRoot: opts.isRoot ?? true, workdir, hostSupport: opts.hostSupport ?? supported });
  sessions.push(s);
  return s;
}

/** A lesson of the given step blocks (each a list of `key: value` lines). */
function lesson(...steps: string[][]): string {
  const body = steps.map((lines, i) => `## Step ${i + 1}\n\nProse.\n\n\`\`\`step\n${lines.join('\n')}\n\`\`\`\n`).join('\n');
  return `---\nid: 9\ntitle: Test\nsummary: A test lesson.\n---\n\nIntro.\n\n${body}`;
}

describe('LessonSession', () => {
  it('runs the fixture: start with its namespaces and hostname, then exec in it', async () => {
    const s = session(undefined);
    const first = await s.runStep(0);
    expect(first).toMatchObject({ ok: true, output: '' });
    expect(first.checks.every((c) => c.ok)).toBe(true);
    expect(first.container?.hostname).toBe('fixture-box');
    expect(first.host?.hostname).toBe('fake-host');
    expect(rt.started[0].spec).toEqual({
      argv: ['sleep', 'infinity'], stdio: 'pipe', namespaces: ['uts', 'mnt', 'pid'], hostname: 'fixture-box', rootfs: null, name: 'lesson0', remove: true,
      security: defaultSecuritySpec(), // no security: in the step, so docker's defaults
    });
    expect(s.container?.pid).toBe(rt.started[0].pid);

    const second = await s.runStep(1);
    expect(second).toMatchObject({ ok: true, exit: 0, output: 'fixture-box\n' });
    expect(rt.started[0].runs).toEqual([['sh', '-c', 'hostname']]);
    expect(second.ms).toBeGreaterThanOrEqual(0);
  });

  it('fails a step whose check fails, saying what it saw', async () => {
    const s = session(lesson(['action: start', 'rootfs: host', 'namespaces: [uts]', 'hostname: one', 'check: container.hostname == "two"']));
    const r = await s.runStep(0);
    expect(r.ok).toBe(false);
    expect(r.checks).toEqual([{ text: 'container.hostname == "two"', ok: false, actual: '"one"' }]);
  });

  it('without root, says so instead of running, and touches nothing', async () => {
    const s = session(undefined, { isRoot: false });
    const r = await s.runStep(0);
    expect(r).toEqual({ ok: false, checks: [], output: '', ms: 0, cannotRun: 'this step needs root: run sudo containy-learn' });
    expect(s.cannotRun(1)).toBe('this step needs root: run sudo containy-learn');
    expect(rt.log).toEqual([]);
    expect(fs.existsSync(workdir)).toBe(false);
  });

  it('says what to change when the host lacks overlayfs or a cgroup controller', async () => {
    const asked: string[][] = [];
    const lacking: HostSupport = { overlay: () => 'no overlay here: modprobe overlay', cgroups: (c) => (asked.push(c), `no ${c.join('+')} controller`) };
    const s = session(lesson(['action: start', 'check: running == true'], ['action: run', 'rootfs: host', 'limits: {memory: 512M, pids: 10}', 'command: true', 'check: exit == 0']), { hostSupport: lacking });
    expect((await s.runStep(0)).cannotRun).toBe('no overlay here: modprobe overlay');
    expect((await s.runStep(1)).cannotRun).toBe('no memory+pids controller');
    expect(asked).toEqual([['memory', 'pids']]);
    expect(rt.log).toEqual([]);
  });

  it('a step whose tool the base lacks says what to do instead of running', async () => {
    const asked: string[][] = [];
    const noPython: HostSupport = { ...supported, tools: (t) => (asked.push(t), 'no python3 in the base') };
    const s = session(lesson(['action: start', 'check: running == true'], ['action: exec', 'command: python3 -V', 'needs: [python3]', 'check: exit == 0']), { hostSupport: noPython });
    expect((await s.runStep(0)).ok).toBe(true);
    expect(await s.runStep(1)).toEqual({ ok: false, checks: [], output: '', ms: 0, cannotRun: 'no python3 in the base' });
    expect(asked).toEqual([['python3']]);
    expect(rt.started[0].runs).toEqual([]);
  });

  it('by default looks for a step\'s tools on the PATH of the runtime\'s base rootfs', async () => {
    const base = path.join(tmp, 'base');
    fs.mkdirSync(path.join(base, 'usr/bin'), { recursive: true });
    fs.writeFileSync(path.join(base, 'usr/bin/sh'), '', { mode: 0o755 });
    rt.defaultRootfs = () => base;
    const s = session(lesson(['action: start', 'check: running == true'], ['action: exec', 'command: python3 -V', 'needs: [python3, sh]', 'check: exit == 0'], ['action: exec', 'command: true', 'needs: [sh]', 'check: exit == 0']));
    expect(s.cannotRun(1)).toBe(`this step needs python3 in the base rootfs (${base}), which has none: install python3 on the host and run \`sudo containy-learn rootfs build --force\`, which copies it in`);
    expect(s.cannotRun(2)).toBeUndefined();
    fs.writeFileSync(path.join(base, 'usr/bin/python3'), '', { mode: 0o755 });
    expect(s.cannotRun(1)).toBeUndefined();
    // No base at all is the runtime's to report (it says how to build one).
    rt.defaultRootfs = () => path.join(tmp, 'no-base');
    fs.rmSync(path.join(base, 'usr/bin/python3'));
    expect(s.cannotRun(1)).toBeUndefined();
  });

  it('a refused start is the step\'s error: it passes only when a check expects it', async () => {
    const s = session(lesson(
      ['action: start', 'bindRootFirst: false', 'check: error contains "EINVAL"', 'check: running == false'],
      ['action: start', 'check: host.hostname != "box"'],
    ));
    rt.refuseNextStart = new UserError('pivot_root failed with EINVAL: the new root must be a mount point');
    const expected = await s.runStep(0);
    expect(expected).toMatchObject({ ok: true, error: 'pivot_root failed with EINVAL: the new root must be a mount point' });
    expect(rt.started).toHaveLength(0);

    rt.refuseNextStart = new UserError('the base rootfs is missing');
    const unexpected = await s.runStep(1);
    // Its only check passes, but the refusal makes the step fail.
    expect(unexpected.checks.every((c) => c.ok)).toBe(true);
    expect(unexpected).toMatchObject({ ok: false, error: 'the base rootfs is missing' });
  });

  it('a command that never started keeps docker\'s status beside the runtime\'s message', async () => {
    const s = session(lesson(['action: chroot', 'command: ["/bin/missing"]', 'check: error contains "ENOENT"', 'check: exit == 127']));
    const r = await s.runStep(0);
    expect(r).toMatchObject({ ok: true, exit: 127, error: expect.stringContaining('execve (/bin/missing) failed with ENOENT') });
  });

  it('start replaces the running container', async () => {
    const s = session(lesson(['action: start', 'hostname: a', 'check: container.hostname == a'], ['action: start', 'hostname: b', 'check: container.hostname == b']));
    expect((await s.runStep(0)).ok).toBe(true);
    expect((await s.runStep(1)).ok).toBe(true);
    expect(rt.started.map((c) => c.running)).toEqual([false, true]);
  });

  it('lesson 1\'s shape: copy a binary into the jail, chroot, kill a host process by ${victim.pid}', async () => {
    const s = session(lesson(
      ['action: copy-binary', 'binary: /bin/sh', 'check: files contains "/lib64/ld-linux-x86-64.so.2"', 'check: output contains "it needs (ldd /bin/sh):"'],
      ['action: host-process', 'command: ["sleep", "1000"]', 'as: victim', 'check: victim.alive == true'],
      ['action: chroot', 'command: kill ${victim.pid}', 'check: exit == 0', 'check: victim.alive == false', 'check: victim.exit == 143'],
      ['action: write-file', 'path: secret.txt', 'content: the host\'s secret', 'check: files == ["secret.txt"]'],
    ));
    const copy = await s.runStep(0);
    expect(copy.ok).toBe(true);
    expect(rt.log[0]).toBe(`copy /bin/sh -> ${workdir}/jail with libraries`);

    const victim = await s.runStep(1);
    expect(victim.ok).toBe(true);
    const victimContainer = rt.started[0];
    // A process on the host, and chroot(1), have root's capabilities, not a container's.
    expect(victimContainer.spec).toMatchObject({ argv: ['sleep', '1000'], rootfs: null, namespaces: [], name: 'lesson9-victim', security: securitySpecFrom({ privileged: true }) });
    expect(victim.output).toBe(`started sleep 1000 on the host as victim: PID ${victimContainer.pid}\n`);

    const kill = await s.runStep(2);
    expect(kill.checks).toEqual([
      { text: 'exit == 0', ok: true, actual: '0' },
      { text: 'victim.alive == false', ok: true, actual: 'false' },
      { text: 'victim.exit == 143', ok: true, actual: '143' },
    ]);
    expect(rt.onceSpecs[0]).toEqual({ argv: ['sh', '-c', `kill ${victimContainer.pid}`], rootfs: `${workdir}/jail`, overlay: false, pivot: false, namespaces: [], stdio: 'pipe', security: securitySpecFrom({ privileged: true }) });

    expect((await s.runStep(3)).ok).toBe(true);
    expect(fs.readFileSync(path.join(workdir, 'secret.txt'), 'utf8')).toBe("the host's secret");
  });

  it('inspect lists a directory with types and sizes', async () => {
    const s = session(lesson(
      ['action: write-file', 'path: tree/etc/motd', 'content: hello', 'check: error == ""'],
      ['action: inspect', 'path: ${workdir}/tree', 'check: files == ["etc", "etc/motd"]', 'check: whiteouts == []', 'check: output contains "5 B  etc/motd"'],
      ['action: inspect', 'path: nowhere', 'check: error contains "does not exist"'],
    ));
    await s.runStep(0);
    const listed = await s.runStep(1);
    expect(listed.ok).toBe(true);
    const owner = (f: string) => { const st = fs.statSync(`${workdir}/tree/${f}`); return `${st.uid}:${st.gid}`; };
    expect(listed.output).toBe(`${workdir}/tree:\nd             etc/  ${owner('etc')}\n-        5 B  etc/motd  ${owner('etc/motd')}\n`);
    expect((await s.runStep(2)).ok).toBe(true);
  });

  it('fills in ${container.*} and ${layers.*}; a jump runs the step that starts the container first', async () => {
    const s = session(lesson(
      ['action: start', 'check: running == true'],
      ['action: exec', 'command: echo ${container.name} ${container.pid} ${layers.upper}', 'check: exit == 0'],
    ));
    const jumped = await s.runStep(1);
    const c = rt.started[0];
    expect(jumped).toMatchObject({ ok: true, ranFirst: [0] });
    expect(jumped.output).toBe(`ran: echo lesson9 ${c.pid} /fake-state/containers/lesson9/upper\n`);
    // Run once since the reset, a dependency is not run again.
    expect((await s.runStep(1)).ranFirst).toBeUndefined();
    expect(rt.started).toHaveLength(1);
  });

  it('a jump derives what to run first from the lesson: the starter of a handle, the steps since that used it, the same work-directory path', async () => {
    const l = parseLesson(lesson(
      ['action: start', 'check: running == true'],
      ['action: copy-binary', 'binary: sh', 'check: error == ""'],
      ['action: exec', 'command: hostname', 'check: exit == 0'],
      ['action: host-process', 'command: sleep 100', 'as: victim', 'check: victim.alive == true'],
      ['action: chroot', 'command: ls', 'check: exit == 0'],
      ['action: cgroup-files', 'check: error == ""'],
      ['action: run', 'command: kill ${victim.pid}', 'check: victim.alive == false'],
    ), path.join(tmp, '09-test.md'));
    const { dependencies } = await import('../../src/lessons/depends.js');
    expect(dependencies(l, 4)).toEqual([1]); // chroot into jail: the copy into jail
    expect(dependencies(l, 5)).toEqual([0, 2]); // the lesson's container: its start and the exec since
    expect(dependencies(l, 6)).toEqual([3]); // ${victim.pid}
    expect(dependencies(l, 0)).toEqual([]);
  });

  it('exec when the container has stopped says to start it again', async () => {
    const s = session(lesson(['action: start', 'check: running == true'], ['action: stop', 'check: running == false'], ['action: exec', 'command: hostname', 'check: exit == 0']));
    await s.runStep(0);
    const stopped = await s.runStep(1);
    expect(stopped).toMatchObject({ ok: true, exit: 137, output: 'stopped lesson9 (killed by SIGKILL)\n' });
    const r = await s.runStep(2);
    expect(r).toMatchObject({ ok: false, error: 'the lesson\'s container is not running: run step 1 ("Step 1") first' });
  });

  it('shows a one-shot run while it runs, and keeps its last reading with how it ended', async () => {
    rt.liveOnce = true;
    const s = session(lesson(['action: run', 'namespaces: [uts]', 'hostname: once', 'command: sleep 1', 'probes: [hostname]', 'check: exit == 137']));
    const done = s.runStep(0);
    for (let i = 0; i < 50 && rt.started.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const [oneShot] = rt.started;
    expect(s.shown?.name).toBe(oneShot.name);
    expect(s.lessonPids).toContain(oneShot.pid);
    expect(s.probe(['hostname'])).toEqual({ host: { hostname: 'fake-host' }, container: { hostname: 'once' } });
    oneShot.finish(137, 'SIGKILL');
    const r = await done;
    expect(r).toMatchObject({ ok: true, container: { hostname: 'once' }, ended: { name: oneShot.name, how: 'exit status 137' } });
    // The panes read again later: still the last reading, marked as ended.
    expect(s.probe(['hostname'])).toEqual({ host: { hostname: 'fake-host' }, container: { hostname: 'once' }, ended: { name: oneShot.name, how: 'exit status 137' } });
    await s.reset();
    expect(s.probe(['hostname'])).toEqual({ host: { hostname: 'fake-host' } });
  });

  it('runs steps one at a time, in the order asked', async () => {
    const s = session(lesson(['action: start', 'check: running == true'], ['action: exec', 'command: hostname', 'check: exit == 0']));
    const [a, b] = await Promise.all([s.runStep(0), s.runStep(1)]);
    expect(a.ok && b.ok).toBe(true);
    expect(rt.log).toEqual(['start lesson9']);
    expect(rt.started[0].runs).toHaveLength(1);
  });

  it('reset stops what the lesson started, removes its named containers\' changes and its work directory', async () => {
    const s = session(lesson(
      ['action: start', 'name: web', 'check: running == true'],
      ['action: host-process', 'command: sleep 100', 'as: victim', 'check: victim.alive == true'],
      ['action: write-file', 'path: a/b', 'content: x', 'check: error == ""'],
    ));
    for (let i = 0; i < 3; i++) expect((await s.runStep(i)).ok).toBe(true);
    expect(rt.started[0].spec).toMatchObject({ name: 'lesson9-web' });
    expect(rt.started[0].spec.remove).toBeUndefined();
    rt.stored.add('someone-elses');
    expect(fs.existsSync(workdir)).toBe(true);
    await s.reset();
    expect(rt.started.map((c) => c.running)).toEqual([false, false]);
    expect(rt.removed).toEqual(['lesson9-web']);
    expect([...rt.stored]).toEqual(['someone-elses']);
    expect(fs.existsSync(workdir)).toBe(false);
    expect(s.container).toBeUndefined();
    // The lesson can run again after a reset.
    expect((await s.runStep(0)).ok).toBe(true);
  });

  it('refuses to run after close, and names a step that does not exist', async () => {
    const s = session(undefined);
    await expect(s.runStep(5)).rejects.toThrow('lesson 0 has no step 6: its steps are 1 to 2');
    await s.close();
    await expect(s.runStep(0)).rejects.toThrow(UserError);
  });

  it('probe() reads the host and the running container for the panes', async () => {
    const s = session(undefined);
    expect(s.probe(['hostname'])).toEqual({ host: { hostname: 'fake-host' } });
    await s.runStep(0);
    expect(s.probe(['hostname'])).toEqual({ host: { hostname: 'fake-host' }, container: { hostname: 'fixture-box' } });
  });
});

describe('lesson work directories', () => {
  const savedState = process.env.CONTAINY_STATE_DIR;
  // PID_MAX_LIMIT is 4194304: no process has this PID.
  const DEAD_PID = 4194399;
  beforeEach(() => (process.env.CONTAINY_STATE_DIR = path.join(tmp, 'state')));
  afterEach(() => {
    if (savedState === undefined) delete process.env.CONTAINY_STATE_DIR;
    else process.env.CONTAINY_STATE_DIR = savedState;
  });

  function leave(name: string): string {
    const dir = path.join(lessonsDir(), name);
    hostFiles.writeHostFile(path.join(dir, 'jail', 'x'), 'left behind');
    return dir;
  }

  it('live under the state directory, per lesson and process, and go with reset', async () => {
    expect(lessonsDir()).toBe(path.join(tmp, 'state', 'lessons'));
    const s = new LessonSession(parseLesson(lesson(['action: write-file', 'path: a', 'content: x', 'check: error == ""']), path.join(tmp, '09-test.md')), { runtime: rt, isRoot: true, hostSupport: supported });
    sessions.push(s);
    expect(s.workdir).toBe(path.join(lessonsDir(), `containy-lesson-9-${process.pid}`));
    expect((await s.runStep(0)).ok).toBe(true);
    expect(fs.readFileSync(path.join(s.workdir, 'a'), 'utf8')).toBe('x');
    await s.reset();
    expect(fs.existsSync(s.workdir)).toBe(false);
  });

  it('a killed session\'s are removed by the next session that makes its own, a live one\'s are kept', async () => {
    const dead = leave(`containy-lesson-3-${DEAD_PID}`);
    const stray = leave('not-a-workdir');
    const live = leave(`containy-lesson-4-${process.pid}`);
    const s = new LessonSession(parseLesson(lesson(['action: write-file', 'path: a', 'content: x', 'check: error == ""']), path.join(tmp, '09-test.md')), { runtime: rt, isRoot: true, hostSupport: supported });
    sessions.push(s);
    expect((await s.runStep(0)).ok).toBe(true);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(stray)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
    expect(fs.existsSync(s.workdir)).toBe(true);
  });

  it('a session given its own work directory sweeps nothing', async () => {
    const dead = leave(`containy-lesson-3-${DEAD_PID}`);
    const s = session(lesson(['action: write-file', 'path: a', 'content: x', 'check: error == ""']));
    expect((await s.runStep(0)).ok).toBe(true);
    expect(fs.existsSync(dead)).toBe(true);
  });

  it('cleanup\'s sweep says what it removed', () => {
    const dead = leave(`containy-lesson-3-${DEAD_PID}`);
    const live = leave(`containy-lesson-4-${process.pid}`);
    expect(removeStaleWorkdirs(hostFiles)).toEqual({ removed: [dead], problems: [] });
    expect(fs.existsSync(live)).toBe(true);
    expect(removeStaleWorkdirs(hostFiles)).toEqual({ removed: [], problems: [] });
  });
});

class Collect extends Writable {
  text = '';
  _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

describe('check-all', () => {
  function lessonsDir(files: Record<string, string>): string {
    const dir = path.join(tmp, 'lessons');
    fs.mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  }

  it('runs every step, prints a line per step and a table, exits 0 when all pass', async () => {
    const dir = lessonsDir({ '00-fixture.md': fs.readFileSync(FIXTURE, 'utf8'), '09-test.md': lesson(['action: run', 'rootfs: host', 'command: hostname', 'check: exit == 0']) });
    const out = new Collect();
    const code = await checkAll({ out, color: false, lessonsDir: dir, session: { runtime: rt, isRoot: true, workdir, hostSupport: supported } });
    expect(code).toBe(0);
    expect(out.text).toMatch(/^lesson 0 step 1\/2: Start a box \.\.\. pass \(\d+ ms\)$/m);
    expect(out.text).toMatch(/^lesson 9 step 1\/1: Step 1 \.\.\. pass \(\d+ ms\)$/m);
    expect(out.text).toMatch(/^lesson  step  result\s+time\s+title$/m);
    expect(out.text).toMatch(/3 of 3 steps passed in [\d.]+ s/);
    expect(rt.started.every((c) => !c.running)).toBe(true);
    expect(fs.existsSync(workdir)).toBe(false);
  });

  it('exits 1 and gives the reason when a step fails; --lesson runs one lesson', async () => {
    const dir = lessonsDir({
      '00-fixture.md': fs.readFileSync(FIXTURE, 'utf8'),
      '09-test.md': lesson(['action: run', 'rootfs: host', 'command: "false"', 'check: exit == 0']),
    });
    const out = new Collect();
    const code = await checkAll({ lesson: 9, out, color: false, lessonsDir: dir, session: { runtime: rt, isRoot: true, workdir, hostSupport: supported } });
    expect(code).toBe(1);
    expect(out.text).not.toContain('lesson 0');
    expect(out.text).toMatch(/FAIL.*\n\s+exit == 0 \(saw 1\)/);
    expect(out.text).toMatch(/0 of 1 steps passed/);
  });

  it('refuses to start without root, and names a lesson that does not exist', async () => {
    const dir = lessonsDir({ '00-fixture.md': fs.readFileSync(FIXTURE, 'utf8') });
    await expect(checkAll({ out: new Collect(), color: false, lessonsDir: dir, session: { runtime: rt, isRoot: false } })).rejects.toThrow(/need root: run `sudo containy-learn check-all`/);
    await expect(checkAll({ lesson: 4, out: new Collect(), color: false, lessonsDir: dir, session: { runtime: rt, isRoot: true } })).rejects.toThrow(/there is no lesson 4: lessons are 0/);
  });

  it('stops after the running step on abort and still tears down', async () => {
    const dir = lessonsDir({ '00-fixture.md': fs.readFileSync(FIXTURE, 'utf8') });
    const abort = new AbortController();
    const out = new Collect();
    const original = rt.startContainer;
    rt.startContainer = async (spec) => {
      const c = await original(spec);
      abort.abort();
      return c;
    };
    const code = await checkAll({ out, color: false, lessonsDir: dir, signal: abort.signal, session: { runtime: rt, isRoot: true, workdir, hostSupport: supported } });
    expect(code).toBe(130);
    expect(out.text).toContain('stopped by SIGINT');
    expect(out.text).not.toContain('step 2/2');
    expect(rt.log).toContain('stopAll');
    expect(fs.existsSync(workdir)).toBe(false);
  });
});

describe('plain text', () => {
  it('formats a lesson with its steps, actions, checks and hints', () => {
    const text = formatLessonPlain(loadLesson(FIXTURE));
    expect(text).toContain('Lesson 0: Fixture lesson\nA tiny lesson');
    expect(text).toContain('--- Step 1 of 2: Start a box ---');
    expect(text).toContain('  runs:   start (namespaces: ["uts","mnt","pid"], rootfs: host, hostname: fixture-box)');
    expect(text).toContain('  checks: container.hostname == "fixture-box"');
    expect(text).toContain('  hint:   The hostname lives in the UTS namespace.');
    expect(text).not.toMatch(/\x1b\[/);
  });

  it('lists lessons, with progress when given', () => {
    const l = loadLesson(FIXTURE);
    expect(formatLessonListPlain([l])).toBe(` #  lesson          what it teaches\n 0  Fixture lesson  A tiny lesson the engine's tests load and run.\n\nOpen one with \`sudo containy-learn lesson N\`.\n`);
    expect(formatLessonListPlain([l], { 0: { status: 'in progress', step: 1 } })).toContain(' 0  Fixture lesson  step 2 of 2     A tiny');
  });
});
