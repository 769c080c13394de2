// The container's start inside the stage, as one function that reads top to
// bottom (the shape of runc's standard_init_linux.go), with why-comments above
// each syscall (bubblewrap's style). Every step is named: a failure says
// `stage: STEP: ...` and carries the step to the launcher and the lesson UI.
// The syscalls come in through `StageSystem`, so this file loads no koffi and a
// unit test can run the sequence against a fake and fail any step.
import path from 'node:path';
import { CLONE, MS } from '../linux.js';
import { EXIT, describeStepFailure } from '../errors.js';
import { MOUNT_NS_FD, type BindMount, type StageOrder, type StartStep } from './protocol.js';
import type { StageSecurity } from '../security/compile.js';

/** What the stage needs of the kernel and the filesystem: libc.ts and node:fs in the real stage. */
export interface StageSystem {
  unshare(flags: number): void;
  setns(fd: number, nstype: number, detail?: string): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void;
  umount2(target: string, flags: number): void;
  pivotRoot(newRoot: string, putOld: string): void;
  chroot(dir: string): void;
  chdir(dir: string): void;
  sethostname(name: string): void;
  mknod(file: string, mode: number, major: number, minor: number): void;
  /** setgroups([]), setresgid, setresuid: --user. */
  switchUser(uid: number, gid: number): void;
  setCloseOnExec(fd: number, on: boolean): void;
  setParentDeathSignal(signal: number): void;
  setpgid(pid: number, pgid: number): void;
  /** tcsetpgrp(fd, getpgrp()) with SIGTTOU blocked around it. */
  takeTerminal(fd: number): void;
  execve(program: string, argv: string[], env: string[]): never;
  umask(mask: number): number;
  closeFd(fd: number): void;
  /** The fds open in this process now (from /proc/self/fd). */
  openFds(): number[];
  mkdirp(dir: string): void;
  symlink(target: string, file: string): void;
  /** What is at this path (following symlinks), or undefined when nothing is. */
  kind(file: string): 'dir' | 'file' | 'other' | undefined;
  /** Create an empty file, for a bind mount of a file onto it. */
  touch(file: string): void;
  setrlimit(resource: number, soft: number, hard: number, name: string): void;
  /** security/paths.ts: bind each existing path under root read-only; the paths done. */
  applyReadonlyPaths(root: string, paths: readonly string[]): string[];
  /** security/paths.ts: /dev/null or an empty read-only tmpfs over each existing path; the paths done. */
  applyMaskedPaths(root: string, paths: readonly string[]): string[];
  /** security/paths.ts: remount a mount read-only, keeping nosuid/nodev/noexec. */
  remountReadonly(target: string): void;
  /** security/enter.ts: bounding set, no_new_privs, the filter, capset; then only execve. */
  enterSecurity(security: StageSecurity, switchUser?: () => void): void;
}

/** A failed step: its name, and the message the learner reads. */
export class StepFailure extends Error {
  constructor(readonly step: StartStep, readonly exitCode: number, message: string, readonly bug: boolean, cause?: unknown) {
    super(message, { cause });
    this.name = 'StepFailure';
  }
}

const SIGKILL = 9;
const S_IFCHR = 0o020000;
const MNT_DETACH = 2;

// The device nodes runc gives a container (major, minor).
const DEVICES: Array<[string, number, number]> = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
];
const DEV_LINKS: Array<[string, string]> = [
  ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx'],
];

/** Anything but a kernel or filesystem answer is a bug in this file. */
function isRefusal(err: unknown): boolean {
  return err instanceof Error && (err.name === 'SyscallError' || typeof (err as NodeJS.ErrnoException).code === 'string');
}

function step<T>(name: StartStep, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof StepFailure) throw err; // a step inside this one (user, inside security) names itself
    throw new StepFailure(name, EXIT.RUNTIME, `stage: ${name}: ${describeStepFailure(name, err)}`, !isRefusal(err), err);
  }
}

/**
 * Build the container from inside and become its command. Returns only by
 * throwing a StepFailure; on success execve(2) replaces this process.
 */
