// Entering the container's namespaces and spawning the stage from there: the
// part of a container's start that must run on the thread whose namespaces
// change (docs/architecture.md, fact 2). Runs in a worker thread (worker.ts) so the rest
// of the process stays on the host, or, for a one-shot CLI run that has no more
// use for the host's namespaces, on the main thread itself (no worker to boot).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import * as libc from '../libc.js';
import { SyscallError, describeStepFailure } from '../errors.js';
import { CONTROL_FD, type FromWorker, type StageReport, type StageWorkerData, type ToWorker } from './protocol.js';

/** Join (exec) or create (run) the namespaces; returns the mount namespace fd the stage must join itself. */
function enterNamespaces(data: StageWorkerData): number | undefined {
  if (data.join) {
    // Open every namespace file before joining any: after that, /proc/PID may not be the host's.
    const fds = data.join.namespaces.map((ns) => ({ ...ns, fd: fs.openSync(`/proc/${data.join!.pid}/ns/${ns.file}`, 'r') }));
    let mountNamespace: number | undefined;
    for (const ns of fds) {
      // The mount namespace is joined by the stage, not here: this thread must still
      // find the node binary on the host to spawn the stage.
      if (ns.flag === libc.CLONE.NEWNS) {
        mountNamespace = ns.fd;
        continue;
      }
      libc.setns(ns.fd, ns.flag, ns.file);
      fs.closeSync(ns.fd);
    }
    return mountNamespace;
  }
  if (data.joinNetPid !== undefined) {
    // setns(CLONE_NEWNET) is allowed in a multithreaded process (docs/architecture.md, fact 11).
    const fd = fs.openSync(`/proc/${data.joinNetPid}/ns/net`, 'r');
    try {
      libc.setns(fd, libc.CLONE.NEWNET, `network namespace of pid ${data.joinNetPid}`);
    } finally {
      fs.closeSync(fd);
    }
  }
  if (data.unshareFlags) libc.unshare(data.unshareFlags);
  return undefined;
}

/**
 * Spawn the stage in the container's namespaces, report on it through `post`,
 * and return the handler for orders, input and signals. `done` is called once
 * the stage has exited and its output is drained.
 */
export function spawnStage(data: StageWorkerData, post: (m: FromWorker) => void, done: () => void = () => {}): (m: ToWorker) => void {
  let mountNamespace: number | undefined;
  try {
    mountNamespace = enterNamespaces(data);
  } catch (err) {
    // The 'namespaces' step: a kernel's refusal (EPERM, ENOSPC...) is the user's to fix; anything else is ours.
    const refused = err instanceof SyscallError || typeof (err as NodeJS.ErrnoException).code === 'string';
    post({ type: 'failed', message: `namespaces: ${describeStepFailure('namespaces', err)}`, refused });
    done();
    return () => {};
  }
  // The stage's fds: the launcher's channel (stage-channel.ts) when it made them, else pipes made here.
  // The stage finds the mount namespace to join (if any) as fd MOUNT_NS_FD.
  const own: StdioOptions = data.fds ?? [data.stdio, data.stdio, data.stdio, 'pipe'];
  const stdio: StdioOptions = [...own, ...(mountNamespace === undefined ? [] : [mountNamespace])];
  // A lean environment: the stage is Node, and NODE_OPTIONS from the user could slow it or break it.
  const child = spawn(process.execPath, [data.stageScript], { stdio, env: { PATH: process.env.PATH ?? '' } });
  if (mountNamespace !== undefined) fs.closeSync(mountNamespace);
  if (child.pid === undefined) {
    child.on('error', (err) => {
      post({ type: 'failed', message: `could not start the stage (${process.execPath}): ${err.message}`, refused: false });
      done();
    });
    return () => {};
  }
  post({ type: 'spawned', pid: child.pid });
  if (!data.fds) return relayStage(child, post, done);
  // The launcher holds the other ends: this thread only reports the exit and passes signals on.
  child.on('exit', (code, signal) => {
    post({ type: 'exit', code, signal });
    done();
  });
  return (m: ToWorker) => {
    if (m.type === 'signal') child.kill(m.signal);
  };
}

/** The launcher's side of a stage's fds: fd 3 (the order in, reports out), and its stdio when piped. */
export interface StageStreams {
  control: NodeJS.ReadWriteStream;
  stdin?: NodeJS.WritableStream | null;
  stdout?: NodeJS.ReadableStream | null;
  stderr?: NodeJS.ReadableStream | null;
}

/**
 * Relay a stage's fds to `post`: its reports on fd 3, the end of fd 3 (its
 * execve), its output; returns the handler for its order and input, and a
 * promise that resolves once its output has ended (no output is lost after
 * the exit report).
 */
export function relayStreams(streams: StageStreams, post: (m: FromWorker) => void): { handle(m: ToWorker): void; drained: Promise<unknown> } {
  let failed = false;
  let pending = '';
  const { control } = streams;
  control.setEncoding('utf8');
  control.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const report = JSON.parse(pending.slice(0, nl)) as StageReport;
      pending = pending.slice(nl + 1);
      if (report.type === 'error') failed = true;
      post({ type: 'report', report });
    }
  });
  // fd 3 is close-on-exec in the stage: end-of-file without an error means execve succeeded.
  control.on('end', () => {
    if (!failed) post({ type: 'execd' });
  });
  control.on('error', () => {
    /* the stage died; 'exit' tells the rest */
  });

  const ended: Array<Promise<void>> = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    const output = streams[stream];
    if (!output) continue;
    output.on('data', (chunk: Buffer) => post({ type: 'output', stream, data: new Uint8Array(chunk) }));
    ended.push(new Promise((resolve) => output.on('close', resolve)));
  }
  streams.stdin?.on('error', () => {
    /* the command closed its stdin */
  });

  return {
    handle(m: ToWorker) {
      if (m.type === 'order') control.write(m.data);
      else if (m.type === 'stdin') streams.stdin?.write(m.data);
      else if (m.type === 'stdin-end') streams.stdin?.end();
    },
    drained: Promise.all(ended),
  };
}

/**
 * Follow a stage spawned with its own pipes (or the helper that becomes it):
 * its reports on fd 3, its output, its exit; returns the handler for orders,
 * input and signals.
 */
export function relayStage(child: ChildProcess, post: (m: FromWorker) => void, done: () => void): (m: ToWorker) => void {
  const control = child.stdio[CONTROL_FD] as unknown as NodeJS.ReadWriteStream;
  const relay = relayStreams({ control, stdin: child.stdin, stdout: child.stdout, stderr: child.stderr }, post);
  // 'close' waits for stdout/stderr to drain, so no output is lost after the exit report.
  child.on('close', (code, signal) => {
    post({ type: 'exit', code, signal });
    done();
  });
  return (m: ToWorker) => {
    if (m.type === 'signal') child.kill(m.signal);
    else relay.handle(m);
  };
}
