// What the panes show, kept current. A step's run brings its own snapshots
// (read right after the action), shown at once. While a container is shown,
// the probes are read again once a second and the panes re-render only when
// something changed (a memory counter climbing, a process appearing). When
// no container is left the timer stops: an idle workshop costs nothing.
import { useEffect, useRef, useState } from 'react';
import type { ProbeKind, ProbeSnapshot, StepResult, WorkshopSession } from './types.js';

export const POLL_MS = 1000;

export interface PaneState {
  host?: ProbeSnapshot;
  container?: ProbeSnapshot;
  /** 'live': a container runs and is polled; 'exited': its last state, it is gone; 'none': no container yet. */
  containerState: 'live' | 'exited' | 'none';
  containerName?: string;
  /** A probe call that threw (the engine's own failure), in words. */
  error?: string;
}

type Reading = { host: ProbeSnapshot; container?: ProbeSnapshot } | { error: string };

function read(session: WorkshopSession, kinds: ProbeKind[]): Reading {
  try {
    return session.probe(kinds);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * @param refreshKey changes whenever the panes must be re-read at once:
 *   the lesson was reset, another step was opened. (A new result is itself a change.)
 */
export function useLiveProbes(
  session: WorkshopSession | undefined,
  kinds: ProbeKind[],
  result: StepResult | undefined,
  refreshKey: string,
  pollMs = POLL_MS,
): PaneState {
  const [state, setState] = useState<PaneState>({ containerState: 'none' });
  const shownJson = useRef('');
  const kindsKey = kinds.join(',');

  useEffect(() => {
    if (!session || kinds.length === 0) {
      shownJson.current = '';
      setState({ containerState: 'none' });
      return;
    }
    let current: PaneState;
    const show = (next: PaneState): void => {
      current = next;
      const json = JSON.stringify(next);
      if (json === shownJson.current) return; // nothing changed: no render
      shownJson.current = json;
      setState(next);
    };
    const fromReading = (reading: Reading, previous?: PaneState): PaneState => {
      if ('error' in reading) return { ...(previous ?? { containerState: 'none' }), error: reading.error };
      if (reading.container) return { host: reading.host, container: reading.container, containerState: 'live', containerName: session.container?.name };
      // No container now: keep the last one seen on screen, marked as gone.
      if (previous?.container) return { ...previous, host: reading.host, containerState: 'exited', error: undefined };
      return { host: reading.host, containerState: 'none' };
    };

    if (result && (result.container || (result.host && !session.container))) {
      // Fresh from the run: shown at once, without a second read.
      show({ host: result.host, container: result.container, containerState: result.container ? 'live' : 'none', containerName: session.container?.name });
    } else {
      show(fromReading(read(session, kinds)));
    }
    if (!current!.container || current!.containerState !== 'live') return;

    const timer = setInterval(() => {
      const next = fromReading(read(session, kinds), current);
      show(next);
      if (next.containerState !== 'live') clearInterval(timer);
    }, pollMs);
    return () => clearInterval(timer);
    // kinds is compared by value through kindsKey.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session, kindsKey, result, refreshKey, pollMs]);

  return state;
}
