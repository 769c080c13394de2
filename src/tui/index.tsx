// The workshop's entry point for the CLI. Everything heavy is imported here,
// inside runWorkshop, after NODE_ENV is settled: React and Ink pick their
// production builds when they load, and `containy-learn list` never pays for them.
// (No JSX in this file for the same reason: JSX would import react/jsx-runtime up front.)
import type { Lesson, OpenSession } from './types.js';

export interface WorkshopOptions {
  /** Open this lesson (its number, as in `containy-learn lesson 4`) instead of the menu. */
  lesson?: number;
  /** 1-based step of that lesson, as shown ("step 3 of 7"). Default: where the learner stopped. */
  step?: number;
  /** `--record FILE.cast`: the recording, opened for writing (an fd), see ./record.ts. */
  recordFd?: number;
  /** Aborted on SIGINT/SIGTERM/SIGHUP (the CLI's signals module); its reason carries the `exitCode`. */
  signal?: AbortSignal;
}

/** Exit code for a bad lesson/step number, as the runtime's UserError. */
const USAGE_EXIT = 125;

/**
 * Set CONTAINY_FIRST_FRAME_MARK=1 to have the first frame of the menu write
 * `containy-learn first-frame-ms <ms since process start>` to stderr
 * (`=exit` also quits right after it, for the startup benchmark).
 */
export const FIRST_FRAME_MARK_ENV = 'CONTAINY_FIRST_FRAME_MARK';

/**
 * Set CONTAINY_TUI_TIMING=1 to have every run of a step write
 * `containy-learn step-to-frame-ms <ms> action-ms <ms> frames-while-running <n>`
 * to stderr: the time from the engine's answer to the first write of the frame
 * showing it, the engine's own time for the step (action, probes, checks), and
 * the frames drawn while the step ran (the live panes).
 */
export const TIMING_ENV = 'CONTAINY_TUI_TIMING';

function problem(message: string): number {
  process.stderr.write(`containy-learn: ${message}\n`);
  return USAGE_EXIT;
}

/** Which lesson and 0-based step to open, undefined for the menu, or the exit code of a bad number (after saying why). */
export function pickLesson(lessons: Lesson[], opts: WorkshopOptions): { index: number; step?: number } | number | undefined {
  if (opts.lesson === undefined) {
    if (opts.step !== undefined) return problem('--step needs a lesson: `containy-learn lesson N --step M`');
    return undefined;
  }
  const index = lessons.findIndex((l) => l.id === opts.lesson);
  if (index < 0) {
    const ids = lessons.map((l) => l.id);
    return problem(`lesson ${opts.lesson}: no such lesson; they are ${ids.length ? `${Math.min(...ids)} to ${Math.max(...ids)}` : 'missing'} (see \`containy-learn list\`)`);
  }
  const count = lessons[index].steps.length;
  if (opts.step !== undefined && (!Number.isInteger(opts.step) || opts.step < 1 || opts.step > count)) {
    return problem(`--step ${opts.step}: lesson ${opts.lesson} has steps 1 to ${count}`);
  }
  return { index, step: opts.step === undefined ? undefined : opts.step - 1 };
}

/** A lesson's engine session: the lesson engine, the container runtime and koffi load here, when a lesson opens, not for the menu. */
export const openLessonSession: OpenSession = async (lesson) => {
  const { LessonSession } = await import('../lessons/engine.js');
  return new LessonSession(lesson);
};

/**
 * Runs the workshop in this terminal: the menu (or lesson N at step M), until
 * the learner quits. Resolves with the exit code once every lesson session it
 * opened is closed (their containers removed), also on Ctrl-C, SIGINT, SIGTERM
 * and SIGHUP. Progress is saved as the learner goes.
 */
