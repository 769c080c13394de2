// One lesson, one step at a time: the step's text, its result once run, and
// the host and container panes below, live while a container runs.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { Box } from './ink.js';
import { compareSnapshots, sectionsHeight } from './compare.js';
import { Help, LESSON_KEYS } from './help.js';
import { useLiveProbes } from './live-probes.js';
import type { DocRow, MarkdownRenderer } from './markdown.js';
import { Panes } from './panes.js';
import type { ProgressStore } from './progress.js';
import { hintRows, resultRows } from './result.js';
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

export function LessonView(props: LessonViewProps): ReactNode {
  const { lesson, session, progress, markdown, width, height } = props;
  const stepCount = lesson.steps.length;
  const [stepIndex, setStepIndex] = useState(Math.min(Math.max(0, props.startStep), stepCount - 1));
  const [results, setResults] = useState<Record<number, StepResult>>({});
  const [hintsShown, setHintsShown] = useState<Record<number, number>>({});
  const [running, setRunning] = useState<string | undefined>();
  const [scroll, setScroll] = useState(0);
  const [zoom, setZoom] = useState(false);
  const [help, setHelp] = useState(false);
  const [message, setMessage] = useState<Message | undefined>();
  const [resets, setResets] = useState(0);
  // After a run or a hint, scroll so that what was added is in view (in the same frame that adds it).
  const [reveal, setReveal] = useState<'result' | 'hint' | null>(null);

  const step = lesson.steps[stepIndex];
  const result = results[stepIndex];

  useEffect(() => {
    progress.visit(lesson.slug, stepIndex);
    // Later moves are saved by goTo itself, as the key is handled.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const panes = useLiveProbes(session, step.probes, result, `${stepIndex}:${resets}`, props.pollMs);

  // Prose longer than ~100 columns is hard to read; code and output get the same width.
  const docWidth = Math.max(20, Math.min(width - 1, 100));
  const { rows, resultStart, hintStart } = useMemo(() => {
    const out: DocRow[] = [];
    if (stepIndex === 0 && lesson.intro.trim()) {
      out.push(...(markdown ? markdown.render(lesson.intro, docWidth) : [{ text: 'loading the text…', kind: 'dim' as const }]));
      out.push({ text: '─'.repeat(Math.min(docWidth, 40)), kind: 'dim' });
    }
    out.push({ text: `${stepIndex + 1}. ${step.title}`, kind: 'title' });
    if (step.needs.length) out.push({ text: `needs: ${step.needs.join(', ')}`, kind: 'dim' });
    out.push({ text: '', kind: 'blank' });
    out.push(...(markdown ? markdown.render(step.prose, docWidth) : [{ text: 'loading the text…', kind: 'dim' as const }]));
    const hintAt = out.length;
    const hints = hintRows(step.hints, hintsShown[stepIndex] ?? 0, docWidth);
    if (hints.length) out.push({ text: '', kind: 'blank' }, ...hints);
    const resultAt = out.length;
    if (result) out.push({ text: '', kind: 'blank' }, ...resultRows(result, docWidth));
    return { rows: out, resultStart: resultAt, hintStart: hintAt };
  }, [lesson, step, stepIndex, markdown, docWidth, hintsShown, result]);

  // Heights: a header row, the document, the panes (title row + body), a footer row.
  const body = Math.max(2, height - 2);
  const hasPanes = step.probes.length > 0;
  const paneWanted = hasPanes ? 1 + sectionsHeight(compareSnapshots(step.probes, panes.host, panes.container)) : 0;
  const paneHeight = !hasPanes ? 0 : zoom ? Math.max(2, body - 3) : Math.min(paneWanted, Math.max(Math.min(6, body - 3), Math.floor(body * 0.45)));
  const docHeight = body - paneHeight;
  const maxScroll = Math.max(0, rows.length - docHeight);

  if (reveal) {
    // State set during render: React renders again before anything reaches the screen.
    setReveal(null);
    setScroll(Math.min(reveal === 'result' ? resultStart : hintStart, maxScroll));
  }

  const goTo = (next: number): void => {
    if (next < 0 || next >= stepCount) {
      setMessage({ text: next < 0 ? 'this is the first step' : 'that was the last step: q goes back to the menu', kind: 'dim' });
      return;
    }
    setStepIndex(next);
    progress.visit(lesson.slug, next);
    setScroll(0);
    setMessage(undefined);
  };

  // Enter pressed while the engine session is still opening: run as soon as it is there.
  const [runWhenOpen, setRunWhenOpen] = useState(false);
  useEffect(() => {
    if (runWhenOpen && session) {
      setRunWhenOpen(false);
      void runStep();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runWhenOpen, session]);

  const runStep = async (): Promise<void> => {
    if (!session) {
      if (props.sessionError) setMessage({ text: props.sessionError, kind: 'fail' });
      else {
        setRunWhenOpen(true);
        setMessage({ text: 'opening the lesson: the step runs as soon as it is ready…', kind: 'dim' });
      }
      return;
    }
    const index = stepIndex;
    setRunning(`running step ${index + 1}…`);
    setMessage(undefined);
    let outcome: StepResult;
    const started = performance.now();
    try {
      outcome = await session.runStep(index);
    } catch (error) {
      // The engine turns expected failures into results; anything thrown is shown the same way.
      outcome = { ok: false, checks: [], output: '', error: (error as Error).message, ms: performance.now() - started };
    }
    if (outcome.ok) progress.passed(lesson.slug, index, stepCount);
    setReveal('result');
    setResults((prev) => ({ ...prev, [index]: outcome }));
    setRunning(undefined);
    setMessage(
      outcome.cannotRun
        ? { text: 'this step cannot run here: see below', kind: 'warn' }
        : outcome.ok
          ? { text: index + 1 < stepCount ? '✓ passed · n: next step' : '✓ passed · the last step: q back to the menu', kind: 'ok' }
          : { text: '✗ not yet: see the checks below', kind: 'fail' },
    );
  };

  const reset = async (): Promise<void> => {
    if (!session) return;
    setRunning('resetting the lesson…');
    try {
      await session.reset();
      setResults({});
      setHintsShown({});
      setResets((n) => n + 1);
      setMessage({ text: 'lesson reset: what it made is gone', kind: 'ok' });
    } catch (error) {
      setMessage({ text: `reset failed: ${(error as Error).message}`, kind: 'fail' });
    } finally {
      setRunning(undefined);
    }
  };

  useKeys((input, key) => {
    if (help) {
      setHelp(false);
      return;
    }
    if (running) return;
    if (key.return) void runStep();
    else if (input === 'n' || key.rightArrow) goTo(stepIndex + 1);
    else if (input === 'p' || key.leftArrow) goTo(stepIndex - 1);
    else if (input === 'h') {
      const shown = hintsShown[stepIndex] ?? 0;
      if (step.hints.length === 0) setMessage({ text: 'no hint for this step', kind: 'dim' });
      else if (shown >= step.hints.length) setMessage({ text: 'no more hints for this step', kind: 'dim' });
      else {
        setReveal('hint');
        setHintsShown((prev) => ({ ...prev, [stepIndex]: shown + 1 }));
      }
    } else if (input === 'r') void reset();
    else if (input === '?') setHelp(true);
    else if (input === 'q' || key.escape) props.onBack();
    else if (key.tab) setZoom((z) => !z);
    else if (key.upArrow || input === 'k') setScroll((s) => Math.max(0, Math.min(s, maxScroll) - 1));
    else if (key.downArrow || input === 'j') setScroll((s) => Math.min(maxScroll, s + 1));
    else if (key.pageUp || input === 'b') setScroll((s) => Math.max(0, Math.min(s, maxScroll) - Math.max(1, docHeight - 1)));
    else if (key.pageDown || input === ' ') setScroll((s) => Math.min(maxScroll, s + Math.max(1, docHeight - 1)));
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
      {hasPanes && <Panes kinds={step.probes} state={panes} width={width} height={paneHeight} />}
      <Line color={status ? { ok: 'green', fail: 'red', warn: 'yellow', dim: undefined }[status.kind] : undefined} dimColor={!status}>
        {truncate(footerLeft + scrollHint + KEYS_LINE, width)}
      </Line>
    </Box>
  );
}
