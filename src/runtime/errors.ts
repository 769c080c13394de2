// Typed errors: a user mistake or a refused syscall is reported in one sentence
// a learner understands, never as a stack trace; a bug in containy-learn says so.
import { constants as osConstants } from 'node:os';

/** Exit codes, as docker's: 125 the runtime failed, 126 cannot execute, 127 not found. */
export const EXIT = { RUNTIME: 125, CANNOT_EXECUTE: 126, NOT_FOUND: 127 } as const;

/** The status a shell reports for a process killed by `signal`: 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

/** Something the user can fix: bad input, missing root, missing rootfs. One sentence, exit 125, no stack. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.RUNTIME) {
    super(message);
    this.name = 'UserError';
  }
}

/**
 * Something that cannot happen unless containy-learn itself is wrong (a cgroup
 * that will not empty, a worker thread that died): the CLI says it is a bug and
 * shows the stack under CONTAINY_DEBUG=1.
 */
export class BugError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BugError';
  }
}

/**
 * A step of a container's start that the kernel (or the host) refused, e.g.
 * `stage: pivot_root: EINVAL: the new root must be a mount point…`. `step`
 * names the step (see START_STEPS in start/protocol.ts) so a lesson can show it.
 */
export class StartStepError extends UserError {
  constructor(readonly step: string, message: string, exitCode: number = EXIT.RUNTIME) {
    super(message, exitCode);
    this.name = 'StartStepError';
  }
}

// Why a syscall is refused, per syscall and errno, in a learner's words.
const EXPLANATIONS: Record<string, Record<string, string>> = {
  pivot_root: {
    EINVAL: 'the new root must be a mount point: bind-mount it onto itself first (and put_old must be under it)',
    EBUSY: 'the new root is on the same mount as the current root (or is the root): mount something there, or bind-mount it onto itself first',
    EPERM: 'needs root (CAP_SYS_ADMIN)',
  },
  mount: {
    ENODEV: 'the kernel does not offer this filesystem type (is its module loaded?)',
    ENOENT: 'the mount point or the source does not exist',
    EINVAL: 'the kernel refused the mount options, or the source is not mountable this way',
    EPERM: 'needs root (CAP_SYS_ADMIN)',
  },
  unshare: {
    EINVAL: 'this namespace cannot be created from a multithreaded process, or the kernel lacks it',
    EPERM: 'needs root (CAP_SYS_ADMIN)',
    ENOSPC: 'the limit on namespaces of this kind is reached (see /proc/sys/user/max_*_namespaces)',
  },
  setns: {
    EINVAL: 'the file is not a namespace of that kind, or this thread may not join it',
    EPERM: 'needs root (CAP_SYS_ADMIN)',
  },
  open_tree: { ENOSYS: 'this kernel is older than 5.2 and lacks the new mount API', EPERM: 'needs root (CAP_SYS_ADMIN)' },
  mount_setattr: {
    ENOSYS: 'this kernel is older than 5.12 and cannot idmap a mount',
    // FS_ALLOW_IDMAP: ext4, xfs, btrfs, tmpfs (6.3+) and a few more; not 9p, NFS or most FUSE filesystems.
    EINVAL: 'this filesystem cannot be idmapped here (a user-namespace container needs its base on ext4, xfs, btrfs, or tmpfs from Linux 6.3: move it, e.g. with CONTAINY_ROOTFS, or run without a user namespace), or the user namespace is the initial one or has no maps yet',
    EPERM: 'needs CAP_SYS_ADMIN in the initial user namespace',
  },
  move_mount: { EINVAL: 'the target is not in this thread\'s mount namespace, or the tree is not a detached one' },
  sethostname: { EPERM: 'needs root (CAP_SYS_ADMIN in the UTS namespace)', EINVAL: 'the hostname is longer than 64 bytes' },
  chroot: { EPERM: 'needs root (CAP_SYS_CHROOT)', ENOENT: 'the directory does not exist' },
  execve: {
    ENOENT: 'the program, or the interpreter or libraries it needs, is not in the container',
    EACCES: 'the file is not executable (or its filesystem is mounted noexec)',
    ENOEXEC: 'the file is not a program this kernel can run',
  },
  capset: { EPERM: 'a capability can only be kept, never added back: the set asked for is not within the permitted (and bounding) set' },
  'prctl PR_CAPBSET_DROP': { EPERM: 'no CAP_SETPCAP', EINVAL: 'the kernel does not know this capability' },
  'prctl PR_SET_SECCOMP': {
    EACCES: 'loading a filter needs CAP_SYS_ADMIN or no_new_privs: load it before the capabilities are dropped, or set no-new-privileges',
    EINVAL: 'the kernel refused the filter (no seccomp support, or a bad filter)',
  },
  kill: { ESRCH: 'no such process', EPERM: 'not allowed to signal that process' },
};

const GENERIC: Record<string, string> = {
  EPERM: 'operation not permitted: needs root',
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  EBUSY: 'the resource is busy',
  ENOMEM: 'out of memory, or no process left in that PID namespace to fork into',
  EROFS: 'the filesystem is read-only',
  EEXIST: 'it already exists',
  ENOTDIR: 'a component of the path is not a directory',
};

export class SyscallError extends Error {
  readonly explanation: string;
  /** `explanation` overrides the table, for callers that know more (a netlink request knows the link's name). */
  constructor(readonly syscall: string, readonly code: string, readonly detail?: string, explanation?: string) {
    explanation ??= EXPLANATIONS[syscall]?.[code] ?? GENERIC[code] ?? 'the kernel refused it';
    super(`${syscall}${detail ? ` (${detail})` : ''} failed with ${code}: ${explanation}`);
    this.name = 'SyscallError';
    this.explanation = explanation;
  }
}

function isErrnoException(err: unknown): err is NodeJS.ErrnoException & { path: string } {
  return err instanceof Error && 'code' in err && typeof (err as NodeJS.ErrnoException).path === 'string';
}

/** A one-line message for anything thrown at the CLI's edge. */
export function describeError(err: unknown): string {
  if (err instanceof UserError || err instanceof SyscallError || err instanceof BugError) return err.message;
  if (isErrnoException(err)) return `${err.syscall ?? 'file operation'} ${err.path}: ${GENERIC[err.code ?? ''] ?? err.code}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * What failed in a start step, after `stage: STEP: `: the errno and the
 * learner's explanation (`EINVAL: the new root must be a mount point…`), with
 * the syscall named when the step's name does not already say it.
 */
export function describeStepFailure(step: string, err: unknown): string {
  if (err instanceof SyscallError) {
    const what = err.syscall === step ? '' : `${err.syscall}${err.detail ? ` (${err.detail})` : ''}: `;
    return `${what}${err.code}: ${err.explanation}`;
  }
  if (isErrnoException(err)) return `${err.syscall ?? 'file operation'} ${err.path}: ${err.code}: ${GENERIC[err.code ?? ''] ?? 'refused'}`;
  return err instanceof Error ? err.message : String(err);
}
