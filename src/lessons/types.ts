// What a lesson is once loaded from its markdown file (lessons/FORMAT.md), and
// what running one of its steps gives back. The TUI and `check-all` only see these.
import type { ProbeKind, ProbeSnapshot } from '../runtime/index.js';

export type { ProbeKind, ProbeSnapshot };

/** What a step needs from the machine it runs on. */
export type Need = 'root' | 'overlay' | 'cgroups';
export const NEEDS: readonly Need[] = ['root', 'overlay', 'cgroups'];

/** `check: left op right`, e.g. `container.hostname == "box"`. */
export interface Check {
  /** The line as written, for display. */
  text: string;
  /** What is compared: `output`, `exit`, `error`, `host.hostname`, `victim.alive`... */
  left: string;
  /** `==`, `!=`, `contains`, `!contains`, `matches`, `!matches`, `<`, `>`, `<=`, `>=`. */
  op: string;
  /** The expected value: a JSON value, a bare string, or a RegExp for `matches`. */
  right: unknown;
}

export interface Step {
  /** 0-based position in the lesson. */
  index: number;
  title: string;
  /** Markdown shown before the step runs. */
  prose: string;
  action: { name: string; params: Record<string, unknown> };
  /** Which comparisons the host/container panes show for this step. */
  probes: ProbeKind[];
  checks: Check[];
  hints: string[];
  /** What this step needs: declared with `needs:` plus what its action implies (root, overlay, cgroups). */
  needs: Need[];
  /** Commands it needs on the base rootfs's PATH (`needs: [python3]`): a base without one cannot run the step. */
  tools: string[];
  /** Commands it runs on the host (`needs-host: [runc, strace]`): a host without one on its PATH cannot run the step. */
  hostTools: string[];
  /** Speaker notes for an instructor (a ```notes block): never shown to the learner, only with the presenter key. */
  notes?: string;
  /** 1-based line of the step's heading in the file, for error messages. */
  line: number;
}

export interface Lesson {
  id: number;
  slug: string;
  title: string;
  summary: string;
  /** Needed by every step (the front matter's `needs:`). */
  needs: Need[];
  /** Markdown shown before step 1. */
  intro: string;
  steps: Step[];
  /** Absolute path of the lesson's file. */
  file: string;
}

export interface CheckOutcome {
  text: string;
  ok: boolean;
  /** The value the check saw, in words (shown on failure). */
  actual: string;
}

export interface StepResult {
  /** Every check passed (and the action was not refused, unless a check expected the refusal). */
  ok: boolean;
  checks: CheckOutcome[];
  /** What the command printed (stdout then stderr), or the action's own report (a listing, the copied files). */
  output: string;
  exit?: number;
  /** The runtime's refusal or the action's failure, in one sentence. */
  error?: string;
  /** A refused syscall in the output, explained from the container's capabilities and filter. */
  securityNotes?: string[];
  /** Time spent on the action and its checks. */
  ms: number;
  /** Why this step cannot run here and what to change, e.g. 'this step needs root: run sudo containy-learn'. Set instead of running. */
  cannotRun?: string;
  /** Probes read right after the action: the host's, and the container's while one is running. */
  host?: ProbeSnapshot;
  container?: ProbeSnapshot;
  /** A one-shot container the step ran (run): `container` is then its last reading while it ran, and this how it ended. */
  ended?: EndedContainer;
  /** The earlier steps (0-based) this step depends on that were run first, quietly, because the learner jumped here. */
  ranFirst?: number[];
}

/** A one-shot container that has exited: its name and what ended it ("the container was OOM-killed (memory limit 512 MiB)"). */
export interface EndedContainer {
  name: string;
  how: string;
}
