import type { ReactNode } from 'react';
import { Box } from './ink.js';
import { MARK_CHAR } from './compare.js';
import { fit } from './text.js';
import { Line } from './ui.js';

export const LESSON_KEYS: Array<[string, string]> = [
  ['enter', 'run this step for real'],
  ['n / →', 'next step'],
  ['p / ←', 'previous step'],
  ['h', 'show a hint (again for the next one)'],
  ['r', 'reset the lesson: remove its containers and start over'],
  ['↑ ↓ j k', 'scroll the text (PgUp PgDn space too)'],
  ['tab', 'give the panes more room, or less'],
  ['f', 'the cgroup pane: every file by name, or compact'],
  ['s', 'speaker notes for the instructor, if the step has any'],
  ['?', 'this help'],
  ['q / esc', 'back to the menu'],
  ['ctrl-c', 'quit the workshop (every container is removed)'],
];

export const MENU_KEYS: Array<[string, string]> = [
  ['↑ ↓ j k', 'move'],
  ['0-9', 'jump to a lesson by number'],
  ['enter', 'open the lesson (at the step where you stopped)'],
  ['?', 'this help'],
  ['q', 'quit'],
];

export function Help({ keys, width, height }: { keys: Array<[string, string]>; width: number; height: number }): ReactNode {
  const rows: ReactNode[] = [
    <Line key="t" bold>containy-learn · keys</Line>,
    <Line key="b0" />,
    ...keys.map(([key, what]) => <Line key={key}>{`  ${fit(key, 10)} ${what}`}</Line>),
    <Line key="b1" />,
    <Line key="p" bold>the host and container panes</Line>,
    <Line key="m1">{`  ${MARK_CHAR.differs}  differs from the other side (same entry, another value)`}</Line>,
    <Line key="m2">{`  ${MARK_CHAR.only}  only in the container`}</Line>,
    <Line key="m4">{`  ${MARK_CHAR.lesson}  a process the lesson started (on the host), listed first`}</Line>,
    <Line key="m3">{`  ${MARK_CHAR.error}  the probe failed (it says which call and why)`}</Line>,
    <Line key="m4">  ✓ ✗ a check passed / failed, with what it saw</Line>,
    <Line key="m5">  The panes refresh when a step runs, and each second while a container lives.</Line>,
    <Line key="b2" />,
    <Line key="x" dimColor>press any key to close this help</Line>,
  ];
  return (
    <Box flexDirection="column" width={width}>
      {rows.slice(0, height)}
    </Box>
  );
}
