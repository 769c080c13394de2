// The stage: a fresh Node process started inside the container's namespaces
// (PID 1 of a new PID namespace for `run`). It says it is ready, waits for its
// order on fd 3, then runs the start steps (steps.ts) and becomes the command.
// It must stay small: its start-up is part of every cold container start
// (docs/architecture.md, facts 5 and 9).
import fs from 'node:fs';
import * as libc from '../libc.js';
import { EXIT } from '../errors.js';
import { applyMaskedPaths, applyReadonlyPaths, remountReadonly } from '../security/paths.js';
import { enterSecurity } from '../security/enter.js';
import { CONTROL_FD, decodeOrder, type StageOrder, type StageReport } from './protocol.js';
import { StepFailure, startInStage, type StageSystem } from './steps.js';

// With a user namespace the helper hands us this package as an open
// directory, and Node has loaded every module through /proc/self/fd/N by now
// (static imports all load before this line runs). A host directory must not
// stay open into the container: close it before anything else.
const packageFd = /^file:\/\/\/proc\/self\/fd\/(\d+)\//.exec(import.meta.url)?.[1];
if (packageFd !== undefined) fs.closeSync(Number(packageFd));

function report(r: StageReport): void {
  fs.writeSync(CONTROL_FD, JSON.stringify(r) + '\n');
}

function readOrder(): StageOrder {
  // libuv hands us fd 3 non-blocking; we want to sleep in read() until the order comes.
  libc.setBlocking(CONTROL_FD);
  const buf = Buffer.alloc(65536);
  let got = Buffer.alloc(0);
  for (;;) {
    const n = fs.readSync(CONTROL_FD, buf);
    if (n === 0) process.exit(EXIT.RUNTIME); // the launcher went away before giving an order
    got = Buffer.concat([got, buf.subarray(0, n)]);
    const order = decodeOrder(got);
    if (order) return order;
  }
}

function isOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** The real kernel (through koffi) and filesystem. */
const system: StageSystem = {
  unshare: libc.unshare,
  setns: libc.setns,
  mount: libc.mount,
  umount2: libc.umount2,
  pivotRoot: libc.pivotRoot,
  chroot: libc.chroot,
  chdir: libc.chdir,
  sethostname: libc.sethostname,
  mknod: libc.mknod,
  switchUser: libc.switchUser,
  setCloseOnExec: libc.setCloseOnExec,
  setParentDeathSignal: libc.setParentDeathSignal,
  setpgid: libc.setpgid,
  takeTerminal: libc.takeTerminal,
  execve: (program, argv, env) => {
    // The trace goes back before execve closes fd 3; the call itself is the last entry.
    if (order.trace) report({ type: 'trace', calls: [...libc.takeTrace(), libc.traceAbout('execve', [program, argv])] });
    return libc.execve(program, argv, env);
  },
  umask: (mask) => process.umask(mask),
  closeFd: (fd) => fs.closeSync(fd),
  // readdirSync lists its own directory fd too, closed by the time it returns: left out.
  openFds: () => fs.readdirSync('/proc/self/fd').map(Number).filter(isOpen),
  mkdirp: (dir) => void fs.mkdirSync(dir, { recursive: true }),
  symlink: (target, file) => fs.symlinkSync(target, file),
  kind: (file) => {
    try {
      const st = fs.statSync(file);
      return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    } catch {
      return undefined;
    }
  },
  touch: (file) => fs.writeFileSync(file, ''),
  setrlimit: libc.setrlimit,
  applyReadonlyPaths,
  applyMaskedPaths,
  remountReadonly,
  enterSecurity,
};

report({ type: 'ready' });
const order = readOrder();
if (order.trace) libc.setTracing(true);
try {
  startInStage(order, system);
} catch (err) {
  const failure = err instanceof StepFailure
    ? err
    : new StepFailure('exec', EXIT.RUNTIME, `stage: ${err instanceof Error ? err.message : String(err)}`, true);
  report({ type: 'error', exitCode: failure.exitCode, message: failure.message, step: failure.step, bug: failure.bug || undefined });
  process.exit(failure.exitCode);
}
