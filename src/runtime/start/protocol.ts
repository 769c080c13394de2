import type { TraceCall } from '../libc.js';
// What the launcher tells the stage process, and what the stage answers.
// The stage reads one StageOrder on fd 3 (a JSON line, then the seccomp
// filter's bytes: encodeOrder) and answers with StageReport lines on the same
// fd; fd 3 is close-on-exec, so end-of-file without an error report means the
// command was exec'd.
import type { StageSecurity } from '../security/compile.js';

import type { UsernsSpec } from '../userns/idmap.js';

export const CONTROL_FD = 3;
/** For exec: the container's mount namespace, which the stage joins itself. */
export const MOUNT_NS_FD = 4;

/**
 * The steps of a container's start, in the order they run (docs/architecture.md,
 * "The start sequence"). A failure names its step. 'namespaces' runs on the
 * spawning thread, the rest in the stage.
 */
export const START_STEPS = [
  'namespaces', 'prepare', 'mount namespace', 'overlay', 'root mount point', '/proc', '/sys', '/dev',
  'read-only paths', 'masked paths', 'tmpfs', 'mounts', 'binds', 'pivot_root', 'chroot', 'read-only root',
  'hostname', 'cgroup namespace', 'cwd', 'rlimits', 'terminal', 'user', 'security', 'exec',
] as const;
export type StartStep = (typeof START_STEPS)[number];

export interface BindMount {
  source: string;
  /** Path inside the container. */
  target: string;
  readonly: boolean;
}

export interface OverlayLayers {
  lower: string;
  upper: string;
  work: string;
}

/**
 * pivot_root(2) needs the new root to be a mount point. 'bind' (the default)
 * bind-mounts a plain directory onto itself first, as runc does; 'as-given'
 * leaves it a plain directory, so pivot_root answers EINVAL.
 */
export type RootMountPoint = 'bind' | 'as-given';

export interface RootSetup {
  /** The directory that becomes /. With an overlay, the overlay is mounted here
   * (inside the container's mount namespace only, so the host never sees it). */
  dir: string;
  overlay?: OverlayLayers;
  /** pivot_root (true) or plain chroot (false: chroot, which a process can climb out of). */
  pivot: boolean;
  /** Without an overlay: how the directory becomes a mount point for pivot_root. */
  rootMountPoint: RootMountPoint;
  /** Mount /proc, /sys and a minimal /dev, as runc does. Needs a mount namespace. */
  specialFilesystems: boolean;
  binds: BindMount[];
  /** Extra tmpfs mounts inside the container, e.g. /tmp. */
  tmpfs: string[];
  /** Other filesystems to mount inside (an OCI bundle's mqueue, cgroup), after the tmpfs ones. */
  mounts?: FilesystemMount[];
  /** Remount the root read-only once it is the root (an OCI bundle's root.readonly). */
  readonly?: boolean;
}

export interface FilesystemMount {
  source: string;
  /** Path inside the container. */
  target: string;
  fstype: string;
  /** MS_* flags. */
  flags: number;
  data?: string;
}

/** setrlimit(2): the resource's number (RLIMIT_*) and its soft and hard limits. */
export interface ResourceLimit {
  resource: number;
  /** For messages: e.g. RLIMIT_NOFILE. */
  name: string;
  soft: number;
  hard: number;
}

export interface StageOrder {
  /**
   * unshare(CLONE_NEWNS) in the stage itself, then make every mount private so
   * nothing propagates to the host. Not in the thread that spawned the stage:
   * pivot_root moves the root of every thread in the mount namespace, and the
   * spawning thread may be the launcher's own.
   */
  newMountNamespace: boolean;
  /** Set up a new root (run) or only exec inside namespaces already joined (exec). */
  root?: RootSetup;
  hostname?: string;
  /** exec: join the mount namespace open on MOUNT_NS_FD (setns needs this thread's own fs_struct). */
  joinMountNamespace?: boolean;
  /** unshare(CLONE_NEWCGROUP) after the launcher has moved us into our cgroup. */
  newCgroupNamespace: boolean;
  /**
   * stdin is the launcher's terminal and the launcher is in its foreground: the
   * command becomes a process group of its own and that terminal's foreground group.
   */
  foregroundTerminal?: boolean;
  argv: string[];
  env: string[];
  cwd: string;
  /**
   * The stage runs in a user namespace a helper made, with the mount namespace
   * (so no unshare(CLONE_NEWNS) here), an idmapped lower layer, and no mknod.
   */
  inUserNamespace?: boolean;
  /** --user: the ids the command runs as (inside), switched to just before execve. */
  user?: { uid: number; gid: number };
  /** setrlimit before exec (an OCI bundle's process.rlimits). */
  rlimits?: ResourceLimit[];
  /** Record every libc call and send them (a 'trace' report) just before execve. */
  trace?: boolean;
  /**
   * Capabilities, no_new_privs and the compiled seccomp filter (entered just
   * before execve), and the masked/read-only paths (applied with the root).
   * Absent: the stage keeps what it has (every capability, no filter).
   */
  security?: StageSecurity;
}

