// The parent's side of helpers/nsexec.py, the single-threaded first step of a
// container with a user namespace (why a helper, and why Python: see its head).
// We spawn it with the stage's stdio and control fds plus one sync socket,
// wait for "ready" (the user namespace exists), write its setgroups, uid_map
// and gid_map, say "go", and learn the host PID of the process that execs the
// program: the helper itself, or with CLONE_NEWPID its forked child, PID 1.
//
// A container start with a user namespace, in order:
//  1. usernsFromFlags() / parseConfigyUserns(): validate (pure; UserError, exit 125).
//  2. chown the overlay's upper and work dirs to the host ids of container
//     0:0 (hostIdOf); every directory above them must be open to "other"
//     (x), as root inside has no privilege over host files (layers.ts
//     refuses otherwise). Node and this package need not be: the helper
//     opens them while it is still host root (packageDir).
//  3. spawnInUserNamespace({ spec, unshareFlags: PID|UTS|IPC|NET|NS,
//     program: [node, stage.js], packageDir, stdio: [io, io, io, 'pipe'] })
//     instead of a worker's unshare() + spawn: Node itself unshares nothing here.
//  4. await pid: the stage's host PID (PID 1 inside): records, probes, cgroup join.
//  5. attachIdmappedBase(base, pid, dir): the idmapped lower layer, in the
//     container's mount namespace only.
//  6. The stage's order as today, but: no unshare(CLONE_NEWNS) (the helper
//     made it; still make / rprivate), overlay options with
//     lowerdir=dir and userxattr, and --user applied by the stage just before
//     execve (the helper must leave it root inside, to mount). /dev: mknod
//     is EPERM inside (vfs_mknod wants CAP_MKNOD in the initial namespace;
//     measured), so bind-mount the host's device nodes, as runc does
//     rootless; /proc and /sys mount fine (measured).
//  7. Signals to `child` are forwarded; its exit is the stage's.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { EXIT, UserError } from '../errors.js';
import { CLONE } from '../linux.js';
import { findExecutable, pathDirs } from '../host-files.js';
import { CONTAINER_PATH, PACKAGE_ROOT } from '../paths.js';
import { formatIdMap, type UsernsSpec } from './idmap.js';

export const NSEXEC_SCRIPT = path.join(PACKAGE_ROOT, 'helpers', 'nsexec.py');

const CAP_SETGID = 6;

/** What the helper runs, and how. */
export interface HelperProgram {
  /** What the helper execs: an absolute path and its arguments (the Node stage). */
  program: string[];
  env: Record<string, string>;
  /** The program's fds from 0 on, as child_process.spawn takes them; they survive the exec. */
  stdio: Exclude<StdioOptions, string>;
  /** The interpreter for the helper; found on PATH by default. */
  python?: string;
  /**
   * A directory the program reads from (this package, for the Node stage).
   * The helper opens it, and program[0], while it is still host root; each
   * argument under it becomes /proc/self/fd/N/...: root inside may not be
   * able to search the directories above it (see helpers/nsexec.py).
   */
  packageDir?: string;
}

/** What a container start hands over; the helper adds CLONE_NEWUSER itself. */
export interface UsernsStart extends HelperProgram {
  spec: UsernsSpec;
  /** The other namespaces (CLONE_NEWPID, NEWUTS, NEWIPC, NEWNET, NEWNS), created after the maps so they belong to the new user namespace. */
  unshareFlags: number;
  /** Defaults to "deny" only where the kernel requires it (see setgroupsFor). */
  setgroups?: 'allow' | 'deny';
}

export interface UsernsProcess {
  /** The helper, Node's own child: stdio streams, kill and exit go through it (it forwards signals). */
  child: ChildProcess;
  /** Host PID of the process that runs the program once exec'd. */
  pid: Promise<number>;
  /** Resolves once the program has been exec'd; rejects with "userns: STEP: ERRNO: ..." naming the step. */
  execd: Promise<void>;
}

/**
 * A python3 for the helper: the system's first (a pyenv shim on PATH is a
 * shell script that costs tens of ms more), then PATH. Null when none.
 */
export function findHelperPython(searchPath = process.env.PATH ?? ''): string | null {
  return findExecutable('python3', [...CONTAINER_PATH, ...pathDirs(searchPath)]);
}

export const NO_HELPER_MESSAGE =
  'user namespaces need a single-threaded helper, and Node is multithreaded (unshare(CLONE_NEWUSER) refuses a process with threads): ' +
  'install python3 (sudo apt install python3, or sudo dnf install python3), or run without a user namespace (--userns host)';

