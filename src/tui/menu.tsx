// The lesson list: number, title, what it teaches, and where the learner is.
import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Box } from './ink.js';
import { Help, MENU_KEYS } from './help.js';
import type { ProgressStore } from './progress.js';
import { fit, textWidth } from './text.js';
import type { Lesson } from './types.js';
import { Line, useKeys } from './ui.js';

export interface MenuProps {
  lessons: Lesson[];
  progress: ProgressStore;
  width: number;
  height: number;
  /** Index into `lessons` of the row the cursor starts on. */
  initialCursor: number;
  /** Shown above the list, e.g. that steps needing root will say so. */
  notice?: string;
  onOpen(index: number): void;
  onQuit(): void;
  /** Called once the first frame is on the screen (the startup benchmark's mark). */
  onFirstFrame?(): void;
}

// Digits typed this close together make one number (lesson 12).
const DIGIT_CHAIN_MS = 700;

export function statusText(progress: ProgressStore, lesson: Lesson): string {
  const entry = progress.lesson(lesson.slug);
  switch (progress.status(lesson.slug)) {
    case 'done':
      return '✓ done';
    case 'in progress':
      return `in progress, step ${Math.min((entry?.step ?? 0) + 1, lesson.steps.length)} of ${lesson.steps.length}`;
    default:
      return 'not started';
  }
}

export function Menu(props: MenuProps): ReactNode {
  const { lessons, progress, width, height } = props;
  const [cursor, setCursorState] = useState(Math.min(Math.max(0, props.initialCursor), lessons.length - 1));
  // Keys in one burst (a paste, fast typing) arrive before the next render: each reads the cursor the last one left.
  const cursorNow = useRef(cursor);
  const setCursor = (next: number): void => {
    cursorNow.current = Math.min(Math.max(0, next), lessons.length - 1);
    setCursorState(cursorNow.current);
  };
  const [help, setHelp] = useState(false);
  const digits = useRef({ text: '', at: 0 });

  useLayoutEffect(() => {
    // Layout effects run after Ink has written the frame of this commit.
    props.onFirstFrame?.();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useKeys((input, key) => {
    if (help) {
      setHelp(false);
      return;
    }
    if (key.upArrow || input === 'k') setCursor(cursorNow.current - 1);
    else if (key.downArrow || input === 'j') setCursor(cursorNow.current + 1);
    else if (key.home || input === 'g') setCursor(0);
    else if (key.end || input === 'G') setCursor(lessons.length - 1);
    else if (key.return) props.onOpen(cursorNow.current);
    else if (input === 'q' || key.escape) props.onQuit();
    else if (input === '?') setHelp(true);
    else if (/^[0-9]$/.test(input)) {
      const now = Date.now();
      const chained = now - digits.current.at < DIGIT_CHAIN_MS ? digits.current.text + input : input;
      const target = lessons.findIndex((l) => String(l.id) === chained);
      const single = lessons.findIndex((l) => String(l.id) === input);
      digits.current = { text: target >= 0 ? chained : input, at: now };
      if (target >= 0) setCursor(target);
      else if (single >= 0) setCursor(single);
    }
  });

  if (help) return <Help keys={MENU_KEYS} width={width} height={height} />;

  const idWidth = Math.max(1, ...lessons.map((l) => String(l.id).length));
  const statuses = lessons.map((l) => statusText(progress, l));
  const statusWidth = Math.min(26, Math.max(...statuses.map(textWidth)));
  const titleWidth = Math.max(10, width - 2 - idWidth - 2 - 2 - statusWidth);

  const header: ReactNode[] = [
    <Line key="title" bold>{fit('containy-learn · how containers are made, one kernel feature at a time', width)}</Line>,
  ];
  if (props.notice) header.push(<Line key="notice" color="yellow">{props.notice}</Line>);
  if (progress.problem) header.push(<Line key="problem" color="yellow">{`! ${progress.problem}`}</Line>);
  header.push(<Line key="blank" />);

  const last = lessons.findIndex((l) => l.slug === progress.lastLesson);
  const footer: ReactNode[] = [<Line key="fblank" />];
  if (last >= 0 && progress.status(lessons[last].slug) === 'in progress') {
    const entry = progress.lesson(lessons[last].slug);
    footer.push(
      <Line key="resume">{`resume: lesson ${lessons[last].id} · ${lessons[last].title}, step ${(entry?.step ?? 0) + 1} of ${lessons[last].steps.length}`}</Line>,
    );
  }
  footer.push(<Line key="keys" dimColor>enter open · ↑↓ j k move · 0-9 jump · ? help · q quit</Line>);

  // Two rows per lesson; when they do not all fit, a window that follows the cursor.
  const room = Math.max(2, height - header.length - footer.length);
  const perPage = Math.max(1, Math.floor(room / 2));
  const first = Math.min(Math.max(0, cursor - Math.floor(perPage / 2)), Math.max(0, lessons.length - perPage));
  const rows: ReactNode[] = [];
  lessons.slice(first, first + perPage).forEach((lesson, offset) => {
    const index = first + offset;
    const selected = index === cursor;
    const line = `${selected ? '▸' : ' '} ${String(lesson.id).padStart(idWidth)}  ${fit(lesson.title, titleWidth)}  ${fit(statuses[index], statusWidth)}`;
    rows.push(
      <Line key={`l${lesson.id}`} inverse={selected} bold={selected}>
        {line}
      </Line>,
    );
    rows.push(<Line key={`s${lesson.id}`} dimColor={!selected}>{fit(`${' '.repeat(idWidth + 4)}${lesson.summary}`, width)}</Line>);
  });
  const filler = Math.max(0, room - rows.length);

  return (
    <Box flexDirection="column" width={width}>
      {header}
      {rows}
      {Array.from({ length: filler }, (_, i) => <Line key={`f${i}`} />)}
      {footer}
    </Box>
  );
}
