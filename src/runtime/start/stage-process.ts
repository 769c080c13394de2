// The main thread's handle on one stage: a worker thread in the container's
// namespaces and the stage process it spawned. The stage is ready (Node and
// koffi loaded) before it is given its order, so it can be started ahead of
// time: that is what makes a warm start fast.
import { isatty } from 'node:tty';
import type { TraceCall } from '../libc.js';
import { Worker } from 'node:worker_threads';
import { HeldOutputEmitter } from '../held-output.js';
import { StageChannel } from './stage-channel.js';
import { relayStreams, spawnStage } from './spawn.js';
import { distScript } from '../paths.js';
import { BugError, EXIT, StartStepError, UserError, signalStatus } from '../errors.js';
import { encodeOrder, type FromWorker, type StageOrder, type StageWorkerData, type StdioMode, type ToWorker } from './protocol.js';

export type { StdioMode };

export interface ExitStatus {
  /** The status a shell would report: the code, or 128 + the signal number. */
  status: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function shellStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return signalStatus(signal);
  return code ?? EXIT.RUNTIME;
}

// Process-wide, as the fact it records: once this (main) thread has entered a
// container's namespaces it cannot go back, and its new PID namespace takes one
// child only (docs/architecture.md, fact 4).
let thisThreadEntered = false;

const workerScript = distScript('runtime/start/worker.js');
const stageScript = distScript('runtime/start/stage.js');

/** Emits 'stdout' and 'stderr' (Buffer) when stdio is 'pipe', held until someone listens. */
export class StageProcess extends HeldOutputEmitter {
  /** Host PID of the stage, and after execve, of the command. */
  pid = 0;
  /** The stage's libc calls, when its order asked for a trace. */
  readonly trace: TraceCall[] = [];
  readonly exited: Promise<ExitStatus>;
  /** Resolves with the stage's host PID as soon as it is spawned (long before Node has booted in it). */
  readonly spawned: Promise<number>;
  /** Resolves once the stage is loaded and waiting for its order. */
  readonly ready: Promise<void>;
  /** Absent when the stage was spawned from this thread. */
  private readonly worker?: Worker;
  private readonly send: (m: ToWorker) => void;
  private readonly execd: Promise<void>;
  private hasExited = false;
  private readonly stdio: StdioMode;