export function startInStage(order: StageOrder, sys: StageSystem): never {
  step('prepare', () => {
    // If our launcher dies, so do we (and, after execve, the command): no orphan containers.
    sys.setParentDeathSignal(SIGKILL);
    sys.umask(0o022);
    // Node opens every fd close-on-exec but leaves others it inherited: none but
    // 0-2 may reach the command (fd 3 would let it write our protocol). Done before
    // the root changes, since the new root may have no /proc.
    for (const fd of sys.openFds()) if (fd > 2) sys.setCloseOnExec(fd, true);
  });

  // The user namespace is not a step here: unshare(CLONE_NEWUSER) fails in a
  // multithreaded process, which every Node process is (docs/architecture.md,
  // fact 3). With order.inUserNamespace, the single-threaded helper made it
  // (start/userns-spawn.ts), the launcher wrote its maps, and we are root inside.

  if (order.joinMountNamespace) {
    step('mount namespace', () => {
      // exec: setns into a mount namespace needs an fs_struct of our own (fact 3).
      sys.unshare(CLONE.FS);
      // The spawning thread could not join it: it had to find node on the host to spawn us.
      sys.setns(MOUNT_NS_FD, CLONE.NEWNS, 'the container\'s mount namespace');
      sys.closeFd(MOUNT_NS_FD);
    });
  }
  if (order.newMountNamespace) {
    step('mount namespace', () => {
      // Here, not on the spawning thread: pivot_root moves the root of every
      // thread in the mount namespace, and that thread may be the launcher's.
      // In a user namespace the helper made it, after the user namespace, so that it owns it.
      if (!order.inUserNamespace) sys.unshare(CLONE.NEWNS);
      // Every mount private, recursively: nothing we mount may propagate to the host.
      sys.mount(null, '/', null, MS.REC | MS.PRIVATE);
    });
  }

  // ---- slot: network. The launcher moves a veth end into the new network
  // namespace; here the stage brings up lo and the interface (runc's
  // setupNetwork comes before the root, too). ----

  if (order.root) {
    const root = order.root;
    const dir = root.dir;
    if (root.overlay) {
      const { lower, upper, work } = root.overlay;
      step('overlay', () => {
        // The container's root: the base rootfs read-only below, its own changes
        // above. Mounted here, in the new mount namespace, so the host never sees it.
        // In a user namespace: userxattr, since trusted.* xattrs need CAP_SYS_ADMIN on the host.
        sys.mount('overlay', dir, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${work}${order.inUserNamespace ? ',userxattr' : ''}`);
      });
    } else if (root.pivot) {
      step('root mount point', () => {
        if (root.rootMountPoint === 'bind') {
          // pivot_root(2) needs the new root to be a mount point: bind it onto itself.
          sys.mount(dir, dir, null, MS.BIND | MS.REC);
        } else {
          // 'as-given': a plain directory. Bind its parent onto itself, as on a machine
          // where it sits under /mnt, so the kernel answers EINVAL ("not a mount
          // point"); a directory on the root mount itself would get EBUSY first.
          const parent = path.dirname(dir);
          sys.mount(parent, parent, null, MS.BIND | MS.REC);
        }
      });
    }

    if (root.specialFilesystems) {
      const nosuidNodevNoexec = MS.NOSUID | MS.NODEV | MS.NOEXEC;
      step('/proc', () => {
        // By us, PID 1 of the new PID namespace: a proc mount shows the PID
        // namespace of whoever mounts it (fact 5), so ps sees only the container.
        sys.mount('proc', mkdirIn(sys, dir, 'proc'), 'proc', nosuidNodevNoexec);
      });
      step('/sys', () => {
        // Read-only: the container may look at the kernel's objects, not change them.
        sys.mount('sysfs', mkdirIn(sys, dir, 'sys'), 'sysfs', nosuidNodevNoexec | MS.RDONLY);
      });
      step('/dev', () => mountDev(sys, mkdirIn(sys, dir, 'dev'), order.inUserNamespace === true));
    }

    const security = order.security;
    // Also without our /proc and /sys: an OCI bundle may mask a path of its own root (paths that do not exist are skipped).
    if (security && (security.readonlyPaths.length || security.maskedPaths.length)) {
      // Docker's read-only paths (runc's readonlyPath): /proc/sys and the like are
      // host-global knobs; bound onto themselves and remounted read-only. After
      // /proc and /sys, which they lie in; before the masks, which lie in them too.
      step('read-only paths', () => sys.applyReadonlyPaths(dir, security.readonlyPaths));
      // Docker's masked paths (runc's maskPath): files that show the host's state
      // (/proc/kcore, /proc/keys, ...) get /dev/null bound over them, directories
      // an empty read-only tmpfs.
      step('masked paths', () => sys.applyMaskedPaths(dir, security.maskedPaths));
    }

    step('tmpfs', () => {
      // A scratch filesystem of its own for each (e.g. /tmp), gone with the container.
      for (const t of root.tmpfs) sys.mount('tmpfs', mkdirIn(sys, dir, t), 'tmpfs', MS.NOSUID | MS.NODEV, 'mode=1777');
    });
    if (root.mounts?.length) {
      step('mounts', () => {
        for (const m of root.mounts!) sys.mount(m.source, mkdirIn(sys, dir, m.target), m.fstype, m.flags, m.data ?? null);
      });
    }
    step('binds', () => {
      for (const b of root.binds) bindMount(sys, b, path.join(dir, b.target));
    });

    if (root.pivot) {
      step('pivot_root', () => {
        sys.chdir(dir);
        // runc's trick: pivot onto "." so the old root ends up stacked on top of
        // the new one, then detach it. No put_old directory is left in the container,
        // and no path leads back to the host's root: chroot's escape fails.
        sys.pivotRoot('.', '.');
        sys.umount2('.', MNT_DETACH);
        sys.chdir('/');
      });
    } else {
      step('chroot', () => {
        sys.chdir(dir);
        // Only this process's idea of "/" changes: chroot, which a process can climb out of.
        sys.chroot('.');
        sys.chdir('/');
      });
    }
    // --read-only: the root itself, now "/"; its submounts (/proc, /dev, tmpfs, binds) keep their own flags.
    if (order.security?.readonlyRoot) step('read-only root', () => sys.remountReadonly('/'));
  }

  if (order.hostname !== undefined) {
    // In the new UTS namespace: the host keeps its own name.
    step('hostname', () => sys.sethostname(order.hostname!));
  }
  if (order.newCgroupNamespace) {
    // Now that the launcher has moved us into the container's cgroup: that
    // cgroup becomes the root of /proc/self/cgroup inside.
    step('cgroup namespace', () => sys.unshare(CLONE.NEWCGROUP));
  }
  if (order.cwd !== '/') step('cwd', () => sys.chdir(order.cwd));
  if (order.rlimits?.length) {
    // Inherited through execve: the command starts under them.
    step('rlimits', () => {
      for (const r of order.rlimits!) sys.setrlimit(r.resource, r.soft, r.hard, r.name);
    });
  }

  if (order.foregroundTerminal) step('terminal', () => takeForeground(sys));

  const program = step('exec', () => findProgram(sys, order.argv[0], order.env));
  if (!program) throw new StepFailure('exec', EXIT.NOT_FOUND, `stage: exec: ${order.argv[0]}: not found in the container's PATH`, false);

  // Node marks 0-2 close-on-exec too (fact 6): the command would start without stdio.
  step('exec', () => {
    for (const fd of [0, 1, 2]) sys.setCloseOnExec(fd, false);
  });
  if (order.security) {
    // Last, after every step that needed CAP_SYS_ADMIN: the bounding set, then
    // (without no_new_privs) the seccomp filter while we may still install one,
    // then capset to the container's set. Capabilities and the filter belong to
    // this thread, the one that calls execve (security/enter.ts). From here on
    // nothing but execve (and, if it fails, the report).
    //
    // --user (mounting and pivoting needed root) is switched inside that step,
    // in runc's order: after the bounding set (dropping it needs CAP_SETPCAP),
    // before capset. Leaving uid 0 clears the permitted and effective sets
    // (capabilities(7), no SECBIT_KEEP_CAPS), so a non-root user starts with
    // none, as docker runs one; uid 0 keeps the container's set.
    const user = order.user;
    const switchUser = user && (() => step('user', () => sys.switchUser(user.uid, user.gid)));
    step('security', () => sys.enterSecurity(order.security!, switchUser));
  } else if (order.user) {
    const { uid, gid } = order.user;
    step('user', () => sys.switchUser(uid, gid));
  }
  try {
    // Replaces this Node process, all its threads with it, by the command.
    sys.execve(program, order.argv, order.env);
  } catch (err) {
    // As a shell reports it: 127 when the program (or its ELF interpreter) is missing, else 126.
    const exitCode = (err as { code?: string }).code === 'ENOENT' ? EXIT.NOT_FOUND : EXIT.CANNOT_EXECUTE;
    throw new StepFailure('exec', exitCode, `stage: exec: ${order.argv[0]}: ${describeStepFailure('execve', err)}`, !isRefusal(err), err);
  }
}

/**
 * The command gets the terminal as a job-control shell gives it to a job. We
 * are still in the launcher's process group, which lies outside our PID
 * namespace, so getpgrp() and tcgetpgrp() read 0 here (credentials(7)): dash
 * saves that 0 at start and exits 2 when tcsetpgrp(0) fails (ESRCH) on its
 * way out. A group of our own, made the foreground group, reads as our pid.
 * takeTerminal blocks SIGTTOU for the call (we are in the background until it
 * succeeds) and restores the mask, which execve keeps.
 */
function takeForeground(sys: StageSystem): void {
  sys.setpgid(0, 0);
  sys.takeTerminal(0);
}

function mkdirIn(sys: StageSystem, root: string, dir: string): string {
  const p = path.join(root, dir);
  sys.mkdirp(p);
  return p;
}

function mountDev(sys: StageSystem, dev: string, bindHostDevices: boolean): void {
  // A tmpfs of our own, not the host's /dev: the container gets only the devices below.
  sys.mount('tmpfs', dev, 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k');
  const umask = sys.umask(0); // device nodes are 0666, as runc makes them
  for (const [name, major, minor] of DEVICES) {
    const node = path.join(dev, name);
    if (!bindHostDevices) sys.mknod(node, S_IFCHR | 0o666, major, minor);
    else {
      // In a user namespace mknod is EPERM (CAP_MKNOD counts only in the initial
      // one): bind the host's node, still visible before pivot_root, as rootless runc does.
      sys.touch(node);
      sys.mount(`/dev/${name}`, node, null, MS.BIND);
    }
  }
  sys.umask(umask);
  for (const [name, target] of DEV_LINKS) sys.symlink(target, path.join(dev, name));
  // A devpts instance of its own: the container's ptys are not the host's.
  sys.mount('devpts', mkdirIn(sys, dev, 'pts'), 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620');
  sys.mount('shm', mkdirIn(sys, dev, 'shm'), 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=1777,size=65536k');
}

function bindMount(sys: StageSystem, bind: BindMount, target: string): void {
  const kind = sys.kind(bind.source);
  if (!kind) throw Object.assign(new Error(`bind source ${bind.source} does not exist`), { code: 'ENOENT', syscall: 'stat', path: bind.source });
  // A mount point of the same kind as the source must exist in the root.
  if (kind === 'dir') sys.mkdirp(target);
  else if (!sys.kind(target)) {
    sys.mkdirp(path.dirname(target));
    sys.touch(target);
  }
  sys.mount(bind.source, target, null, MS.BIND | MS.REC);
  // A bind mount ignores MS_RDONLY on creation; read-only takes a remount.
  if (bind.readonly) sys.mount(null, target, null, MS.BIND | MS.REMOUNT | MS.RDONLY);
}

/** execvp's PATH search, done by hand because execve(2) takes a path. */
function findProgram(sys: StageSystem, name: string, env: string[]): string | undefined {
  if (name.includes('/')) return name;
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/bin:/usr/bin:/bin';
  for (const dir of pathVar.split(':')) {
    const candidate = path.join(dir || '.', name);
    if (sys.kind(candidate) === 'file') return candidate;
  }
  return undefined;
}