export async function runWorkshop(
  opts: WorkshopOptions = {},
  /** For tools and tests: other lessons, another way to open a session. */
  deps: {
    openSession?: OpenSession;
    lessons?: Lesson[];
    /** Called once the first frame is drawn (the menu's; else when the workshop ends): the CLI keeps its code cache then. */
    onFirstFrame?: () => void;
  } = {},
): Promise<number> {
  process.env.NODE_ENV ??= 'production';
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    return problem('the workshop needs a terminal; for plain text use `containy-learn list` or `containy-learn lesson N` with output redirected');
  }

  const [{ createElement }, { render }, { App }, { ProgressStore }, { SessionRegistry }, { runTiming }, { recordStdout }, lessons] = await Promise.all([
    import('react'),
    import('./ink.js'),
    import('./app.js'),
    import('./progress.js'),
    import('./sessions.js'),
    import('./lesson-view.js'),
    import('./record.js'),
    // The build's parsed copy when the lesson files are as built (lesson-cache.ts), else the loader.
    deps.lessons ?? import('../lessons/lesson-cache.js').then((m) => m.loadPackageLessons()),
  ]);
  if (lessons.length === 0) return problem('no lessons found');
  const picked = pickLesson(lessons, opts);
  if (typeof picked === 'number') return picked;

  const sessions = new SessionRegistry(deps.openSession ?? openLessonSession);
  const progress = ProgressStore.open();
  const exitRef: { current?: (code: number) => void } = {};

  let exitCode: number | undefined;
  let resolveExit!: () => void;
  const exited = new Promise<void>((resolve) => (resolveExit = resolve));
  const finish = (code: number): void => {
    exitCode ??= code;
    resolveExit();
  };

  const mark = process.env[FIRST_FRAME_MARK_ENV];
  let marked = false;
  const onFirstMenuFrame = (): void => {
    if (marked) return;
    marked = true;
    if (mark) process.stderr.write(`containy-learn first-frame-ms ${performance.now().toFixed(1)}\n`);
    deps.onFirstFrame?.();
    if (mark === 'exit') setImmediate(() => exitRef.current?.(0));
  };

  const onSignal = (): void => {
    const code = (opts.signal?.reason as { exitCode?: number } | undefined)?.exitCode ?? 1;
    if (exitRef.current) exitRef.current(code);
    else finish(code);
  };
  opts.signal?.addEventListener('abort', onSignal);
  // After SIGHUP the terminal is gone and every write fails with EIO: the sessions must still be closed.
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EIO' && error.code !== 'EPIPE') throw error;
  };
  process.stdout.on('error', onStdoutError);

  const restoreWrite = process.env[TIMING_ENV] ? timeFrames(runTiming) : undefined;

  // The recording starts with the workshop's screen and ends with its last frame (not the learner's shell).
  const stopRecording = opts.recordFd === undefined ? undefined : recordStdout(opts.recordFd);
  // The alternate screen: the workshop gets the whole terminal and gives the learner's scrollback back on exit.
  process.stdout.write('\x1b[?1049h\x1b[H');
  const notice = process.getuid?.() === 0 ? undefined : 'not root: the lessons open and read; steps that need root say so (sudo containy-learn)';
  let instance: ReturnType<typeof render> | undefined;
  let renderError: Error | undefined;
  try {
    instance = render(
      createElement(App, {
        lessons,
        sessions,
        progress,
        initialLesson: typeof picked === 'object' ? picked : undefined,
        notice,
        onExit: finish,
        onFirstMenuFrame,
        exitRef,
      }),
      // 60 fps: Ink holds a frame back for 1000/maxFps ms after the last one, and while a step
      // runs the live panes draw often: at Ink's 30 the result could wait 33 ms behind a pane frame.
      { exitOnCtrlC: false, maxFps: 60 },
    );
    // The app ends through finish(); Ink may also unmount on its own (an error, or signal-exit on a signal).
    await Promise.race([exited, instance.waitUntilExit()]);
  } catch (error) {
    renderError = error as Error;
  } finally {
    opts.signal?.removeEventListener('abort', onSignal);
  }
  instance?.unmount();
  if (!marked) deps.onFirstFrame?.(); // opened straight into a lesson: what it ran is worth keeping too
  stopRecording?.();
  const problems = await sessions.closeAll();
  // Back to the learner's screen, cursor shown (Ink shows it on stderr, which may be redirected).
  process.stdout.write('\x1b[?1049l\x1b[?25h');
  process.stdout.off('error', onStdoutError);
  restoreWrite?.();
  for (const p of problems) process.stderr.write(`containy-learn: closing a lesson: ${p}\n`);
  if (progress.problem) process.stderr.write(`containy-learn: ${progress.problem}\n`);
  if (renderError) {
    process.stderr.write(`containy-learn: the workshop stopped: ${renderError.message}\n`);
    return 1;
  }
  return exitCode ?? (problems.length ? 1 : 0);
}

/** Reports, on stderr, when the first frame after a step's result is written (see TIMING_ENV). */
function timeFrames(runTiming: { startedAt?: number; resolvedAt?: number; actionMs?: number }): () => void {
  const write = process.stdout.write;
  let frames = 0;
  process.stdout.write = function (this: NodeJS.WriteStream, ...args: Parameters<typeof write>) {
    const written = write.apply(this, args);
    if (runTiming.resolvedAt !== undefined) {
      const ms = (performance.now() - runTiming.resolvedAt).toFixed(1);
      process.stderr.write(`containy-learn step-to-frame-ms ${ms} action-ms ${Math.round(runTiming.actionMs ?? 0)} frames-while-running ${frames}\n`);
      runTiming.resolvedAt = runTiming.startedAt = undefined;
      frames = 0;
    } else if (runTiming.startedAt !== undefined) frames++;
    return written;
  } as typeof write;
  return () => {
    process.stdout.write = write;
  };
}
