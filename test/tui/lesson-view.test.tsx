import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import { LessonView } from '../../src/tui/lesson-view.js';
import { loadMarkdownRenderer, type MarkdownRenderer } from '../../src/tui/markdown.js';
import { ProgressStore } from '../../src/tui/progress.js';
import { FakeSession, KEY, makeLesson, makeStep, tick, waitFor } from './fixtures.js';

// 76 columns: fits a 79-column text area with our 2-column indent; marked-terminal's own
// 4-column indent would make it 80 and the line would wrap in the middle of the command.
const FITTING_COMMAND = "sudo unshare --uts --pid --fork --mount-proc sh -c 'hostname box; sleep 9'";
// Wider than any 80-column screen: it must be split only where the shell allows.
const OVERLONG_COMMAND =
  "sudo unshare --uts --pid --net --ipc --mount --fork --mount-proc chroot /srv/rootfs /bin/sh -c 'hostname box; exec sleep infinity'";

const PROSE = `Give the process its **own hostname**:

    ${FITTING_COMMAND}

- \`--uts\` makes a **new** UTS namespace
- \`--pid\` a new PID namespace

\`\`\`sh
${OVERLONG_COMMAND}
\`\`\`
`;

let markdown: MarkdownRenderer;
let dir: string;
let progress: ProgressStore;
beforeAll(async () => {
  markdown = await loadMarkdownRenderer();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-tui-lesson-'));
  progress = new ProgressStore({ file: path.join(dir, 'progress.json') });
});
afterEach(() => {
  cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

const lesson = makeLesson(2, {
  title: 'unshare and namespaces',
  steps: [
    makeStep(0, { title: 'UTS: your own hostname', prose: PROSE }),
    makeStep(1, { title: 'PID: PID 1', probes: ['processes'], notes: 'Point at PID 1 in the container pane.' }),
    makeStep(2, { title: 'Only reading', probes: [], hints: [], action: { name: 'write-file', params: {} } }),
  ],
});

function renderLesson(session: FakeSession | undefined, over: Partial<Parameters<typeof LessonView>[0]> = {}) {
  const onBack = vi.fn();
  const app = render(
    <LessonView lesson={lesson} session={session} startStep={0} progress={progress} markdown={markdown} width={80} height={40} onBack={onBack} {...over} />,
  );
  return { ...app, onBack };
}

const lines = (frame: string | undefined): string[] => (frame ?? '').split('\n');
/** The row of the panes holding `text`, split into its host and container halves (80 columns: 39 | 40). */
function paneRow(frame: string | undefined, text: string): { host: string; container: string } {
  const row = lines(frame).find((l) => l.includes('│') && l.includes(text));
  if (!row) throw new Error(`no pane row with ${text} in:\n${frame}`);
  const [host, container] = row.split('│');
  return { host, container };
}

describe('lesson view: the step', () => {
  it('shows where the learner is, the markdown, and code blocks unwrapped at 80 columns', async () => {
    const { lastFrame } = renderLesson(new FakeSession());
    await tick();
    const frame = lastFrame()!;
    expect(lines(frame)[0]).toMatch(/^lesson 2 · unshare and namespaces\s+step 1 of 3$/);
    expect(frame).toContain('1. UTS: your own hostname');
    // Inline styles inside list items are rendered, not printed as markdown.
    expect(frame).toContain('--uts makes a new UTS namespace');
    expect(frame).not.toContain('**');
    // The fitting command is on one line, whole.
    expect(lines(frame).some((l) => l.trim() === FITTING_COMMAND)).toBe(true);
    // The overlong one is split at spaces outside quotes, with shell continuations, and reassembles exactly.
    const start = lines(frame).findIndex((l) => l.trimStart().startsWith('sudo unshare --uts --pid --net'));
    expect(start).toBeGreaterThan(0);
    const parts: string[] = [];
    for (let i = start; ; i++) {
      const l = lines(frame)[i];
      parts.push(l.trim().replace(/ \\$/, ''));
      if (!l.endsWith(' \\')) break;
    }
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join(' ')).toBe(OVERLONG_COMMAND);
    expect(parts.some((p) => p.includes("'hostname box; exec sleep infinity'"))).toBe(true);
    for (const l of lines(frame)) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('fits 80x24: the frame is 23 rows, none wider than 80, and the text scrolls', async () => {
    const { lastFrame, stdin } = renderLesson(new FakeSession(), { height: 23 });
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('result: ✓ passed'), 'the result');
    expect(lines(lastFrame())).toHaveLength(23);
    for (const l of lines(lastFrame())) expect(l.length).toBeLessThanOrEqual(80);
    // The run scrolled the result into view, in the frame that added it; k goes back up to the title.
    expect(lastFrame()).toContain('↑ more');
    expect(lastFrame()).not.toContain('1. UTS: your own hostname');
    for (let i = 0; i < 30; i++) stdin.write('k');
    await tick();
    expect(lastFrame()).toContain('1. UTS: your own hostname');
    expect(lines(lastFrame())).toHaveLength(23);
  });

  it('shows a step\'s speaker notes only with s (presenter mode), and says when a step has none', async () => {
    const { lastFrame, stdin } = renderLesson(new FakeSession(), { startStep: 1 });
    await tick();
    expect(lastFrame()).not.toContain('Point at PID 1');
    stdin.write('s');
    await tick();
    expect(lastFrame()).toContain('speaker notes');
    expect(lastFrame()).toContain('Point at PID 1 in the container pane.');
    stdin.write('p');
    await tick();
    expect(lastFrame()).toContain('no notes for this step');
    stdin.write('s');
    await tick();
    expect(lastFrame()).not.toContain('speaker notes');
  });

  it('moves between steps with n/p and the arrows, and saves where the learner is', async () => {
    const { lastFrame, stdin } = renderLesson(new FakeSession());
    await tick();
    stdin.write('n');
    await tick();
    expect(lastFrame()).toContain('step 2 of 3');
    expect(lastFrame()).toContain('2. PID: PID 1');
    stdin.write(KEY.right);
    await tick();
    expect(lastFrame()).toContain('step 3 of 3');
    stdin.write('n');
    await tick();
    expect(lastFrame()).toContain('step 3 of 3');
    expect(lastFrame()).toContain('that was the last step');
    expect(JSON.parse(fs.readFileSync(progress.location.file, 'utf8')).lessons['lesson-2'].step).toBe(2);
    stdin.write('p');
    await tick();
    stdin.write(KEY.left);
    await tick();
    expect(lastFrame()).toContain('step 1 of 3');
    expect(JSON.parse(fs.readFileSync(progress.location.file, 'utf8')).lessons['lesson-2'].step).toBe(0);
  });

  it('takes a burst of keys in order: two steps on, then run that step', async () => {
    const session = new FakeSession();
    const { lastFrame, stdin } = renderLesson(session);
    await tick();
    stdin.write('nn\r');
    await waitFor(() => lastFrame()!.includes('result:'), 'the run');
    expect(session.runs).toEqual([2]);
    expect(lastFrame()).toContain('step 3 of 3');
  });

  it('reveals hints one at a time with h', async () => {
    const { lastFrame, stdin } = renderLesson(new FakeSession());
    await tick();
    expect(lastFrame()).not.toContain('first hint');
    stdin.write('h');
    await tick();
    expect(lastFrame()).toContain('hint 1/2: first hint of step 1');
    expect(lastFrame()).not.toContain('second hint');
    stdin.write('h');
    await tick();
    expect(lastFrame()).toContain('hint 2/2: second hint of step 1');
    stdin.write('h');
    await tick();
    expect(lastFrame()).toContain('no more hints');
  });

  it('shows the keys on ? and closes the help on any key', async () => {
    const { lastFrame, stdin, onBack } = renderLesson(new FakeSession());
    await tick();
    stdin.write('?');
    await tick();
    expect(lastFrame()).toContain('reset the lesson');
    expect(lastFrame()).toContain('≠  differs from the other side');
    stdin.write('q');
    await tick();
    expect(onBack).not.toHaveBeenCalled();
    expect(lastFrame()).toContain('step 1 of 3');
    stdin.write('q');
    await tick();
    expect(onBack).toHaveBeenCalledOnce();
  });
});

describe('lesson view: running a step', () => {
  it('runs the step on enter and shows the checks, the output and both panes with the differences marked', async () => {
    const session = new FakeSession();
    const { lastFrame, stdin } = renderLesson(session);
    await tick();
    expect(paneRow(lastFrame(), 'hostname: the-host').container.trim()).toBe('');
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('result: ✓ passed'), 'the result');
    const frame = lastFrame()!;
    expect(session.runs).toEqual([0]);
    expect(frame).toContain('✓ container.hostname == "box"   (saw: "box")');
    expect(frame).toContain('exit status 0');
    expect(frame).toMatch(/output:\n\s+box/);
    // Hostnames: both differ, both marked.
    const hostname = paneRow(frame, 'hostname: the-host');
    expect(hostname.host).toMatch(/^≠ hostname: the-host/);
    expect(hostname.container).toMatch(/^≠ hostname: box/);
    // Namespaces: uts was unshared (marked), ipc was not (unmarked).
    const uts = paneRow(frame, 'uts    4026531838');
    expect(uts.host.startsWith('≠')).toBe(true);
    expect(uts.container).toMatch(/^≠ uts\s+4026532302/);
    const ipc = paneRow(frame, 'ipc    4026531839');
    expect(ipc.host.startsWith(' ')).toBe(true);
    expect(ipc.container).toMatch(/^ {2}ipc\s+4026531839/);
    expect(frame).toContain('container lesson-box · live');
    expect(JSON.parse(fs.readFileSync(progress.location.file, 'utf8')).lessons['lesson-2'].passed).toEqual([0]);
  });

  it('runs a step asked for while the session was still opening, once it is open', async () => {
    const session = new FakeSession();
    const onBack = () => {};
    const view = (s?: FakeSession) => (
      <LessonView lesson={lesson} session={s} startStep={0} progress={progress} markdown={markdown} width={80} height={40} onBack={onBack} />
    );
    const { lastFrame, stdin, rerender } = render(view());
    await tick();
    stdin.write(KEY.enter);
    await tick();
    expect(lastFrame()).toContain('the step runs as soon as it is ready');
    expect(session.runs).toEqual([]);
    rerender(view(session));
    await waitFor(() => lastFrame()!.includes('result: ✓ passed'), 'the run');
    expect(session.runs).toEqual([0]);
  });

  it('says why a step cannot run here instead of running it', async () => {
    const session = new FakeSession();
    session.startsContainer = false;
    session.nextResult = () => ({ ok: false, checks: [], output: '', ms: 0, cannotRun: 'this step needs root: run sudo containy-learn' });
    const { lastFrame, stdin } = renderLesson(session);
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('cannot run here'), 'the refusal');
    expect(lastFrame()).toContain('! this step needs root: run sudo containy-learn');
    expect(lastFrame()).toContain('container · none running');
  });

  it('names what a step needs above its prose, machine features and base commands alike', async () => {
    const needy = makeLesson(5, { steps: [makeStep(0, { title: 'Fork refused', needs: ['root', 'cgroups'], tools: ['python3'] })] });
    const { lastFrame } = renderLesson(new FakeSession(), { lesson: needy });
    await tick();
    expect(lastFrame()).toContain('needs: root, cgroups, python3');
  });

  it('shows a failed check with what it saw, and the runtime error', async () => {
    const session = new FakeSession();
    session.nextResult = () => ({
      ok: false,
      checks: [{ text: 'container.hostname == "box"', ok: false, actual: '(no container is running)' }],
      output: '',
      error: 'the container stage exited before it was ready',
      ms: 80,
    });
    session.startsContainer = false;
    const { lastFrame, stdin } = renderLesson(session);
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('not yet'), 'the failure');
    expect(lastFrame()).toContain('✗ container.hostname == "box"   (saw: (no container is running))');
    expect(lastFrame()).toContain('error: the container stage exited before it was ready');
  });

  it('resets the lesson on r: the engine tears down, the result goes', async () => {
    const session = new FakeSession();
    const { lastFrame, stdin } = renderLesson(session);
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('result: ✓ passed'), 'the result');
    stdin.write('r');
    await waitFor(() => lastFrame()!.includes('lesson reset') && lastFrame()!.includes('container · none running'), 'the reset');
    expect(session.resets).toBe(1);
    expect(lastFrame()).not.toContain('result:');
  });

  it('shows the panes stacked on a narrow terminal', async () => {
    const session = new FakeSession();
    const { lastFrame, stdin } = renderLesson(session, { width: 50 });
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('result: ✓ passed'), 'the result');
    const frame = lastFrame()!;
    expect(frame).not.toContain('│');
    const hostTitle = lines(frame).findIndex((l) => l.startsWith(' host'));
    const containerTitle = lines(frame).findIndex((l) => l.startsWith(' container lesson-box'));
    expect(hostTitle).toBeGreaterThan(0);
    expect(containerTitle).toBeGreaterThan(hostTitle);
    expect(lines(frame).slice(containerTitle).some((l) => l.startsWith('≠ hostname: box'))).toBe(true);
  });
});

