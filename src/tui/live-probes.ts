// What the panes show, kept current. A step's run brings its own snapshots
// (read right after the action): they are shown in the same frame as the
// result, with no second read. While a container is shown, the probes are
// read again once a second as long as what the panes show of it changes (a
// memory counter climbing, a process appearing), and re-drawn only then. A
// quiet container (or one whose changes are out of sight) is read less and
// less often, down to every IDLE_FACTOR seconds; the host alone changing (it
// always does, a little) is drawn at most every HOST_REDRAW_FACTOR seconds:
// a frame costs far more than a read. When no container is left the timer
// stops: an idle workshop costs nothing. While a step runs, the panes are
// read every BUSY_POLL_MS and drawn on every visible change: a one-shot
// container (mem.py climbing to its memory limit) lives about a second.
// Once it exits, its last reading stays, with what ended it.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ProbeKind, ProbeSnapshot, StepResult, WorkshopSession } from './types.js';

export const POLL_MS = 1000;
/** While a step runs: often enough for several frames of a 1.5 s run. */
export const BUSY_POLL_MS = 150;
/** A container that has not changed is read every pollMs, then 2x, 4x... up to this many times pollMs apart. */
export const IDLE_FACTOR = 5;
/** Host-only changes are drawn at most this often (in pollMs units: 10 s by default). */
export const HOST_REDRAW_FACTOR = 10;

export interface PaneState {
  host?: ProbeSnapshot;
  container?: ProbeSnapshot;
  /** 'live': a container runs and is polled; 'exited': its last state, it is gone; 'none': no container yet. */
  containerState: 'live' | 'exited' | 'none';
  containerName?: string;
  /** A step runs and no container is shown yet (a one-shot is about to start). */
  waiting?: boolean;
  /** An exited one-shot's end, e.g. "the container was OOM-killed (memory limit 512 MiB)". */
  ended?: string;
  /** A probe call that threw (the engine's own failure), in words. */
  error?: string;
}

const NOTHING: PaneState = { containerState: 'none' };

type Reading = ReturnType<WorkshopSession['probe']> | { error: string };

function shownName(session: WorkshopSession): string | undefined {
  return (session.shown ?? session.container)?.name;
}

function read(session: WorkshopSession, kinds: ProbeKind[]): Reading {
  try {
    return session.probe(kinds);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function fromReading(session: WorkshopSession, reading: Reading, previous?: PaneState): PaneState {
  if ('error' in reading) return { ...(previous ?? NOTHING), error: reading.error };
  if (reading.container && reading.ended) {
    return { host: reading.host, container: reading.container, containerState: 'exited', containerName: reading.ended.name, ended: reading.ended.how };
  }
  if (reading.container) return { host: reading.host, container: reading.container, containerState: 'live', containerName: shownName(session) };
  // No container now: keep the last one seen on screen, marked as gone.
  if (previous?.container) return { ...previous, host: reading.host, containerState: 'exited', error: undefined };
  return { host: reading.host, containerState: 'none' };
}

/** The panes straight from a run's result, when it carries what they need. */
function fromResult(session: WorkshopSession, result: StepResult | undefined): PaneState | undefined {
  if (!result) return undefined;
  if (result.ended && result.container) {
    return { host: result.host, container: result.container, containerState: 'exited', containerName: result.ended.name, ended: result.ended.how };
  }
  // A host-only result while an earlier step's container still runs: the panes need a fresh read instead.
  if (!result.container && (!result.host || session.container)) return undefined;
  return { host: result.host, container: result.container, containerState: result.container ? 'live' : 'none', containerName: shownName(session) };
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
  /** What the panes would draw for a state (their text and marks): a reading that does not change it is not drawn. */
  shownAs: (state: PaneState) => string = (state) => JSON.stringify(state),
  /** A step is running: read often, whether or not a container is shown yet. */
  busy = false,
): PaneState {
  const shownAsNow = useRef(shownAs);
  shownAsNow.current = shownAs;
  const kindsKey = kinds.join(',');
  const key = `${refreshKey}|${kindsKey}`;
  // What the effect last read, and for which result and key it read it.
  const [polled, setPolled] = useState<{ basis: StepResult | undefined; key: string; state: PaneState } | undefined>();
  const seenResult = useRef<StepResult | undefined>(undefined);
  const resultState = useMemo(() => (session && kinds.length ? fromResult(session, result) : undefined), [session, kindsKey, result]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (!session || kinds.length === 0) {
      setPolled(undefined);
      return;
    }
    const newResult = result !== seenResult.current;
    seenResult.current = result;
    // `latest`: the last reading; `drawn`: what is on the screen (an unseen change is not drawn).
    let latest: PaneState;
    let drawn: PaneState;
    let drawnAt = Date.now();
    const publish = (next: PaneState): void => {
      latest = drawn = next;
      drawnAt = Date.now();
      setPolled({ basis: result, key, state: next });
    };
    if (newResult && resultState) latest = drawn = resultState; // already on screen, from the render
    else publish(fromReading(session, read(session, kinds)));
    if (!busy && (!latest!.container || latest!.containerState !== 'live')) return;

    let delay = busy ? Math.min(BUSY_POLL_MS, pollMs) : pollMs;
    let timer: ReturnType<typeof setTimeout>;
    const tick = (): void => {
      const next = fromReading(session, read(session, kinds), latest);
      latest = next;
      const shown = shownAsNow.current;
      const before = shown(drawn);
      // Whether the container's side of the panes shows a change (the host's side alone changes all the time).
      const containerShown = shown({ ...next, host: drawn.host }) !== before;
      if (containerShown || (shown(next) !== before && Date.now() - drawnAt >= pollMs * HOST_REDRAW_FACTOR)) publish(next);
      if (busy) {
        timer = setTimeout(tick, delay);
        return;
      }
      if (next.containerState !== 'live') {
        if (drawn !== next) publish(next);
        return;
      }
      // Every pollMs while the container visibly changes, less and less often while it does not.
      delay = containerShown ? pollMs : Math.min(delay * 2, pollMs * IDLE_FACTOR);
      timer = setTimeout(tick, delay);
    };
    timer = setTimeout(tick, delay);
    return () => clearTimeout(timer);
    // kinds is compared by value through key.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session, key, result, resultState, pollMs, busy]);

  if (!session || kinds.length === 0) return NOTHING;
  const state = polled && polled.key === key && polled.basis === result ? polled.state : (resultState ?? polled?.state ?? NOTHING);
  return busy && state.containerState === 'none' ? { ...state, waiting: true } : state;
}
