// A worker thread that puts itself into the container's namespaces and spawns
// the stage from there. Namespaces belong to threads (DESIGN.md §2.2): only this
// thread moves, the rest of the Node process stays on the host. The thread stays
// alive for the container's life, because the stage's parent-death signal is
// tied to the thread that spawned it.
import { parentPort, workerData } from 'node:worker_threads';
import { spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import * as libc from './libc.js';
import { CONTROL_FD, type StageReport } from './stage-protocol.js';

export type StdioMode = 'inherit' | 'pipe' | 'ignore';

export interface StageWorkerData {
  stageScript: string;
  stdio: StdioMode;
  /** unshare(2) flags for a new container. */
  unshareFlags: number;
  /** For exec: join the namespaces of this (host) PID instead. */
  join?: { pid: number; namespaces: Array<{ file: string; flag: number }> };
}

/** Main thread -> worker. */
export type ToWorker =
  | { type: 'order'; line: string }
  | { type: 'stdin'; data: Uint8Array }
  | { type: 'stdin-end' }
  | { type: 'signal'; signal: NodeJS.Signals };

/** Worker -> main thread. */
export type FromWorker =
  | { type: 'spawned'; pid: number }
  | { type: 'report'; report: StageReport }
  | { type: 'execd' }
  | { type: 'output'; stream: 'stdout' | 'stderr'; data: Uint8Array }
  | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'failed'; message: string };

const data = workerData as StageWorkerData;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

/** Join (exec) or create (run) the namespaces; returns the mount namespace fd the stage must join itself. */
function enterNamespaces(): number | undefined {
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
  if (data.unshareFlags) libc.unshare(data.unshareFlags);
  return undefined;
}

function start(): void {
  const mountNamespace = enterNamespaces();
  const io = data.stdio;
  // The stage finds the mount namespace to join (if any) as fd MOUNT_NS_FD.
  const stdio: StdioOptions = [io, io, io, 'pipe', ...(mountNamespace === undefined ? [] : [mountNamespace])];
  // A lean environment: the stage is Node, and NODE_OPTIONS from the user could slow it or break it.
  const child = spawn(process.execPath, [data.stageScript], { stdio, env: { PATH: process.env.PATH ?? '' } });
  if (child.pid === undefined) {
    child.on('error', (err) => post({ type: 'failed', message: `could not start the stage: ${err.message}` }));
    return;
  }
  if (mountNamespace !== undefined) fs.closeSync(mountNamespace);
  post({ type: 'spawned', pid: child.pid });

  let failed = false;
  let pending = '';
  const control = child.stdio[CONTROL_FD] as unknown as NodeJS.ReadWriteStream;
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

  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.on('data', (chunk: Buffer) => post({ type: 'output', stream, data: new Uint8Array(chunk) }));
  }
  child.stdin?.on('error', () => {
    /* the command closed its stdin */
  });

  port.on('message', (m: ToWorker) => {
    if (m.type === 'order') control.write(m.line);
    else if (m.type === 'stdin') child.stdin?.write(m.data);
    else if (m.type === 'stdin-end') child.stdin?.end();
    else if (m.type === 'signal') child.kill(m.signal);
  });

  // 'close' waits for stdout/stderr to drain, so no output is lost after the exit report.
  child.on('close', (code, signal) => {
    post({ type: 'exit', code, signal });
    port.close();
  });
}

try {
  start();
} catch (err) {
  post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
}
