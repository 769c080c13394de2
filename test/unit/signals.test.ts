// The CLI's one owner of SIGINT/SIGTERM/SIGHUP, against a plain emitter
// standing in for the process: who is told of a signal, and with which status.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ProcessSignals, StopRequest } from '../../src/cli/signals.js';

function setup() {
  const source = new EventEmitter();
  const unhandled: string[] = [];
  const signals = new ProcessSignals((s) => unhandled.push(s), source).install();
  return { source, unhandled, signals };
}

describe('ProcessSignals', () => {
  it.each([['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const)('with no command stopping itself, %s is left to the default policy (exit %i)', (signal, status) => {
    const { source, unhandled } = setup();
    source.emit(signal, signal);
    expect(unhandled).toEqual([signal]);
    expect(new StopRequest(signal).exitCode).toBe(status);
  });

  it('tells a command that took the AbortSignal, with the status to return, and does not exit for it', () => {
    const { source, unhandled, signals } = setup();
    const signal = signals.handDown();
    source.emit('SIGTERM', 'SIGTERM');
    expect(unhandled).toEqual([]);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(StopRequest);
    expect(signal.reason).toMatchObject({ signal: 'SIGTERM', exitCode: 143 });
    source.emit('SIGINT', 'SIGINT'); // a second signal does not change the reason
    expect(signal.reason).toMatchObject({ signal: 'SIGTERM' });
  });

  it('sends every signal, SIGQUIT too, to a foreground container\'s forwarder while it runs, and only there', () => {
    const { source, unhandled, signals } = setup();
    const signal = signals.handDown();
    const forwarded: string[] = [];
    const release = signals.forwardTo((s) => forwarded.push(s));
    for (const s of ['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTERM']) source.emit(s, s);
    expect(forwarded).toEqual(['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTERM']);
    expect(signal.aborted).toBe(false);
    release();
    expect(source.listenerCount('SIGQUIT')).toBe(0); // SIGQUIT has its default action again
    source.emit('SIGINT', 'SIGINT');
    expect(forwarded).toHaveLength(4);
    expect(signal.aborted).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('listens once per signal, and stops listening on uninstall', () => {
    const { source, signals } = setup();
    signals.install();
    expect(['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => source.listenerCount(s))).toEqual([1, 1, 1]);
    signals.uninstall();
    expect(['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => source.listenerCount(s))).toEqual([0, 0, 0]);
  });

  it('holds off SIGTSTP (Ctrl-Z) until released, and then leaves it to the default again', () => {
    const { source, signals, unhandled } = setup();
    const release = signals.ignoreStops();
    expect(source.listenerCount('SIGTSTP')).toBe(1);
    source.emit('SIGTSTP', 'SIGTSTP');
    expect(unhandled).toEqual([]);
    release();
    expect(source.listenerCount('SIGTSTP')).toBe(0);
  });
});