export type StageReport =
  | { type: 'ready' }
  | { type: 'trace'; calls: TraceCall[] }
  | {
      type: 'error';
      exitCode: number;
      /** `stage: STEP: what failed`, one line. */
      message: string;
      step: StartStep;
      /** The failure was a bug in the stage's own code, not a refusal. */
      bug?: boolean;
    };

// Between the launcher (stage-process.ts) and the code that spawns the stage
// (spawn.ts), in a worker thread or on the launcher's own thread.

export type StdioMode = 'inherit' | 'pipe' | 'ignore';

export interface StageWorkerData {
  stageScript: string;
  stdio: StdioMode;
  /** unshare(2) flags for a new container. */
  unshareFlags: number;
  /** --network container:NAME: join this (host) PID's network namespace before unsharing the rest. */
  joinNetPid?: number;
  /** For exec: join the namespaces of this (host) PID instead. */
  join?: { pid: number; namespaces: Array<{ file: string; flag: number }>; userns?: boolean };
  /** A new user namespace with these maps, made by the single-threaded helper (userns/helper.ts). */
  userns?: UsernsSpec;
  /** The stage's fds 0-3 as the launcher made them (stage-channel.ts): its ends, or 'inherit'/'ignore' for 0-2. */
  fds?: Array<number | 'inherit' | 'ignore'>;
}

/** Launcher -> spawner. */
export type ToWorker =
  | { type: 'order'; data: Uint8Array }
  | { type: 'stdin'; data: Uint8Array }
  | { type: 'stdin-end' }
  | { type: 'signal'; signal: NodeJS.Signals };

/** Spawner -> launcher. */
export type FromWorker =
  | { type: 'spawned'; pid: number }
  | { type: 'report'; report: StageReport }
  | { type: 'execd' }
  | { type: 'output'; stream: 'stdout' | 'stderr'; data: Uint8Array }
  | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  /** The spawning thread could not enter the namespaces (`refused`, a kernel answer) or start the stage (a bug). */
  | { type: 'failed'; message: string; refused: boolean };

/**
 * The order as it goes on fd 3: one JSON line, then, with a seccomp filter,
 * its BPF as raw bytes (`security.seccompBpfBytes` of them) rather than as
 * base64 inside the line: 13 KB more of line took the stage ~0.8 ms more to
 * take in (measured with a padded order).
 */
export function encodeOrder(order: StageOrder): Buffer {
  const bpf = order.security?.seccompBpf;
  if (bpf === undefined) return Buffer.from(JSON.stringify(order) + '\n');
  const { seccompBpf: _inline, ...security } = order.security!;
  const filter = Buffer.from(bpf, 'base64');
  return Buffer.concat([Buffer.from(JSON.stringify({ ...order, security: { ...security, seccompBpfBytes: filter.length } }) + '\n'), filter]);
}

/** The order from what the stage has read of fd 3 so far; undefined until all of it is there. */
export function decodeOrder(bytes: Buffer): StageOrder | undefined {
  const end = bytes.indexOf(0x0a);
  if (end < 0) return undefined;
  const order = JSON.parse(bytes.subarray(0, end).toString()) as StageOrder;
  const length = order.security?.seccompBpfBytes;
  if (length === undefined) return order;
  if (bytes.length < end + 1 + length) return undefined;
  const { seccompBpfBytes: _length, ...security } = order.security!;
  return { ...order, security: { ...security, seccompBpf: bytes.subarray(end + 1, end + 1 + length).toString('base64') } };
}
