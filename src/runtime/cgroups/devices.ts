// Which device nodes a container may open: runc's default rules. The devices
// controller is checked when a device node is opened (or made), whoever holds
// CAP_MKNOD: a container may mknod any node, but opens only these devices.
// cgroup v1 takes them as lines in devices.deny / devices.allow; cgroup v2 has
// no devices files, and the same rules become a BPF program (device-filter.ts).

/** One allow rule, as devices.allow spells it: `c 1:3 rwm`, `b *:* m`. */
export interface DeviceRule {
  type: 'c' | 'b';
  /** '*' matches any number. */
  major: number | '*';
  minor: number | '*';
  /** Any of r (open for reading), w (open for writing), m (mknod). */
  access: string;
  /** What it is, for the comments in docs and the BPF listing. */
  what: string;
}

/**
 * runc 1.1's `AllowedDevices` (libcontainer/specconv/spec_linux.go), in its order:
 * every cgroup runc makes starts from "deny all" and allows these, and docker
 * (moby's default spec denies all, runc appends these) gives them to every container
 * that is not --privileged. /dev/console is not here: runc's console is a pty (136:*).
 */
export const RUNC_DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { type: 'c', major: '*', minor: '*', access: 'm', what: 'mknod of any character device' },
  { type: 'b', major: '*', minor: '*', access: 'm', what: 'mknod of any block device' },
  { type: 'c', major: 1, minor: 3, access: 'rwm', what: '/dev/null' },
  { type: 'c', major: 1, minor: 8, access: 'rwm', what: '/dev/random' },
  { type: 'c', major: 1, minor: 7, access: 'rwm', what: '/dev/full' },
  { type: 'c', major: 5, minor: 0, access: 'rwm', what: '/dev/tty' },
  { type: 'c', major: 1, minor: 5, access: 'rwm', what: '/dev/zero' },
  { type: 'c', major: 1, minor: 9, access: 'rwm', what: '/dev/urandom' },
  { type: 'c', major: 136, minor: '*', access: 'rwm', what: '/dev/pts/* (the ptys)' },
  { type: 'c', major: 5, minor: 2, access: 'rwm', what: '/dev/ptmx' },
  { type: 'c', major: 10, minor: 200, access: 'rwm', what: '/dev/net/tun' },
];

/** The rule as a line of devices.allow (and of devices.list). */
export function deviceRuleLine(rule: DeviceRule): string {
  return `${rule.type} ${rule.major}:${rule.minor} ${rule.access}`;
}