  private constructor(data: StageWorkerData, onThisThread: boolean) {
    super();
    this.stdio = data.stdio;
    let resolveReady!: () => void;
    let rejectAll!: (err: Error) => void;
    let resolveExecd!: () => void;
    let rejectExecd!: (err: Error) => void;
    let resolveExit!: (s: ExitStatus) => void;
    let resolveSpawned!: (pid: number) => void;
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectAll = rej;
    });
    this.execd = new Promise((res, rej) => {
      resolveExecd = res;
      rejectExecd = rej;
    });
    this.exited = new Promise((res) => (resolveExit = res));
    this.spawned = new Promise((res, rej) => {
      resolveSpawned = res;
      this.ready.catch(rej);
    });
    this.spawned.catch(() => {});
    // Nobody may be waiting on these yet; keep unobserved rejections quiet.
    this.ready.catch(() => {});
    this.execd.catch(() => {});

    const receive = (m: FromWorker) => {
      switch (m.type) {
        case 'spawned':
          this.pid = m.pid;
          resolveSpawned(m.pid);
          break;
        case 'report':
          if (m.report.type === 'ready') resolveReady();
          else if (m.report.type === 'trace') this.trace.push(...m.report.calls);
          else if (m.report.bug) rejectExecd(new BugError(m.report.message));
          else rejectExecd(new StartStepError(m.report.step, m.report.message, m.report.exitCode));
          break;
        case 'execd':
          resolveExecd();
          break;
        case 'output':
          this.emitOutput(m.stream, Buffer.from(m.data));
          break;
        case 'failed': {
          this.hasExited = true;
          const err = m.refused ? new StartStepError('namespaces', m.message) : new BugError(m.message);
          rejectAll(err);
          rejectExecd(err);
          resolveExit({ status: EXIT.RUNTIME, code: EXIT.RUNTIME, signal: null });
          break;
        }
        case 'exit': {
          this.hasExited = true;
          // Killed from outside (a stop while it started, the OOM killer) is no bug; exiting
          // without an error report is: the stage reports every failure before it exits.
          const err = m.signal
            ? new UserError(`the container stage was killed by ${m.signal} before it could start the command`)
            : new BugError(`the container stage exited with code ${m.code} before it could start the command, without saying why`);
          rejectAll(err);
          rejectExecd(err);
          resolveExit({ status: shellStatus(m.code, m.signal), code: m.code, signal: m.signal });
          break;
        }
      }
    };

    // A user namespace is made by a helper process: no thread of ours enters anything, so no worker.
    const viaHelper = data.userns !== undefined || data.join?.userns === true;
    if (onThisThread) {
      this.send = spawnStage(data, receive);
      return;
    }
    if (viaHelper) {
      // Loaded only for a user namespace: the helper's side of the start.
      const queued: ToWorker[] = [];
      let handle: ((m: ToWorker) => void) | undefined;
      this.send = (m) => (handle ? handle(m) : queued.push(m));
      void import('./userns-spawn.js').then(({ spawnStageInUserNamespace }) => {
        handle = spawnStageInUserNamespace(data, receive);
        for (const m of queued.splice(0)) handle(m);
      });
      return;
    }
    // The worker enters the namespaces and spawns; the stage's fds are this thread's (stage-channel.ts).
    const channel = StageChannel.open(data.stdio);
    const relay = relayStreams(channel.streams, receive);
    const worker = new Worker(workerScript, { workerData: { ...data, fds: channel.childFds } satisfies StageWorkerData });
    this.worker = worker;
    this.send = (m) => (m.type === 'signal' ? worker.postMessage(m) : relay.handle(m));
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'spawned') channel.closeChildEnds();
      if (m.type === 'failed') channel.close();
      if (m.type !== 'exit') return receive(m);
      // Reported once the output has ended, as a 'close' would be: none is lost after it.
      channel.closeChildEnds();
      void relay.drained.then(() => {
        channel.close();
        receive(m);
      });
    });
    worker.on('error', (err) => {
      channel.close();
      this.hasExited = true;
      const e = new BugError(`the namespace worker failed: ${err.message}`, { cause: err });
      rejectAll(e);
      rejectExecd(e);
      resolveExit({ status: EXIT.RUNTIME, code: EXIT.RUNTIME, signal: null });
    });
  }

  /**
   * Start a stage; await `ready` before giving it its order. With `onThisThread`,
   * the calling thread itself enters the namespaces and stays in them: only for a
   * process that starts one container and has no more use for the host's
   * namespaces (the CLI's run and exec), where it saves booting a worker.
   */
  static start(opts: { stdio: StdioMode; unshareFlags: number; joinNetPid?: number; join?: StageWorkerData['join']; userns?: StageWorkerData['userns']; onThisThread?: boolean }): StageProcess {
    const { onThisThread: asked = false, ...data } = opts;
    const onThisThread = asked && !data.userns && !data.join?.userns; // the helper enters the namespaces, not this thread
    if (onThisThread) {
      if (thisThreadEntered) throw new BugError('a second stage was asked to start on a thread already in a container\'s namespaces');
      thisThreadEntered = true;
    }
    return new StageProcess({ stageScript, ...data }, onThisThread);
  }

  /** Hand the stage its order; resolves once the command has been exec'd. */
  async go(order: StageOrder): Promise<void> {
    await this.ready;
    // The launcher's terminal, inherited: the command takes it over, as a shell's
    // job does (steps.ts, takeForeground). Not when we are a background job ourselves.
    // koffi only then: node:tty answers the common case.
    if (this.stdio === 'inherit' && isatty(0) && (await import('../libc.js')).holdsTerminal(0)) order = { ...order, foregroundTerminal: true };
    this.send({ type: 'order', data: encodeOrder(order) });
    await this.execd;
  }

  write(data: Uint8Array | string): void {
    this.send({ type: 'stdin', data: typeof data === 'string' ? new TextEncoder().encode(data) : data });
  }

  endInput(): void {
    this.send({ type: 'stdin-end' });
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.hasExited) this.send({ type: 'signal', signal });
  }

  get running(): boolean {
    return !this.hasExited;
  }


  /** Kill the stage (or the command it became) and wait for it. */
  async destroy(): Promise<ExitStatus> {
    this.signal('SIGKILL');
    const status = await this.exited;
    await this.worker?.terminate();
    return status;
  }
}