/** Whether this process has `cap` in its effective set (/proc/self/status CapEff). */
function hasCapability(cap: number, status = fs.readFileSync('/proc/self/status', 'utf8')): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  return ((BigInt(`0x${hex}`) >> BigInt(cap)) & 1n) === 1n;
}

/**
 * user_namespaces(7), kernel/user_namespace.c new_idmap_permitted(): a writer
 * with CAP_SETGID in the parent user namespace may write any gid_map, and
 * setgroups stays "allow" (the helper then drops the host's supplementary
 * groups with setgroups([])). Without CAP_SETGID, the only map allowed is
 * one line mapping the writer's own gid, and only after "deny" has been
 * written: otherwise the process could drop a group that denies it access.
 */
export function setgroupsFor(writerHasCapSetgid: boolean): 'allow' | 'deny' {
  return writerHasCapSetgid ? 'allow' : 'deny';
}

// What a refusal of each step means, where errno alone does not say.
const HINTS: Record<string, Record<string, string>> = {
  'unshare(CLONE_NEWUSER)': {
    ENOSPC: 'the limit in /proc/sys/user/max_user_namespaces is reached (0 turns user namespaces off)',
    // The sysctls kernel.unprivileged_userns_clone (Debian) and
    // kernel.apparmor_restrict_unprivileged_userns (Ubuntu) bind only processes without CAP_SYS_ADMIN.
    EPERM: 'this process may not make user namespaces here (we run inside a container or under a seccomp filter; without root, kernel.unprivileged_userns_clone or kernel.apparmor_restrict_unprivileged_userns may forbid it)',
    EUSERS: 'user namespaces nest at most 32 deep',
    EINVAL: 'the helper is not single-threaded',
  },
  uid_map: { EPERM: 'writing a uid map needs CAP_SETUID over the new namespace\'s parent (run as root)', EINVAL: 'the kernel refused the map (overlap, size or range)' },
  gid_map: { EPERM: 'writing a gid map needs CAP_SETGID over the new namespace\'s parent, or setgroups "deny" and one line of your own gid', EINVAL: 'the kernel refused the map (overlap, size or range)' },
  setgroups: { EPERM: 'setgroups can be changed only before gid_map is written' },
};

function stepError(step: string, code: string, text: string): UserError {
  const hint = Object.entries(HINTS).find(([prefix]) => step.startsWith(prefix))?.[1][code];
  const exit = step.startsWith('execve') ? (code === 'ENOENT' ? EXIT.NOT_FOUND : EXIT.CANNOT_EXECUTE) : EXIT.RUNTIME;
  return new UserError(`userns: ${step}: ${code}: ${hint ?? text}`, exit);
}

