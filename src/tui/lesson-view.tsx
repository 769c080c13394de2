// One lesson, one step at a time: the step's text, its result once run, and
// the host and container panes below, live while a container runs.
import { useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState, type ReactNode } from 'react';
import { Box } from './ink.js';
import { compareSnapshots, sectionsHeight } from './compare.js';
import { Help, LESSON_KEYS } from './help.js';
import { useLiveProbes, type PaneState } from './live-probes.js';
import type { DocRow, MarkdownRenderer } from './markdown.js';
import { paneKinds, Panes, planPanes } from './panes.js';
import type { ProgressStore } from './progress.js';
import { stepList } from '../lessons/step-list.js';
import { stepMarks } from './record.js';
import { hintRows, notesRows, resultRows } from './result.js';
import { fit, textWidth, truncate } from './text.js';
import type { Lesson, StepResult, WorkshopSession } from './types.js';
import { DocLine, Line, useKeys } from './ui.js';

export interface LessonViewProps {
  lesson: Lesson;
  /** Undefined while the engine session is being opened (or when it could not be). */
  session?: WorkshopSession;
  sessionError?: string;
  /** 0-based step to open at. */
  startStep: number;
  progress: ProgressStore;
  /** Undefined until marked-terminal has loaded: the text shows as "loading". */
  markdown?: MarkdownRenderer;
  width: number;
  height: number;
  onBack(): void;
  pollMs?: number;
}

type Message = { text: string; kind: 'ok' | 'fail' | 'warn' | 'dim' };

const KEYS_LINE = 'enter run · n/p step · h hint · r reset · ? help · q back';

/**
 * What one key or one finished run changes, as one update: after an await,
 * separate setStates would each render a frame (no batching outside React's
 * own events), and the result would reach the screen a throttled frame late.
 */
interface ViewState {
  step: number;
  results: Record<number, StepResult>;
  hintsShown: Record<number, number>;
  /** What is being done (keys wait), e.g. "running step 3…". */
  running?: string;
  message?: Message;
  /** Bumped by a reset: the panes read again. */
  resets: number;
  /** After a run or a hint, scroll to what was added, in the frame that adds it. */
  reveal: 'result' | 'hint' | null;
  scroll: number;
  /** Enter was pressed before the engine session was open: run once it is. */
  runWhenOpen: boolean;
}

type Action =
  | { type: 'go'; delta: number; stepCount: number }
  | { type: 'message'; message?: Message }
  | { type: 'busy'; running: string }
  | { type: 'ran'; step: number; result: StepResult; message: Message }
  | { type: 'reset'; done: boolean; message: Message }
  | { type: 'hint'; step: number }
  | { type: 'scroll'; to: number }
  | { type: 'scroll-by'; delta: number; max: number }
  | { type: 'run-when-open'; on: boolean; message?: Message };

function reduce(state: ViewState, action: Action): ViewState {
  switch (action.type) {
    case 'go': {
      // Relative, so keys typed faster than frames each count.
      const step = state.step + action.delta;
      if (step < 0) return { ...state, message: { text: 'this is the first step', kind: 'dim' } };
      if (step >= action.stepCount) return { ...state, message: { text: 'that was the last step: q goes back to the menu', kind: 'dim' } };
      return { ...state, step, scroll: 0, message: undefined };
    }
    case 'message':
      return { ...state, message: action.message };
    case 'busy':
      return { ...state, running: action.running, message: undefined };
    case 'ran':
      return { ...state, running: undefined, results: { ...state.results, [action.step]: action.result }, message: action.message, reveal: 'result' };
    case 'reset':
      return action.done
        ? { ...state, running: undefined, results: {}, hintsShown: {}, resets: state.resets + 1, message: action.message }
        : { ...state, running: undefined, message: action.message };
    case 'hint':
      return { ...state, hintsShown: { ...state.hintsShown, [action.step]: (state.hintsShown[action.step] ?? 0) + 1 }, reveal: 'hint' };
    case 'scroll':
      return { ...state, scroll: action.to, reveal: null };
    case 'scroll-by':
      return { ...state, scroll: Math.max(0, Math.min(action.max, Math.min(state.scroll, action.max) + action.delta)) };
    case 'run-when-open':
      return { ...state, runWhenOpen: action.on, message: action.message ?? state.message };
  }
}

/** For the benchmark: when the last run's result came back (see index.tsx, CONTAINY_TUI_TIMING). */
export const runTiming: { startedAt?: number; resolvedAt?: number; actionMs?: number } = {};

