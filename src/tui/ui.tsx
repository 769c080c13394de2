// Small shared pieces: the terminal's size, and one-row-per-line drawing.
// Every screen lays out its own rows (it knows its width and height), and
// draws each as one Text that is cut, never wrapped, so the frame is exactly
// as tall as planned and never scrolls the terminal.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { Text, useInput, useStdout, type Key } from './ink.js';
import type { DocRow } from './markdown.js';

export interface Size {
  columns: number;
  rows: number;
}

/** The terminal's size, following resizes. `override` is for tests (ink-testing-library is 100 wide, no height). */
export function useTerminalSize(override?: Size): Size {
  const { stdout } = useStdout();
  const measure = (): Size => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState<Size>(override ?? measure());
  useEffect(() => {
    if (override) return;
    const onResize = (): void => setSize(measure());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout, override]);
  return override ?? size;
}

export type KeyHandler = (input: string, key: Key) => void;

/**
 * Where the App's one input subscription sends keys: the handler of the
 * screen rendered last. Screens register while rendering, so a key typed
 * right after a screen change (q then 3, or a paste) reaches the new screen;
 * Ink's own useInput subscribes in an effect, which can come after that key.
 */
export const KeyTarget = createContext<{ current?: KeyHandler } | undefined>(undefined);

/**
 * The screen's key handler, always seeing the latest render's state. Under
 * the App it is registered with KeyTarget; rendered alone (tests), it
 * subscribes itself.
 */
export function useKeys(handler: KeyHandler): void {
  const target = useContext(KeyTarget);
  const latest = useRef(handler);
  latest.current = handler;
  if (target) target.current = handler;
  useInput(
    useCallback((input: string, key: Key) => eachKey(input, key, latest.current), []),
    { isActive: !target },
  );
}

/**
 * Ink hands a burst of plain characters (a paste, keys typed faster than it
 * reads) to the handler as one string: split it back into keys, in order.
 */
export function eachKey(input: string, key: Key, handler: KeyHandler): void {
  if (input.length <= 1 || key.ctrl || key.meta) {
    handler(input, key);
    return;
  }
  for (const char of input) {
    const enter = char === '\r' || char === '\n';
    handler(enter ? '' : char, { ...key, return: enter, tab: char === '\t', shift: /[A-Z]/.test(char) });
  }
}

export function Line({ children, ...style }: { children?: ReactNode; bold?: boolean; dimColor?: boolean; color?: string; inverse?: boolean }): ReactNode {
  return (
    <Text wrap="truncate-end" {...style}>
      {children === undefined || children === '' ? ' ' : children}
    </Text>
  );
}

/** How a document row is drawn. Prose carries marked-terminal's own styles. */
export function DocLine({ row }: { row: DocRow }): ReactNode {
  switch (row.kind) {
    case 'code':
      return <Line color="yellow">{row.text}</Line>;
    case 'title':
      return <Line bold>{row.text}</Line>;
    case 'dim':
    case 'output':
      return <Line dimColor={row.kind === 'dim'}>{row.text}</Line>;
    case 'ok':
      return <Line color="green">{row.text}</Line>;
    case 'fail':
      return <Line color="red">{row.text}</Line>;
    case 'warn':
      return <Line color="yellow">{row.text}</Line>;
    default:
      return <Line>{row.text}</Line>;
  }
}
