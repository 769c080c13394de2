// A stand-in for src/runtime in the engine's unit tests: it records what the
// engine asks for and answers the way the real runtime does (real behaviour is
// covered by test/integration/lessons-engine.test.ts, which runs as root).
import { EventEmitter } from 'node:events';
import type { Container, ContainerExit, ContainerSpec, RunResult } from '../../src/runtime/index.js';
import { hostFiles, type RuntimeLike } from '../../src/lessons/runtime-like.js';
import type { ProbeKind, ProbeSnapshot } from '../../src/lessons/types.js';

let nextPid = 5000;

export class FakeContainer extends EventEmitter {
  readonly pid = nextPid++;
  readonly name: string;
  readonly hostname?: string;
  readonly layers?: { lower: string; upper: string; work: string; merged: string };
  readonly namespaces: string[];
  readonly exited: Promise<ContainerExit>;
  readonly runs: string[][] = [];
  private resolveExit!: (e: ContainerExit) => void;
  private alive = true;

  constructor(readonly spec: ContainerSpec, private readonly onRun: (c: FakeContainer, argv: string[]) => RunResult) {
    super();
    this.name = spec.name ?? `c-${this.pid}`;
    this.namespaces = spec.namespaces ?? ['pid', 'uts', 'ipc', 'net', 'mnt', 'cgroup'];
    this.hostname = this.namespaces.includes('uts') ? (spec.hostname ?? this.name) : undefined;
    if (spec.rootfs !== null && spec.overlay !== false) {
      const base = `/fake-state/containers/${this.name}`;
      this.layers = { lower: spec.rootfs ?? '/fake-rootfs', upper: `${base}/upper`, work: `${base}/work`, merged: `${base}/merged` };
    }
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get running(): boolean {
    return this.alive;
  }

  /** The command ends by itself (or is killed) with this status. */
  finish(status: number, signal: NodeJS.Signals | null = null): void {
    if (!this.alive) return;
    this.alive = false;
    this.resolveExit({ status, code: signal ? null : status, signal, limitMessages: [] });
    this.emit('exit');
  }

  async stop(): Promise<ContainerExit> {
    this.finish(137, 'SIGKILL');
    return this.exited;
  }

  async run(argv: string[]): Promise<RunResult> {
    this.runs.push(argv);
    return this.onRun(this, argv);
  }
}

export interface FakeRuntime extends RuntimeLike {
  log: string[];
  started: FakeContainer[];
  onceSpecs: ContainerSpec[];
  stored: Set<string>;
  removed: string[];
  /** Make the next startContainer refuse, as the runtime refuses pivot_root on a non-mount-point. */
  refuseNextStart?: Error;
  /** runOnce starts a FakeContainer, hands it to onStarted, and returns when a test finish()es it. */
  liveOnce?: boolean;
}

/** Commands answered like a shell would, enough for the tests' lessons. */
function shell(c: FakeContainer | undefined, argv: string[], all: FakeContainer[]): RunResult {
  const cmd = argv[0] === 'sh' && argv[1] === '-c' ? argv[2] : argv.join(' ');
  const ok = (stdout: string): RunResult => ({ status: 0, stdout, stderr: '', limitMessages: [] });
  if (cmd === 'hostname') return ok(`${c?.hostname ?? 'fake-host'}\n`);
  const kill = /^kill (\d+)$/.exec(cmd);
  if (kill) {
    all.find((x) => x.pid === Number(kill[1]))?.finish(143, 'SIGTERM');
    return ok('');
  }
  if (argv[0] === '/bin/missing') {
    return { status: 127, stdout: '', stderr: '', limitMessages: [], error: 'execve (/bin/missing) failed with ENOENT: the program, or the interpreter or libraries it needs, is not in the container' };
  }
  if (cmd === 'false') return { status: 1, stdout: '', stderr: '', limitMessages: [] };
  return ok(`ran: ${cmd}\n`);
}

/** Containers are faked; the work directory's files are real (the tests give it a temporary directory). */
export function fakeRuntime(): FakeRuntime {
  const rt: FakeRuntime = {
    ...hostFiles,
    log: [],
    started: [],
    onceSpecs: [],
    stored: new Set(),
    removed: [],
    async startContainer(spec: ContainerSpec) {
      rt.log.push(`start ${spec.name ?? ''}`);
      if (rt.refuseNextStart) {
        const err = rt.refuseNextStart;
        rt.refuseNextStart = undefined;
        throw err;
      }
      const c = new FakeContainer(spec, (self, argv) => shell(self, argv, rt.started));
      if (spec.name && !spec.remove) rt.stored.add(spec.name);
      rt.started.push(c);
      return c as unknown as Container;
    },
    async runOnce(spec: ContainerSpec, onStarted?: (c: Container) => void) {
      rt.log.push(`runOnce ${spec.argv.join(' ')}`);
      rt.onceSpecs.push(spec);
      if (spec.name) rt.stored.add(spec.name);
      if (rt.liveOnce && onStarted) {
        const c = new FakeContainer(spec, (self, argv) => shell(self, argv, rt.started));
        rt.started.push(c);
        onStarted(c as unknown as Container);
        const exit = await c.exited;
        return { status: exit.status, stdout: '', stderr: '', limitMessages: exit.limitMessages };
      }
      return shell(undefined, spec.argv, rt.started);
    },
    probe(pid: number | undefined, kinds: ProbeKind[]): ProbeSnapshot {
      const c = rt.started.find((x) => x.pid === pid);
      const snap: ProbeSnapshot = {};
      for (const k of kinds) {
        if (k === 'hostname') snap.hostname = c ? (c.hostname ?? 'fake-host') : 'fake-host';
        if (k === 'processes') snap.processes = c ? [{ pid: 1, command: c.spec.argv.join(' ') }] : [{ pid: 1, command: '/sbin/init' }, { pid: 99, command: 'node' }];
        if (k === 'namespaces') snap.namespaces = c ? { uts: 4026532000 + c.pid, pid: 4026532100 + c.pid } : { uts: 4026531838, pid: 4026531836 };
      }
      return snap;
    },
    // A fake network: only 127.0.0.1:7 (echo) answers.
    tcpReachable: async (host: string, port: number) =>
      host === '127.0.0.1' && port === 7 ? { reachable: true, ms: 0.1 } : { reachable: false, ms: 0.1, reason: 'EHOSTUNREACH: no host answers at that address' },
    storedContainers: () => [...rt.stored],
    removeStored(name: string) {
      rt.removed.push(name);
      rt.stored.delete(name);
    },
    defaultRootfs: () => '/fake-rootfs',
    async copyWithLibraries(binary: string, targetRoot: string, opts: { withLibraries: boolean }) {
      rt.log.push(`copy ${binary} -> ${targetRoot} ${opts.withLibraries ? 'with' : 'without'} libraries`);
      const libraries = ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'];
      return { program: binary, libraries, copied: opts.withLibraries ? [binary, ...libraries] : [binary] };
    },
    async stopAll() {
      rt.log.push('stopAll');
      for (const c of rt.started) c.finish(137, 'SIGKILL');
    },
  };
  return rt;
}