export function LessonView(props: LessonViewProps): ReactNode {
  const { lesson, session, progress, markdown, width, height } = props;
  const stepCount = lesson.steps.length;
  const [state, dispatch] = useReducer(reduce, undefined, () => ({
    step: Math.min(Math.max(0, props.startStep), stepCount - 1),
    results: {},
    hintsShown: {},
    resets: 0,
    reveal: null,
    scroll: 0,
    runWhenOpen: false,
  }));
  // Keys in one burst are handled before React renders again: they read and update this, in order.
  const stateNow = useRef(state);
  stateNow.current = state;
  const update = (action: Action): void => {
    stateNow.current = reduce(stateNow.current, action);
    dispatch(action);
  };
  const { step: stepIndex, results, hintsShown, running, message, resets, reveal, scroll } = state;
  const [zoom, setZoom] = useState(false);
  const [help, setHelp] = useState(false);
  // The cgroup pane: compact lines per controller, or (f) every file by name.
  const [cgroupFiles, setCgroupFiles] = useState(false);
  // Presenter mode (s): the step's speaker notes above its text, for the instructor's eyes.
  const [notesShown, setNotesShown] = useState(false);
  const compare = { cgroupFiles, lessonPids: session?.lessonPids };

  const step = lesson.steps[stepIndex];
  const result = results[stepIndex];

  // Saved in the commit that shows the step (a layout effect runs before the frame is out).
  useLayoutEffect(() => {
    progress.visit(lesson.slug, stepIndex);
  }, [progress, lesson.slug, stepIndex]);

  // Heights: a header row, the document, the panes (title row + body), a footer row.
  const body = Math.max(2, height - 2);
  const kinds = paneKinds(step);
  const hasPanes = kinds.length > 0;
  const paneHeightFor = (shown: PaneState): number => {
    if (!hasPanes) return 0;
    if (zoom) return Math.max(2, body - 3);
    const wanted = 1 + sectionsHeight(compareSnapshots(kinds, shown.host, shown.container, compare));
    return Math.min(wanted, Math.max(Math.min(6, body - 3), Math.floor(body * 0.45)));
  };
  const panes = useLiveProbes(
    session,
    kinds,
    result,
    // A new size or zoom shows other rows: read again at once rather than show old ones.
    `${stepIndex}:${resets}:${width}x${height}:${zoom}:${cgroupFiles}`,
    props.pollMs,
    (shown) => JSON.stringify(planPanes(kinds, shown, width, paneHeightFor(shown), compare)),
    running !== undefined,
  );

  // Prose longer than ~100 columns is hard to read; code and output get the same width.
  const docWidth = Math.max(20, Math.min(width - 1, 100));
  const { rows, resultStart, hintStart } = useMemo(() => {
    const out: DocRow[] = [];
    if (stepIndex === 0 && lesson.intro.trim()) {
      out.push(...(markdown ? markdown.render(lesson.intro, docWidth) : [{ text: 'loading the text…', kind: 'dim' as const }]));
      out.push({ text: '─'.repeat(Math.min(docWidth, 40)), kind: 'dim' });
    }
    out.push({ text: `${stepIndex + 1}. ${step.title}`, kind: 'title' });
    if (notesShown) {
      out.push({ text: '── speaker notes (s hides them) ──', kind: 'warn' });
      out.push(...(step.notes ? notesRows(step.notes, docWidth) : [{ text: 'no notes for this step', kind: 'dim' as const }]));
      out.push({ text: '──', kind: 'warn' });
    }
    const needs = [...step.needs, ...step.tools];
    if (needs.length) out.push({ text: `needs: ${needs.join(', ')}`, kind: 'dim' });
    out.push({ text: '', kind: 'blank' });
    out.push(...(markdown ? markdown.render(step.prose, docWidth) : [{ text: 'loading the text…', kind: 'dim' as const }]));
    const hintAt = out.length;
    const hints = hintRows(step.hints, hintsShown[stepIndex] ?? 0, docWidth);
    if (hints.length) out.push({ text: '', kind: 'blank' }, ...hints);
    const resultAt = out.length;
    if (result) out.push({ text: '', kind: 'blank' }, ...resultRows(result, docWidth));
    return { rows: out, resultStart: resultAt, hintStart: hintAt };
  }, [lesson, step, stepIndex, markdown, docWidth, hintsShown, result, notesShown]);

  const paneHeight = paneHeightFor(panes);
  const docHeight = body - paneHeight;
  const maxScroll = Math.max(0, rows.length - docHeight);

  if (reveal) {
    // Dispatched during render: React renders again before anything reaches the screen.
    dispatch({ type: 'scroll', to: Math.min(reveal === 'result' ? resultStart : hintStart, maxScroll) });
  }
  const scrollBy = (delta: number): void => update({ type: 'scroll-by', delta, max: maxScroll });

  useEffect(() => {
    if (state.runWhenOpen && session) {
      update({ type: 'run-when-open', on: false });
      void runStep();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state.runWhenOpen, session]);

  const runStep = async (): Promise<void> => {
    if (!session) {
      if (props.sessionError) update({ type: 'message', message: { text: props.sessionError, kind: 'fail' } });
      else update({ type: 'run-when-open', on: true, message: { text: 'opening the lesson: the step runs as soon as it is ready…', kind: 'dim' } });
      return;
    }
    const index = stateNow.current.step;
    stepMarks.mark?.(`lesson ${lesson.id} step ${index + 1}: ${lesson.steps[index].title}`);
    runTiming.startedAt = performance.now();
    update({ type: 'busy', running: `running step ${index + 1}…` });
    let outcome: StepResult;
    const started = performance.now();
    try {
      outcome = await session.runStep(index);
    } catch (error) {
      // The engine turns expected failures into results; anything thrown is shown the same way.
      outcome = { ok: false, checks: [], output: '', error: (error as Error).message, ms: performance.now() - started };
    }
    runTiming.resolvedAt = performance.now();
    runTiming.actionMs = outcome.ms;
    if (outcome.ok) progress.passed(lesson.slug, index, stepCount);
    const message: Message = outcome.cannotRun
      ? { text: 'this step cannot run here: see below', kind: 'warn' }
      : outcome.ok
        ? { text: `${outcome.ranFirst?.length ? `ran ${stepList(outcome.ranFirst)} for you · ` : ''}${index + 1 < stepCount ? '✓ passed · n: next step' : '✓ passed · the last step: q back to the menu'}`, kind: 'ok' }
        : { text: '✗ not yet: see the checks below', kind: 'fail' };
    update({ type: 'ran', step: index, result: outcome, message });
  };

  const reset = async (): Promise<void> => {
    if (!session) return;
    update({ type: 'busy', running: 'resetting the lesson…' });
    try {
      await session.reset();
      update({ type: 'reset', done: true, message: { text: 'lesson reset: what it made is gone', kind: 'ok' } });
    } catch (error) {
      update({ type: 'reset', done: false, message: { text: `reset failed: ${(error as Error).message}`, kind: 'fail' } });
    }
  };

  useKeys((input, key) => {
    if (help) {
      setHelp(false);
      return;
    }
    const now = stateNow.current;
    if (now.running) return;
    if (key.return) void runStep();
    else if (input === 'n' || key.rightArrow) update({ type: 'go', delta: 1, stepCount });
    else if (input === 'p' || key.leftArrow) update({ type: 'go', delta: -1, stepCount });
    else if (input === 'h') {
      const hints = lesson.steps[now.step].hints;
      const shown = now.hintsShown[now.step] ?? 0;
      if (hints.length === 0) update({ type: 'message', message: { text: 'no hint for this step', kind: 'dim' } });
      else if (shown >= hints.length) update({ type: 'message', message: { text: 'no more hints for this step', kind: 'dim' } });
      else update({ type: 'hint', step: now.step });
    } else if (input === 'r') void reset();
    else if (input === '?') setHelp(true);
    else if (input === 'q' || key.escape) props.onBack();
    else if (key.tab) setZoom((z) => !z);
    else if (input === 'f') setCgroupFiles((f) => !f);
    else if (input === 's') setNotesShown((on) => !on);
    else if (key.upArrow || input === 'k') scrollBy(-1);
    else if (key.downArrow || input === 'j') scrollBy(1);
    else if (key.pageUp || input === 'b') scrollBy(-Math.max(1, docHeight - 1));
    else if (key.pageDown || input === ' ') scrollBy(Math.max(1, docHeight - 1));
  });

  if (help) return <Help keys={LESSON_KEYS} width={width} height={height} />;

  const top = Math.min(scroll, maxScroll);
  const visible = rows.slice(top, top + docHeight);
  const more = top + docHeight < rows.length;
  const position = `step ${stepIndex + 1} of ${stepCount}`;
  const title = truncate(`lesson ${lesson.id} · ${lesson.title}`, Math.max(10, width - textWidth(position) - 2));
  const headerLine = title + ' '.repeat(Math.max(1, width - textWidth(title) - textWidth(position))) + position;
  const status: Message | undefined = running ? { text: running, kind: 'warn' } : props.sessionError ? { text: props.sessionError, kind: 'fail' } : message;
  const scrollHint = more ? `↓ ${rows.length - top - docHeight} more · ` : top > 0 ? '↑ more · ' : '';
  const footerLeft = status ? `${status.text} · ` : '';

  return (
    <Box flexDirection="column" width={width}>
      <Line bold inverse>{fit(headerLine, width)}</Line>
      {visible.map((row, i) => (
        <DocLine key={top + i} row={row} />
      ))}
      {Array.from({ length: Math.max(0, docHeight - visible.length) }, (_, i) => <Line key={`pad${i}`} />)}
      {hasPanes && <Panes plan={planPanes(kinds, panes, width, paneHeight, compare)} />}
      <Line color={status ? { ok: 'green', fail: 'red', warn: 'yellow', dim: undefined }[status.kind] : undefined} dimColor={!status}>
        {truncate(footerLeft + scrollHint + KEYS_LINE, width)}
      </Line>
    </Box>
  );
}
