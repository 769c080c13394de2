// The one owner of SIGINT, SIGTERM and SIGHUP (and SIGQUIT while a container
// runs in the foreground, SIGTSTP while it has the terminal). What a signal does is the command's policy, so it
// lives here in the CLI, not in the runtime:
// - while a foreground container runs (run, exec), signals go to its forwarder;
// - else, a command that took the AbortSignal (the workshop, check-all) is told
//   through it, and stops itself: closes its sessions, then returns;
// - else, every container is stopped and the process exits 128 + the signal.
import { signalStatus } from '../runtime/errors.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The AbortSignal's reason: which signal, and the status to exit with (130, 143, 129). */
export class StopRequest extends Error {
  readonly exitCode: number;
  constructor(readonly signal: StopSignal) {
    super(`stopped by ${signal}`);
    this.name = 'StopRequest';
    this.exitCode = signalStatus(signal);
  }
}

export type Forwarder = (signal: StopSignal | 'SIGQUIT') => void;

export class ProcessSignals {
  private readonly controller = new AbortController();
  private handedDown = false;
  private forwarder?: Forwarder;
  private installed = false;
  private readonly receive = (signal: NodeJS.Signals): void => {
    if (this.forwarder) return this.forwarder(signal as StopSignal | 'SIGQUIT');
    if (signal === 'SIGQUIT') return;
    if (!this.controller.signal.aborted) this.controller.abort(new StopRequest(signal as StopSignal));
    if (!this.handedDown) this.unhandled(signal as StopSignal);
  };

  /**
   * `unhandled`: what to do when no command stops itself (stop every container,
   * then exit). `source` is the process (a plain emitter in tests).
   */
  constructor(
    private readonly unhandled: (signal: StopSignal) => void,
    private readonly source: Pick<NodeJS.EventEmitter, 'on' | 'off'> = process,
  ) {}

  install(): this {
    if (!this.installed) for (const s of STOP_SIGNALS) this.source.on(s, this.receive);
    this.installed = true;
    return this;
  }

  /** Stop listening (before the process dies of a signal on purpose). */
  uninstall(): void {
    for (const s of [...STOP_SIGNALS, 'SIGQUIT'] as const) this.source.off(s, this.receive);
    this.installed = false;
  }

  /**
   * For a command that stops itself when asked: an AbortSignal aborted with a
   * StopRequest on the first stop signal. From now on the process is not made
   * to exit for it; the command returns `reason.exitCode`.
   */
  handDown(): AbortSignal {
    this.handedDown = true;
    return this.controller.signal;
  }

  /**
   * Ctrl-Z (SIGTSTP) does not stop us until the release: while we share the
   * container's process group, a stopped CLI could not be continued by the
   * shell's `fg` (the job's own group may have no member left).
   */
  ignoreStops(): () => void {
    const ignore = (): void => {};
    this.source.on('SIGTSTP', ignore);
    return () => void this.source.off('SIGTSTP', ignore);
  }

  /** While a container runs in the foreground, every signal (SIGQUIT too) goes to `forward`; returns the release. */
  forwardTo(forward: Forwarder): () => void {
    this.forwarder = forward;
    this.source.on('SIGQUIT', this.receive);
    return () => {
      if (this.forwarder === forward) this.forwarder = undefined;
      this.source.off('SIGQUIT', this.receive);
    };
  }
}