/** One write at offset 0, as the kernel requires for these files. */
function writeProcFile(pid: number, file: 'setgroups' | 'uid_map' | 'gid_map', text: string): void {
  try {
    const fd = fs.openSync(`/proc/${pid}/${file}`, fs.constants.O_WRONLY);
    try {
      const buf = Buffer.from(text);
      const n = fs.writeSync(fd, buf, 0, buf.length, null); // write(2): these files refuse pwrite (ESPIPE)
      if (n !== buf.length) throw Object.assign(new Error('short write'), { code: 'EINVAL' });
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? 'EIO';
    throw stepError(file, code, e.message);
  }
}

/** Write setgroups (only if "deny"), uid_map and gid_map for the process `pid`, in the kernel's required order. */
export function writeIdMaps(pid: number, spec: UsernsSpec, setgroups: 'allow' | 'deny'): void {
  // "allow" is the default; writing it is allowed too, but says nothing.
  if (setgroups === 'deny') writeProcFile(pid, 'setgroups', 'deny');
  writeProcFile(pid, 'uid_map', formatIdMap(spec.uidMappings));
  writeProcFile(pid, 'gid_map', formatIdMap(spec.gidMappings));
}

function helperPython(python: string | undefined): string {
  const found = python ?? findHelperPython();
  if (!found || !fs.existsSync(found)) throw new UserError(NO_HELPER_MESSAGE);
  return found;
}

/**
 * Start `program` in a new user namespace that owns the namespaces in
 * `unshareFlags`. The spec must be validated already (validateUserns): then
 * nothing is created for bad input.
 */
export function spawnInUserNamespace(opts: UsernsStart): UsernsProcess {
  const python = helperPython(opts.python);
  const setgroups = opts.setgroups ?? setgroupsFor(hasCapability(CAP_SETGID));
  const flags = opts.unshareFlags & ~CLONE.NEWUSER;
  return startHelper(python, ['--flags', `0x${flags.toString(16)}`], opts, (helperPid) => writeIdMaps(helperPid, opts.spec, setgroups));
}

export interface UsernsJoin extends HelperProgram {
  /** Host PID of a process in the container (its PID 1). */
  pid: number;
  /** The namespaces to join besides its user namespace, as clone flags. Leave
   * out CLONE_NEWNS to exec a program from the host's filesystem (the Node
   * stage, which joins the mount namespace itself, from MOUNT_NS_FD). */
  joinFlags: number;
}

/**
 * Run `program` in a running container's user namespace (exec): setns() into
 * a user namespace is refused to a multithreaded process too. Root inside,
 * and with CLONE_NEWPID in joinFlags a child of the helper in the container's
 * PID namespace.
 */
export function spawnJoiningUserNamespace(opts: UsernsJoin): UsernsProcess {
  const python = helperPython(opts.python);
  const flags = opts.joinFlags & ~CLONE.NEWUSER;
  return startHelper(python, ['--join-pid', String(opts.pid), '--flags', `0x${flags.toString(16)}`], opts);
}

/** The program's arguments, with paths under `packageDir` reached through the helper's open fd. */
function programThroughPackageFd(program: string[], packageDir: string | undefined, packageFd: number): string[] {
  if (!packageDir) return program;
  const prefix = packageDir.replace(/\/+$/, '') + '/';
  return program.map((arg) => (arg.startsWith(prefix) ? `/proc/self/fd/${packageFd}/${arg.slice(prefix.length)}` : arg));
}

/** Spawn the helper and follow its sync socket; `onReady` writes the maps of a new namespace. */
function startHelper(
  python: string,
  helperArgs: string[],
  opts: HelperProgram,
  onReady?: (helperPid: number) => void,
): UsernsProcess {
  const syncFd = opts.stdio.length;
  const packageFd = syncFd + 1;
  const packageArgs = opts.packageDir ? ['--package-dir', opts.packageDir, '--package-fd', String(packageFd)] : [];
  const args = [
    '-I', '-S', NSEXEC_SCRIPT, '--sync-fd', String(syncFd), ...helperArgs, ...packageArgs,
    '--uid', '0', '--gid', '0', // root inside: the stage mounts; --user applies to the command later
    '--', ...programThroughPackageFd(opts.program, opts.packageDir, packageFd),
  ];
  const child = spawn(python, args, { stdio: [...opts.stdio, 'pipe'], env: opts.env });

  let resolvePid!: (pid: number) => void;
  let rejectPid!: (err: Error) => void;
  let resolveExecd!: () => void;
  let rejectExecd!: (err: Error) => void;
  const pid = new Promise<number>((res, rej) => ((resolvePid = res), (rejectPid = rej)));
  const execd = new Promise<void>((res, rej) => ((resolveExecd = res), (rejectExecd = rej)));
  pid.catch(() => {});
  execd.catch(() => {});
  let failure: UserError | undefined;
  let programPid: number | undefined;
  const failWith = (err: UserError) => {
    failure ??= err;
    rejectPid(failure);
    rejectExecd(failure);
  };

  child.on('error', (err) => failWith(new UserError(`userns: starting the helper (${python}): ${err.message}; ${NO_HELPER_MESSAGE}`)));
  const sync = child.stdio[syncFd] as unknown as Duplex;
  sync.setEncoding('utf8');
  let pending = '';
  sync.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line === 'ready' && onReady) {
        try {
          onReady(child.pid!);
          sync.write('go\n');
        } catch (err) {
          child.kill('SIGKILL');
          failWith(err as UserError);
        }
      } else if (line.startsWith('pid ')) {
        programPid = Number(line.slice(4));
        resolvePid(programPid);
      } else {
        const m = /^error (.+?): (\w+): (.*)$/.exec(line);
        failWith(m ? stepError(m[1], m[2], m[3]) : new UserError(`userns: the helper said something unexpected: ${line}`));
      }
    }
  });
  sync.on('error', () => {
    /* the helper died; 'exit' tells */
  });
  // The sync socket is close-on-exec in the helper: end-of-file after "pid N" and no error means exec'd.
  sync.on('end', () => {
    if (failure) return;
    if (programPid !== undefined) resolveExecd();
    else failWith(new UserError('userns: the helper ended before it started the program'));
  });
  child.on('exit', (code, signal) => {
    if (programPid === undefined) failWith(new UserError(`userns: the helper exited (${signal ?? `code ${code}`}) before it started the program`));
  });
  return { child, pid, execd };
}
