// What the TUI needs from the lesson engine, as a structural type: the real
// LessonSession (src/lessons/engine.ts) satisfies it, and component tests pass
// a fake. The TUI reaches the kernel only through this.
import type { EndedContainer, Lesson, ProbeKind, ProbeSnapshot, Step, StepResult } from '../lessons/types.js';

export type { EndedContainer, Lesson, ProbeKind, ProbeSnapshot, Step, StepResult };

/** The part of a running container the panes show in their header. */
export interface LiveContainer {
  readonly name: string;
  readonly pid: number;
}

export interface WorkshopSession {
  /** The lesson's container while one is alive; undefined otherwise. */
  readonly container: LiveContainer | undefined;
  /** The container the panes show, a step's running one-shot included (default: `container`). */
  readonly shown?: LiveContainer;
  /** Host PIDs of what the lesson started and runs now (the victim, containers' first processes). */
  readonly lessonPids?: readonly number[];
  runStep(index: number): Promise<StepResult>;
  /** `ended`: `container` is the last reading of a one-shot that has exited since. */
  probe(kinds: ProbeKind[]): { host: ProbeSnapshot; container?: ProbeSnapshot; ended?: EndedContainer };
  reset(): Promise<void>;
  close(): Promise<void>;
}

export type OpenSession = (lesson: Lesson) => WorkshopSession | Promise<WorkshopSession>;
