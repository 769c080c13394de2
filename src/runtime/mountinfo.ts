// /proc/PID/mountinfo, read in one place (its format is in proc_pid_mountinfo(5)):
// the probes show it, the cgroup layout finds its hierarchies in it, and
// removeTree() refuses to delete through a mount point it lists.
import fs from 'node:fs';

export interface MountInfo {
  /** Unique ID of the mount (field 1). */
  id: number;
  /** ID of the parent mount (field 2). */
  parentId: number;
  /** The directory of the filesystem that forms this mount's root (field 4), e.g. / or a bind's subdirectory. */
  root: string;
  /** Where it is mounted, relative to the reader's root (field 5). */
  mountPoint: string;
  /** Per-mount options (field 6): rw,nosuid,relatime... */
  options: string;
  /** Filesystem type after the " - " separator: overlay, proc, cgroup2... */
  fstype: string;
  /** Filesystem-specific source, or "none". */
  source: string;
  /** Per-superblock options; for a v1 cgroup mount they name its controllers. */
  superOptions: string;
}

/** The kernel escapes space, tab, newline and backslash in paths as \040, \011, \012, \134 (seq_file's mangle). */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Every mount in a mountinfo text, in the kernel's order (parents before children). */
export function parseMountinfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue": the optional
    // fields before " - " vary in number; paths cannot hold " - " because spaces are escaped.
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const [id, parentId, , root, mountPoint, options] = line.slice(0, separator).split(' ');
    const [fstype, source = '', superOptions = ''] = line.slice(separator + 3).split(' ');
    if (mountPoint === undefined) continue;
    mounts.push({
      id: Number(id),
      parentId: Number(parentId),
      root: unescapeMountField(root),
      mountPoint: unescapeMountField(mountPoint),
      options: options ?? '',
      fstype,
      source: unescapeMountField(source),
      superOptions,
    });
  }
  return mounts;
}

/** The mounts of a process's mount namespace, as that process sees them (default: ours). */
export function readMountinfo(pid: number | 'self' = 'self'): MountInfo[] {
  return parseMountinfo(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}
