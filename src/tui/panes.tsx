// Host and container, side by side (stacked when the terminal is narrow).
// Each screen line is one Text holding both panes' rows, so the two sides
// stay on the same line and the frame is exactly `height` rows.
import type { ReactNode } from 'react';
import { Text } from './ink.js';
import { compareSnapshots, layoutSections, MARK_CHAR, type CompareOptions, type PaneRow } from './compare.js';
import type { PaneState } from './live-probes.js';
import { fit } from './text.js';
import type { ProbeKind, Step } from './types.js';
import { Line } from './ui.js';

/**
 * What the panes show for a step: its `probes:`, or, when it names none, what its
 * action is about: the processes a container or host process runs, and its cgroup
 * when the step sets limits (lesson 5's CPU quota, throttled as it runs).
 */
export function paneKinds(step: Step): ProbeKind[] {
  if (step.probes.length) return step.probes;
  switch (step.action.name) {
    case 'run':
    case 'start':
      return step.action.params.limits !== undefined ? ['cgroup', 'processes'] : ['processes'];
    case 'exec':
    case 'chroot':
    case 'host-process':
      return ['processes'];
    default:
      return [];
  }
}

/** Narrower than this, the panes stack. */
export const SIDE_BY_SIDE_MIN_COLUMNS = 60;

function Cell({ row, width }: { row: PaneRow; width: number }): ReactNode {
  const text = fit(`${MARK_CHAR[row.mark]} ${row.text}`, width);
  switch (row.mark) {
    case 'differs':
      return <Text color="yellow" bold inverse={row.heading}>{text}</Text>;
    case 'lesson':
      return <Text color="magenta" bold>{text}</Text>;
    case 'only':
      return <Text color="cyan">{text}</Text>;
    case 'error':
      return <Text color="red">{text}</Text>;
    default:
      return <Text bold={row.heading}>{text}</Text>;
  }
}

function containerTitle(state: PaneState): string {
  switch (state.containerState) {
    case 'live':
      return `container${state.containerName ? ` ${state.containerName}` : ''} · live`;
    case 'exited':
      return state.ended ? `${state.containerName ?? 'container'} · exited` : 'container · exited (as the step left it)';
    default:
      return state.waiting ? 'container · the step is running…' : 'container · none running';
  }
}

/** What the panes draw, line by line: pure, so the poller can tell whether a new reading changes anything visible. */
export interface PanePlan {
  sideBySide: boolean;
  /** Side by side: [host, container] per line; stacked: one cell per line. Titles are `heading` rows. */
  lines: Array<{ cells: Array<{ row: PaneRow; width: number; title?: boolean }> }>;
  error?: string;
}

const BLANK: PaneRow = { text: '', mark: 'same' };

export function planPanes(kinds: ProbeKind[], state: PaneState, width: number, height: number, opts: CompareOptions = {}): PanePlan {
  const sections = compareSnapshots(kinds, state.host, state.container, opts);
  const hostTitle: PaneRow = { text: `host${state.host?.hostname ? ` · ${state.host.hostname}` : ''}`, mark: 'same' };
  const boxTitle: PaneRow = { text: containerTitle(state), mark: 'same' };
  const showContainer = Boolean(state.container);
  const lines: PanePlan['lines'] = [];
  const sideBySide = width >= SIDE_BY_SIDE_MIN_COLUMNS;
  if (sideBySide) {
    const left = Math.floor((width - 1) / 2);
    const right = width - 1 - left;
    const body = Math.max(0, height - 1);
    const { host, container } = layoutSections(sections, body);
    lines.push({ cells: [{ row: hostTitle, width: left, title: true }, { row: boxTitle, width: right, title: true }] });
    for (let i = 0; i < body; i++) {
      lines.push({ cells: [{ row: host[i] ?? BLANK, width: left }, { row: showContainer ? (container[i] ?? BLANK) : BLANK, width: right }] });
    }
  } else {
    // Stacked: host on top, container below, each with its own title row.
    const each = Math.max(0, Math.floor((height - 2) / 2));
    const hostRows = layoutSections(sections.map((s) => ({ ...s, container: [] })), each).host;
    const boxRows = layoutSections(sections.map((s) => ({ ...s, host: s.container })), height - 2 - each).host;
    lines.push({ cells: [{ row: hostTitle, width, title: true }] });
    for (const row of hostRows) lines.push({ cells: [{ row, width }] });
    lines.push({ cells: [{ row: boxTitle, width, title: true }] });
    for (const row of boxRows) lines.push({ cells: [{ row: showContainer ? row : BLANK, width }] });
  }
  const shownLines = lines.slice(0, height);
  // What ended a one-shot (the OOM kill) is the step's point: the last line, across both panes.
  if (state.ended && shownLines.length > 1) {
    shownLines[shownLines.length - 1] = { cells: [{ row: { text: `ended: ${state.ended}`, mark: 'differs' }, width }] };
  }
  return { sideBySide, lines: shownLines, error: state.error };
}

export function Panes({ plan }: { plan: PanePlan }): ReactNode {
  const lines = plan.lines.map((line, i) => (
    <Text key={i} wrap="truncate-end">
      {line.cells.map((cell, j) => [
        j > 0 ? <Text key={`d${j}`}>│</Text> : null,
        cell.title ? (
          <Text key={j} bold inverse>
            {fit(` ${cell.row.text}`, cell.width)}
          </Text>
        ) : (
          <Cell key={j} row={cell.row} width={cell.width} />
        ),
      ])}
    </Text>
  ));
  if (plan.error && lines.length > 1) lines[lines.length - 1] = <Line key="err" color="red">{`✗ probe failed: ${plan.error}`}</Line>;
  return <>{lines}</>;
}