describe('lesson view: live panes', () => {
  const POLL = 20;

  it('reads the probes once and starts no timer while no container is alive', async () => {
    const session = new FakeSession();
    const { frames } = renderLesson(session, { pollMs: POLL });
    await tick(10 * POLL);
    expect(session.probeCalls).toHaveLength(1);
    const before = frames.length;
    await tick(10 * POLL);
    expect(session.probeCalls).toHaveLength(1);
    expect(frames.length).toBe(before);
  });

  it('polls while the container lives, backs off while it is quiet, redraws only on a change, and stops when it is gone', async () => {
    const session = new FakeSession();
    const { lastFrame, stdin, frames } = renderLesson(session, { pollMs: POLL, startStep: 1 });
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('result: ✓ passed'), 'the result');
    // The run's own snapshots are shown without another read.
    const readsAfterRun = session.probeCalls.length;
    const quiet = frames.length;
    await tick(15 * POLL);
    // Quiet: read after 1, 2, 4, 5, 5... polls' time, not every poll; and not one new frame.
    const quietReads = session.probeCalls.length - readsAfterRun;
    expect(quietReads).toBeGreaterThanOrEqual(2);
    expect(quietReads).toBeLessThanOrEqual(6);
    expect(frames.length).toBe(quiet);

    // A process appears in the container: shown within the longest quiet interval.
    session.containerSnapshot = { ...session.containerSnapshot, processes: [{ pid: 1, command: 'sleep 99' }, { pid: 7, command: 'ps -ef' }] };
    await waitFor(() => lastFrame()!.includes('7 ps -ef'), 'the new process', 10 * POLL);
    expect(paneRow(lastFrame(), 'processes: 2').container).toMatch(/^≠ processes: 2/);

    // While the container keeps changing (a counter climbing), it is read every poll.
    let counter = 0;
    const probe = session.probe.bind(session);
    session.probe = (kinds) => {
      session.containerSnapshot = { ...session.containerSnapshot, processes: [{ pid: 1, command: 'sleep 99' }, { pid: 100 + ++counter, command: 'date' }] };
      return probe(kinds);
    };
    await tick(POLL);
    const busyFrom = session.probeCalls.length;
    await tick(10 * POLL);
    expect(session.probeCalls.length - busyFrom).toBeGreaterThanOrEqual(6);
    session.probe = probe;

    // The container exits: the last state stays, marked, and polling stops.
    session.container = undefined;
    await waitFor(() => lastFrame()!.includes('container · exited'), 'the exit', 10 * POLL);
    const calls = session.probeCalls.length;
    await tick(10 * POLL);
    expect(session.probeCalls.length).toBe(calls);
  });

  it('draws nothing, and reads less and less often, when what changes is out of sight', async () => {
    const session = new FakeSession();
    const many = Array.from({ length: 40 }, (_, i) => ({ pid: i + 1, command: `worker ${i + 1}` }));
    session.containerSnapshot = { ...session.containerSnapshot, processes: many };
    const { lastFrame, stdin, frames } = renderLesson(session, { pollMs: POLL, startStep: 1, height: 20 });
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('result: ✓ passed'), 'the result');
    expect(lastFrame()).toMatch(/… \d+ more/);
    // The last process (hidden below "… N more") changes on every read.
    let n = 0;
    const probe = session.probe.bind(session);
    session.probe = (kinds) => {
      session.containerSnapshot = { ...session.containerSnapshot, processes: [...many.slice(0, -1), { pid: 40, command: `worker 40 run ${++n}` }] };
      return probe(kinds);
    };
    await tick(2 * POLL);
    const drawn = frames.length;
    const reads = session.probeCalls.length;
    await tick(15 * POLL);
    const unseenReads = session.probeCalls.length - reads;
    expect(unseenReads).toBeGreaterThanOrEqual(2);
    expect(unseenReads).toBeLessThanOrEqual(6);
    expect(frames.length).toBe(drawn);
  });

  it('draws a change on the host alone at most every ten polls', async () => {
    const session = new FakeSession();
    const { lastFrame, stdin } = renderLesson(session, { pollMs: POLL, startStep: 1 });
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes('result: ✓ passed'), 'the result');
    const ranAt = Date.now();
    session.host = { ...session.host, processes: [...session.host.processes!, { pid: 999, command: 'cron' }] };
    await waitFor(() => lastFrame()!.includes('999 cron'), 'the host change', 30 * POLL);
    expect(Date.now() - ranAt).toBeGreaterThanOrEqual(10 * POLL);
  });

  it('a container step without probes shows what its action is about: processes, and the cgroup with limits', async () => {
    const { paneKinds } = await import('../../src/tui/panes.js');
    expect(paneKinds(makeStep(0, { probes: [], action: { name: 'run', params: { limits: { cpus: 0.1 } } } }))).toEqual(['cgroup', 'processes']);
    expect(paneKinds(makeStep(0, { probes: [], action: { name: 'run', params: {} } }))).toEqual(['processes']);
    expect(paneKinds(makeStep(0, { probes: ['mounts'], action: { name: 'run', params: {} } }))).toEqual(['mounts']);
    expect(paneKinds(makeStep(0, { probes: [], action: { name: 'write-file', params: {} } }))).toEqual([]);
  });

  it('has no panes for a step without probes', async () => {
    const { lastFrame } = renderLesson(new FakeSession(), { startStep: 2 });
    await tick();
    expect(lastFrame()).not.toContain('│');
    expect(lastFrame()).not.toContain('host');
  });
});
