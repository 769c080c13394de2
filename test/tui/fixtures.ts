// Lessons and a scripted engine session for the TUI's component tests. The
// fake session records what the TUI asked of it; its probe answers are given
// by each test, like the real engine's would be read from the kernel.
import type { Lesson, ProbeKind, ProbeSnapshot, Step, StepResult } from '../../src/lessons/types.js';
import type { LiveContainer, WorkshopSession } from '../../src/tui/types.js';

export const LONG_COMMAND = "sudo unshare --uts --pid --fork --mount-proc sh -c 'hostname box; exec sleep 99'";

export function makeStep(index: number, over: Partial<Step> = {}): Step {
  return {
    index,
    title: `Step title ${index + 1}`,
    prose: `Prose of step ${index + 1}.`,
    action: { name: 'start', params: {} },
    probes: ['hostname', 'namespaces'],
    checks: [{ text: 'container.hostname == "box"', left: 'container.hostname', op: '==', right: 'box' }],
    hints: [`first hint of step ${index + 1}`, `second hint of step ${index + 1}`],
    needs: [],
    tools: [],
    line: 1,
    ...over,
  };
}

export function makeLesson(id: number, over: Partial<Lesson> = {}): Lesson {
  const slug = `lesson-${id}`;
  return {
    id,
    slug,
    title: `Title of lesson ${id}`,
    summary: `What lesson ${id} teaches.`,
    needs: [],
    intro: '',
    steps: [0, 1, 2].map((i) => makeStep(i)),
    file: `/lessons/${String(id).padStart(2, '0')}-${slug}.md`,
    ...over,
  };
}

export const LESSONS: Lesson[] = [0, 1, 2, 3, 4, 5].map((id) => makeLesson(id));

export const HOST_SNAPSHOT: ProbeSnapshot = {
  hostname: 'the-host',
  namespaces: { ipc: 4026531839, mnt: 4026531841, net: 4026531840, pid: 4026531836, uts: 4026531838 },
  processes: [
    { pid: 1, command: '/sbin/init' },
    { pid: 2, command: '[kthreadd]' },
    { pid: 412, command: 'sshd: /usr/sbin/sshd -D' },
  ],
  ids: { uid: 0, gid: 0 },
};

export const CONTAINER_SNAPSHOT: ProbeSnapshot = {
  hostname: 'box',
  // ipc and mnt like the host's (not unshared), the rest new.
  namespaces: { ipc: 4026531839, mnt: 4026531841, net: 4026532300, pid: 4026532301, uts: 4026532302 },
  processes: [{ pid: 1, command: 'sleep 99' }],
  ids: { uid: 0, gid: 0 },
};

export class FakeSession implements WorkshopSession {
  container: LiveContainer | undefined;
  host: ProbeSnapshot = HOST_SNAPSHOT;
  containerSnapshot: ProbeSnapshot = CONTAINER_SNAPSHOT;
  probeCalls: ProbeKind[][] = [];
  runs: number[] = [];
  resets = 0;
  closed = 0;
  /** What runStep resolves with; by default it starts "box" and passes. */
  nextResult: (index: number) => StepResult = () => ({
    ok: true,
    checks: [{ text: 'container.hostname == "box"', ok: true, actual: '"box"' }],
    output: 'box\n',
    exit: 0,
    ms: 12,
    host: this.host,
    container: this.containerSnapshot,
  });
  /** Whether runStep leaves a container running. */
  startsContainer = true;

  async runStep(index: number): Promise<StepResult> {
    this.runs.push(index);
    if (this.startsContainer) this.container = { name: 'lesson-box', pid: 4242 };
    return this.nextResult(index);
  }

  probe(kinds: ProbeKind[]): { host: ProbeSnapshot; container?: ProbeSnapshot } {
    this.probeCalls.push(kinds);
    return this.container ? { host: this.host, container: this.containerSnapshot } : { host: this.host };
  }

  async reset(): Promise<void> {
    this.resets++;
    this.container = undefined;
  }

  async close(): Promise<void> {
    this.closed++;
    this.container = undefined;
  }
}

// Ink subscribes to input and React flushes effects asynchronously: a bare setTimeout(0) can come first.
export const tick = (ms = 15): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the condition holds (frames render asynchronously), failing after `ms`. */
export async function waitFor(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await tick(5);
  }
}

export const ESC = String.fromCharCode(27);
export const KEY = { up: `${ESC}[A`, down: `${ESC}[B`, right: `${ESC}[C`, left: `${ESC}[D`, enter: '\r', escape: ESC, tab: '\t' };
