// A container or exec run to its end, with what it printed: for the lessons
// and the benchmark, which want the whole answer rather than a stream.
import type { EventEmitter } from 'node:events';
import { StartStepError, UserError } from './errors.js';
import type { CgroupEvents } from './cgroups/types.js';
import type { ExitStatus } from './start/stage-process.js';
import type { TraceCall } from './libc.js';

export interface ContainerExit extends ExitStatus {
  /** Why a limit ended or hampered the command, as runc would say it. */
  limitMessages: string[];
  /** The cgroup's event counters as read at the exit, just before the cgroup was removed. */
  events?: CgroupEvents;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  limitMessages: string[];
  /** The runtime's refusal (for example pivot_root's EINVAL), when the command never started. */
  error?: string;
  /** The start step that failed (see START_STEPS), for a caller to show. */
  failedStep?: string;
  /** The stage's libc calls up to execve, when the spec asked for a trace. */
  trace?: TraceCall[];
}

export async function collect(proc: EventEmitter, exited: Promise<ContainerExit>): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.on('stdout', (b: Buffer) => out.push(b));
  proc.on('stderr', (b: Buffer) => err.push(b));
  const status = await exited;
  return { status: status.status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), limitMessages: status.limitMessages };
}

/** A refusal as a result (a caller can check it); anything else is thrown on. */
export function refusal(err: unknown): RunResult {
  if (!(err instanceof UserError)) throw err;
  const failedStep = err instanceof StartStepError ? { failedStep: err.step } : {};
  return { status: err.exitCode, stdout: '', stderr: '', limitMessages: [], error: err.message, ...failedStep };
}
