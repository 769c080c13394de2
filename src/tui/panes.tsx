// Host and container, side by side (stacked when the terminal is narrow).
// Each screen line is one Text holding both panes' rows, so the two sides
// stay on the same line and the frame is exactly `height` rows.
import type { ReactNode } from 'react';
import { Text } from './ink.js';
import { compareSnapshots, layoutSections, MARK_CHAR, type PaneRow } from './compare.js';
import type { PaneState } from './live-probes.js';
import { fit } from './text.js';
import type { ProbeKind } from './types.js';
import { Line } from './ui.js';

/** Narrower than this, the panes stack. */
export const SIDE_BY_SIDE_MIN_COLUMNS = 60;

function Cell({ row, width }: { row: PaneRow; width: number }): ReactNode {
  const text = fit(`${MARK_CHAR[row.mark]} ${row.text}`, width);
  switch (row.mark) {
    case 'differs':
      return <Text color="yellow" bold inverse={row.heading}>{text}</Text>;
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
      return 'container · exited (as the step left it)';
    default:
      return 'container · none running';
  }
}

export function Panes({ kinds, state, width, height }: { kinds: ProbeKind[]; state: PaneState; width: number; height: number }): ReactNode {
  const sections = compareSnapshots(kinds, state.host, state.container);
  const sideBySide = width >= SIDE_BY_SIDE_MIN_COLUMNS;
  const hostTitle = `host${state.host?.hostname ? ` · ${state.host.hostname}` : ''}`;
  const lines: ReactNode[] = [];

  if (sideBySide) {
    const left = Math.floor((width - 1) / 2);
    const right = width - 1 - left;
    const body = Math.max(0, height - 1);
    const { host, container } = layoutSections(sections, body);
    lines.push(
      <Text key="title" wrap="truncate-end">
        <Text bold inverse>{fit(` ${hostTitle}`, left)}</Text>
        <Text>│</Text>
        <Text bold inverse>{fit(` ${containerTitle(state)}`, right)}</Text>
      </Text>,
    );
    for (let i = 0; i < body; i++) {
      const blank: PaneRow = { text: '', mark: 'same' };
      lines.push(
        <Text key={i} wrap="truncate-end">
          <Cell row={host[i] ?? blank} width={left} />
          <Text>│</Text>
          {state.containerState === 'none' && !state.container ? <Text>{' '.repeat(right)}</Text> : <Cell row={container[i] ?? blank} width={right} />}
        </Text>,
      );
    }
  } else {
    // Stacked: host on top, container below, each with its own title row.
    const each = Math.max(0, Math.floor((height - 2) / 2));
    const hostRows = layoutSections(sections.map((s) => ({ ...s, container: [] })), each).host;
    const containerRows = layoutSections(sections.map((s) => ({ ...s, host: s.container })), height - 2 - each).host;
    lines.push(<Line key="ht" bold inverse>{fit(` ${hostTitle}`, width)}</Line>);
    hostRows.forEach((row, i) => lines.push(<Text key={`h${i}`} wrap="truncate-end"><Cell row={row} width={width} /></Text>));
    lines.push(<Line key="ct" bold inverse>{fit(` ${containerTitle(state)}`, width)}</Line>);
    containerRows.forEach((row, i) =>
      lines.push(<Text key={`c${i}`} wrap="truncate-end">{state.container ? <Cell row={row} width={width} /> : ' '}</Text>),
    );
  }
  if (state.error && lines.length > 1) lines[lines.length - 1] = <Line key="err" color="red">{`✗ probe failed: ${state.error}`}</Line>;
  return <>{lines.slice(0, height)}</>;
}
