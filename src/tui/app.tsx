// The workshop: the menu, a lesson, and the way out (which closes every
// session opened, so every container the workshop made is removed).
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Box, useInput, type Key } from './ink.js';
import { LessonView } from './lesson-view.js';
import { loadMarkdownRenderer, plainRenderer, type MarkdownRenderer } from './markdown.js';
import { Menu } from './menu.js';
import type { ProgressStore } from './progress.js';
import type { SessionRegistry } from './sessions.js';
import type { Lesson, WorkshopSession } from './types.js';
import { eachKey, KeyTarget, Line, useTerminalSize, type KeyHandler, type Size } from './ui.js';

export interface AppProps {
  lessons: Lesson[];
  sessions: SessionRegistry;
  progress: ProgressStore;
  /** Open this lesson (index into `lessons`) at once, at this 0-based step (else where the learner stopped). */
  initialLesson?: { index: number; step?: number };
  notice?: string;
  /** Called with the exit code once every session is closed. */
  onExit(code: number): void;
  onFirstMenuFrame?(): void;
  /** Lets the caller (signal handlers) ask for the same orderly exit as q. */
  exitRef?: { current?: (code: number) => void };
  size?: Size;
  pollMs?: number;
  /** For tests: a renderer already loaded, so nothing is "loading". */
  markdown?: MarkdownRenderer;
}

type Screen = { kind: 'menu'; cursor: number } | { kind: 'lesson'; index: number; step: number };

function resumeStep(progress: ProgressStore, lesson: Lesson): number {
  const step = progress.lesson(lesson.slug)?.step ?? 0;
  return Math.min(step, lesson.steps.length - 1);
}

export function App(props: AppProps): ReactNode {
  const { lessons, sessions, progress } = props;
  const size = useTerminalSize(props.size);
  // One row fewer than the terminal: a frame as tall as the screen makes Ink clear it on every render.
  const height = Math.max(5, size.rows - 1);
  const width = Math.max(20, size.columns);

  const [screen, setScreen] = useState<Screen>(() => {
    if (props.initialLesson) {
      const lesson = lessons[props.initialLesson.index];
      return { kind: 'lesson', index: props.initialLesson.index, step: props.initialLesson.step ?? resumeStep(progress, lesson) };
    }
    const last = lessons.findIndex((l) => l.slug === progress.lastLesson);
    const firstUndone = lessons.findIndex((l) => progress.status(l.slug) !== 'done');
    return { kind: 'menu', cursor: last >= 0 ? last : Math.max(0, firstUndone) };
  });
  const [markdown, setMarkdown] = useState<MarkdownRenderer | undefined>(props.markdown);
  const [session, setSession] = useState<{ lessonId: number; session?: WorkshopSession; error?: string } | undefined>();
  const [closing, setClosing] = useState(false);
  const closingRef = useRef(false);

  const exit = useCallback(
    (code: number) => {
      if (closingRef.current) return;
      closingRef.current = true;
      setClosing(true);
      // What went wrong while closing is reported by the caller, after the screen is given back.
      void sessions.closeAll().then((problems) => props.onExit(problems.length ? 1 : code));
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [sessions],
  );
  if (props.exitRef) props.exitRef.current = exit;

  // marked-terminal is slow to import: start it once the first frame is out, or at once for a lesson.
  useEffect(() => {
    if (markdown) return;
    const timer = setTimeout(() => {
      // Should it fail to load, the text is still there, as written.
      loadMarkdownRenderer().then(setMarkdown, () => setMarkdown(plainRenderer));
    }, screen.kind === 'menu' ? 50 : 0);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const lessonIndex = screen.kind === 'lesson' ? screen.index : -1;
  useEffect(() => {
    if (lessonIndex < 0) return;
    const lesson = lessons[lessonIndex];
    let current = true;
    setSession({ lessonId: lesson.id });
    sessions.get(lesson).then(
      (opened) => current && setSession({ lessonId: lesson.id, session: opened }),
      (error: Error) => current && setSession({ lessonId: lesson.id, error: `the lesson could not start: ${error.message}` }),
    );
    return () => {
      current = false;
    };
  }, [lessonIndex, lessons, sessions]);

  // The one input subscription, made at mount: Ctrl-C here, every other key to the screen on show.
  const keyTarget = useRef<{ current?: KeyHandler }>({}).current;
  useInput(
    useCallback(
      (input: string, key: Key) => {
        if (key.ctrl && input === 'c') exit(130);
        else if (keyTarget.current) eachKey(input, key, keyTarget.current);
      },
      [exit, keyTarget],
    ),
  );

  if (closing) {
    return (
      <Box flexDirection="column" width={width}>
        <Line>closing: removing the workshop's containers…</Line>
      </Box>
    );
  }

  const lesson = screen.kind === 'lesson' ? lessons[screen.index] : undefined;
  const forThisLesson = lesson && session?.lessonId === lesson.id ? session : undefined;
  return (
    <KeyTarget.Provider value={keyTarget}>
      {screen.kind === 'menu' || !lesson ? (
        <Menu
          lessons={lessons}
          progress={progress}
          width={width}
          height={height}
          initialCursor={screen.kind === 'menu' ? screen.cursor : 0}
          notice={props.notice}
          onOpen={(index) => setScreen({ kind: 'lesson', index, step: resumeStep(progress, lessons[index]) })}
          onQuit={() => exit(0)}
          onFirstFrame={props.onFirstMenuFrame}
        />
      ) : (
        <LessonView
          key={lesson.id}
          lesson={lesson}
          session={forThisLesson?.session}
          sessionError={forThisLesson?.error}
          startStep={screen.step}
          progress={progress}
          markdown={markdown}
          width={width}
          height={height}
          pollMs={props.pollMs}
          onBack={() => setScreen({ kind: 'menu', cursor: screen.index })}
        />
      )}
    </KeyTarget.Provider>
  );
}
