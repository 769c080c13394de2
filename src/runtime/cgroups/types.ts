// One interface over cgroup v1 and v2. The container launcher only sees this;
// the drivers map each limit to the files of the host's cgroup version.
import type { DeviceRule } from './devices.js';

/** Limits in docker's units. Absent = not limited. */
export interface CgroupLimits {
  /** Bytes. */
  memory?: number;
  /** Memory + swap in bytes, as docker's --memory-swap; -1 = unlimited swap.
   * Absent while `memory` is set means no swap at all (a hog is killed, not swapped). */
  memorySwap?: number;
  /** Maximum number of processes (pids.max). */
  pids?: number;
  /** CPUs, e.g. 0.5 = half a core (cpu.max / cpu.cfs_quota_us). */
  cpus?: number;
  /** docker's --cpu-shares, 2..262144 (cpu.shares; cpu.weight converted as runc does). */
  cpuShares?: number;
  /** docker's --blkio-weight, 10..1000 (blkio.weight; io.weight converted as runc does). */
  blkioWeight?: number;
  /** cgroup v2 units, from configy.json's `cpu.weight` (1..10000). Wins over cpuShares; converted back to cpu.shares on v1. */
  cpuWeight?: number;
  /** cgroup v2 units, from configy.json's `io.weight` (1..10000). Wins over blkioWeight; converted back to blkio.weight on v1. */
  ioWeight?: number;
  /** Period of the CPU quota in microseconds (default 100000); set from configy.json's `cpu.max "quota period"`. */
  cpuPeriodUs?: number;
}

export type CgroupLayout = 'v2' | 'hybrid' | 'v1';

/** One value read back from a cgroup file, with where it came from, so a reader can be shown the real file. */
export interface CgroupValue {
  /** Stable key for the UI, the same on v1 and v2: "memory.limit", "pids.current", "events.oom_kill"... */
  id?: string;
  /** What it is, in words: "memory limit", "processes". */
  label: string;
  /** Raw text of the file (trimmed); for a keyed file (memory.events, cpu.stat) the one line the value came from. */
  raw: string;
  /** Parsed number where that makes sense (bytes, count, microseconds); null = "max"/unlimited. */
  value: number | null;
  /** Absolute path of the file on this host. */
  file: string;
}

export interface CgroupReport {
  limits: CgroupValue[];
  usage: CgroupValue[];
  events: CgroupValue[];
}

/** What ended or hampered the command, for the message after it exits ("the container was OOM-killed"). */
export interface CgroupEvents {
  oomKills: number;
  pidsLimitHits: number;
  throttledPeriods: number;
  /** Total time the CPU quota held the container back, in microseconds. */
  throttledUsec?: number;
}

/** One container's cgroup (on v1, one directory per controller hierarchy). */
export interface ContainerCgroup {
  readonly layout: CgroupLayout;
  /** Every directory created for it, deepest last. */
  readonly paths: string[];
  /** Things the launcher should tell the user: a limit the host can only partly apply (e.g. swap not limitable). */
  readonly notes?: string[];
  /** Move a process (all its threads) in. Moving in is allowed even past pids.max; only forks are refused. */
  join(pid: number): void;
  /**
   * Set limits on the live cgroup, as `runc update` does. runc writes pids.max only after its
   * multithreaded init has joined; a Node stage needs the same: its threads would count
   * against a small pids limit until it execs.
   */
  update(limits: CgroupLimits): void;
  /**
   * Give the cgroup another name in the same parent, keeping its processes: a
   * cgroup made ahead of time for a warm stage takes its container's name. Only
   * cgroup v1 can rename a cgroup; returns false where the kernel cannot.
   */
  rename(name: string): boolean;
  /**
   * Deny every device node but these, for open and mknod, whatever the
   * capabilities (v1: devices.deny and devices.allow; v2: a BPF device program).
   * Before the command execs: a device opened earlier stays open.
   */
  restrictDevices(rules: readonly DeviceRule[]): void;
  /** Host PIDs of every process inside. */
  pids(): number[];
  read(): CgroupReport;
  events(): CgroupEvents;
  /** Kill what is left inside and remove the directories. Idempotent. */
  destroy(): void;
}
