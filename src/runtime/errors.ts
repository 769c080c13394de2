// Typed errors: a user mistake or a refused syscall is reported in one sentence
// a learner understands, never as a stack trace.

/** Exit codes, as docker's: 125 the runtime failed, 126 cannot execute, 127 not found. */
export const EXIT = { RUNTIME: 125, CANNOT_EXECUTE: 126, NOT_FOUND: 127 } as const;

/** Something the user can fix: bad input, missing root, missing rootfs. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.RUNTIME) {
    super(message);
    this.name = 'UserError';
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
  sethostname: { EPERM: 'needs root (CAP_SYS_ADMIN in the UTS namespace)', EINVAL: 'the hostname is longer than 64 bytes' },
  chroot: { EPERM: 'needs root (CAP_SYS_CHROOT)', ENOENT: 'the directory does not exist' },
  execve: {
    ENOENT: 'the program, or the interpreter or libraries it needs, is not in the container',
    EACCES: 'the file is not executable (or its filesystem is mounted noexec)',
    ENOEXEC: 'the file is not a program this kernel can run',
  },
  kill: { ESRCH: 'no such process', EPERM: 'not allowed to signal that process' },
};

const GENERIC: Record<string, string> = {
  EPERM: 'operation not permitted: needs root',
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  EBUSY: 'the resource is busy',
  ENOMEM: 'out of memory, or no process left in that PID namespace to fork into',
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

/** A one-line message for anything thrown at the CLI's edge. */
export function describeError(err: unknown): string {
  if (err instanceof UserError || err instanceof SyscallError) return err.message;
  if (err instanceof Error && 'code' in err && typeof (err as NodeJS.ErrnoException).path === 'string') {
    const e = err as NodeJS.ErrnoException;
    return `${e.syscall ?? 'file operation'} ${e.path}: ${GENERIC[e.code ?? ''] ?? e.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}
