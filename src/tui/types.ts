// What the TUI needs from the lesson engine, as a structural type: the real
// LessonSession (src/lessons/engine.ts) satisfies it, and component tests pass
// a fake. The TUI reaches the kernel only through this.
import type { Lesson, ProbeKind, ProbeSnapshot, Step, StepResult } from '../lessons/types.js';

export type { Lesson, ProbeKind, ProbeSnapshot, Step, StepResult };

/** The part of a running container the panes show in their header. */
export interface LiveContainer {
  readonly name: string;
  readonly pid: number;
}

export interface WorkshopSession {
  /** The lesson's container while one is alive; undefined otherwise. */
  readonly container: LiveContainer | undefined;
  runStep(index: number): Promise<StepResult>;
  probe(kinds: ProbeKind[]): { host: ProbeSnapshot; container?: ProbeSnapshot };
  reset(): Promise<void>;
  close(): Promise<void>;
}

export type OpenSession = (lesson: Lesson) => WorkshopSession | Promise<WorkshopSession>;
