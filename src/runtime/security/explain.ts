// Why a command in a container was refused, said only where we can know it:
// the error line a tool printed (util-linux, busybox and python share the
// strerror texts "Operation not permitted", "Permission denied" and
// "Read-only file system", from glibc and musl alike) names the syscall it
// made, and the container's capabilities and filter are ours. Nothing is
// guessed from a message we do not recognise.
import type { StageSecurity } from './compile.js';

type Known = Pick<StageSecurity, 'capabilities' | 'seccomp' | 'readonlyPaths' | 'maskedPaths'>;

interface Rule {
  /** The tool's error line for this syscall's refusal. */
  pattern: RegExp;
  explain(k: Known, has: (cap: string) => boolean, match: RegExpMatchArray): string | undefined;
}

const EPERM = 'Operation not permitted';
const filterName = (k: Known) => (k.seccomp === 'docker-default' ? "docker's seccomp profile" : 'the seccomp profile');

const RULES: Rule[] = [
  {
    // util-linux: "mount: /mnt: permission denied."; busybox: "mount: permission denied (are you root?)"
    pattern: /^mount: .*permission denied/im,
    explain: (_k, has) => (has('CAP_SYS_ADMIN') ? undefined : 'EPERM: no CAP_SYS_ADMIN: mount(2) needs it, and docker\'s default set leaves it out (--cap-add SYS_ADMIN)'),
  },
  {
    // util-linux: "unshare: unshare failed: Operation not permitted"; busybox: "unshare: unshare(0x10000000): Operation not permitted"
    pattern: new RegExp(`^unshare: unshare.*: ${EPERM}`, 'm'),
    explain: (k, has) => {
      if (has('CAP_SYS_ADMIN')) return undefined;
      if (k.seccomp === 'docker-default') return "EPERM: seccomp refused unshare(2): docker's profile allows it only with CAP_SYS_ADMIN, even for a user namespace";
      return 'EPERM: no CAP_SYS_ADMIN: unshare(2) of any namespace but a user namespace needs it';
    },
  },
  {
    // python3's ctypes probe in the lessons and tests prints "keyctl <strerror>"; keyctl(1) says "keyctl_...: Operation not permitted"
    pattern: new RegExp(`^keyctl.*${EPERM}`, 'm'),
    explain: (k) => (k.seccomp && k.seccomp !== 'unconfined' ? `EPERM: ${filterName(k)} refused keyctl(2): the kernel's keyrings are not namespaced` : undefined),
  },
  {
    // coreutils: "mknod: /tmp/z: Operation not permitted"; busybox: "mknod: /tmp/z: Operation not permitted"
    pattern: new RegExp(`^mknod: .*${EPERM}`, 'm'),
    explain: (_k, has) => (has('CAP_MKNOD') ? undefined : 'EPERM: no CAP_MKNOD: mknod(2) of a device node needs it'),
  },
  {
    // a shell's redirection: "sh: 1: cannot create /proc/sys/vm/swappiness: Read-only file system" (dash), "can't create ..." (busybox)
    pattern: /(\/proc\/\S*?|\/sys\/\S*?):? Read-only file system/m,
    explain: (k, _has, m) => {
      const file = m[1].replace(/:$/, '');
      const under = k.readonlyPaths.find((p) => file === p || file.startsWith(`${p}/`));
      if (under) return `EROFS: ${under} is one of docker's read-only paths in this container`;
      if (file.startsWith('/sys/')) return 'EROFS: /sys is mounted read-only in every container';
      return undefined;
    },
  },
];

/** One sentence per refusal we can explain, from the command's output and the container's security. */
export function explainRefusals(output: string, known: Known): string[] {
  const caps = new Set<string>(known.capabilities);
  const has = (cap: string) => caps.has(cap);
  const notes: string[] = [];
  for (const rule of RULES) {
    const m = output.match(rule.pattern);
    const note = m && rule.explain(known, has, m);
    if (note && !notes.includes(note)) notes.push(note);
  }
  return notes;
}
