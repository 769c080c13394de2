// A start's libc calls as one timeline, strace-like: for `run --trace` and a lesson's `trace: true`.
import type { TraceCall } from './libc.js';

/** One line a call: time since the first, pid (the stage is 1 in its PID namespace), call, result. */
export function formatTrace(calls: TraceCall[]): string {
  const sorted = [...calls].sort((a, b) => a.at - b.at);
  const start = sorted[0]?.at ?? 0;
  return sorted.map((t) => `${(t.at - start).toFixed(1).padStart(7)} ms  [${t.pid}] ${t.name}(${t.args.join(', ')}) = ${t.result}${t.errno ? ` ${t.errno}` : ''}\n`).join('');
}
