// The syscalls the workshop is about, called through koffi on the host's libc.
// Every wrapper throws a SyscallError on failure; nothing here shells out.
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { SyscallError } from './errors.js';

const require = createRequire(import.meta.url);
// koffi is CommonJS with a native addon; createRequire keeps ESM happy.
const koffi = require('koffi') as typeof import('koffi');

const lib = koffi.load('libc.so.6');

// The constants live apart so that code needing only them does not load koffi.
export { CLONE, MS } from './linux.js';

export const MNT_DETACH = 2;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const FD_CLOEXEC = 1;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const PR_SET_PDEATHSIG = 1;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const PR_SET_SECCOMP = 22;
const SECCOMP_MODE_FILTER = 2;
const _LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const MFD_CLOEXEC = 1;
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
const SIGTTOU = 22;
const SIGSET_BYTES = 128; // glibc's sigset_t: 1024 bits

// pivot_root has no glibc wrapper: the raw syscall number differs per architecture.
const SYS_pivot_root: Record<string, number> = { x64: 155, arm64: 41 };
// The new mount API has glibc wrappers only since 2.36; these numbers are the
// same on x86_64 and arm64 (asm-generic numbering, from 424 on).
const SYS_open_tree = 428;
const SYS_move_mount = 429;
const SYS_mount_setattr = 442;
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const OPEN_TREE_CLONE = 1;
const OPEN_TREE_CLOEXEC = 0o2000000;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MOUNT_ATTR_IDMAP = 0x00100000;

// struct mount_attr (linux/mount.h): four u64, MOUNT_ATTR_SIZE_VER0 = 32.
const MountAttr = koffi.struct('mount_attr', { attr_set: 'uint64_t', attr_clr: 'uint64_t', propagation: 'uint64_t', userns_fd: 'uint64_t' });

// struct sock_fprog (linux/filter.h): the instruction count and a pointer to them.
koffi.struct('sock_fprog', { len: 'uint16_t', filter: 'void *' });

const raw = {
  unshare: lib.func('int unshare(int flags)'),
  setns: lib.func('int setns(int fd, int nstype)'),
  mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  umount2: lib.func('int umount2(const char *target, int flags)'),
  pivotRoot: lib.func('long syscall(long number, const char *new_root, const char *put_old)'),
  chroot: lib.func('int chroot(const char *path)'),
  chdir: lib.func('int chdir(const char *path)'),
  sethostname: lib.func('int sethostname(const char *name, size_t len)'),
  gethostname: lib.func('int gethostname(_Out_ uint8_t *name, size_t len)'),
  execve: lib.func('int execve(const char *path, const char **argv, const char **envp)'),
  fcntl: lib.func('int fcntl(int fd, int cmd, int arg)'),
  kill: lib.func('int kill(int pid, int sig)'),
  prctl: lib.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)'),
  mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  setresuid: lib.func('int setresuid(uint32_t ruid, uint32_t euid, uint32_t suid)'),
  setresgid: lib.func('int setresgid(uint32_t rgid, uint32_t egid, uint32_t sgid)'),
  setgroups: lib.func('int setgroups(size_t size, const uint32_t *list)'),
  // One fixed prototype per use: syscall() is variadic.
  openTree: lib.func('long syscall(long nr, int dfd, const char *path, unsigned int flags)'),
  mountSetattr: lib.func('long syscall(long nr, int dfd, const char *path, unsigned int flags, mount_attr *attr, size_t size)'),
  moveMount: lib.func('long syscall(long nr, int from_dfd, const char *from_path, int to_dfd, const char *to_path, unsigned int flags)'),
  // l-: on a symlink itself, never what it points to (an unpacked layer may hold any link).
  lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
  lgetxattr: lib.func('long lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)'),
  prctlSeccomp: lib.func('int prctl(int option, unsigned long mode, const sock_fprog *prog, unsigned long arg4, unsigned long arg5)'),
  memfdCreate: lib.func('int memfd_create(const char *name, unsigned int flags)'),
  // struct rlimit: two rlim_t (u64 on LP64), soft then hard.
  setrlimit: lib.func('int setrlimit(int resource, const void *rlim)'),
  // header: { u32 version; i32 pid }, data: 2 x { u32 effective, permitted, inheritable }
  capset: lib.func('int capset(void *header, void *data)'),
  capget: lib.func('int capget(void *header, _Out_ void *data)'),
  pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)'),
  socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *fds)'),
  isatty: lib.func('int isatty(int fd)'),
  getpgrp: lib.func('int getpgrp()'),
  setpgid: lib.func('int setpgid(int pid, int pgid)'),
  tcgetpgrp: lib.func('int tcgetpgrp(int fd)'),
  tcsetpgrp: lib.func('int tcsetpgrp(int fd, int pgrp)'),
  // Returns the error number itself (0 on success), not -1 and errno.
  pthreadSigmask: lib.func('int pthread_sigmask(int how, void *set, void *oldset)'),
  // glibc's struct statvfs on LP64: ten unsigned longs/u64s, f_flag the tenth (offset 72).
  statvfs: lib.func('int statvfs(const char *path, _Out_ uint8_t *buf)'),
};

/** One libc call as the trace records it. */
export interface TraceCall {
  /** The libc function (pivot_root: the syscall it is made through). */
  name: string;
  args: string[];
  result: string;
  /** errno's name when the call returned -1. */
  errno?: string;
  /** Milliseconds since the epoch, fractional: calls of several processes sort together. */
  at: number;
  pid: number;
}

const TRACE_NAMES: Partial<Record<keyof typeof raw, string>> = { pivotRoot: 'pivot_root', prctlSeccomp: 'prctl', memfdCreate: 'memfd_create' };

function traceArg(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) && v > 4096 ? `0x${v.toString(16)}` : String(v);
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (Array.isArray(v)) return `[${v.filter((x) => x !== null).map(traceArg).join(', ')}]`;
  return '{...}';
}

/** The calls go through `c`: tracing swaps its functions for recording ones, so that off costs nothing. */
const c: typeof raw = { ...raw };
let traced: TraceCall[] = [];

export function setTracing(on: boolean): void {
  for (const key of Object.keys(raw) as Array<keyof typeof raw>) {
    const fn = raw[key] as (...a: unknown[]) => unknown;
    const name = TRACE_NAMES[key] ?? key;
    (c as Record<string, unknown>)[key] = !on ? fn : (...args: unknown[]) => {
      const at = performance.timeOrigin + performance.now();
      // pivot_root goes through syscall(2): its first argument is the syscall number.
      const shown = key === 'pivotRoot' ? args.slice(1) : args;
      const result = fn(...args);
      const failed = Number(result) === -1;
      traced.push({ name, args: shown.map(traceArg), result: String(result), errno: failed ? errnoName(koffi.errno()) : undefined, at, pid: process.pid });
      return result;
    };
  }
}

/** The calls recorded since the last take, oldest first. */
export function takeTrace(): TraceCall[] {
  const out = traced;
  traced = [];
  return out;
}

/** A call that has not returned yet when the trace must be sent (execve: it returns only on failure). */
export function traceAbout(name: string, args: unknown[]): TraceCall {
  return { name, args: args.map(traceArg), result: '?', at: performance.timeOrigin + performance.now(), pid: process.pid };
}

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, n]) => [n, name]),
);

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** Returns what the call returned (an fd, for some) unless it is -1. */
function check(syscall: string, ret: number | bigint, detail?: string): number {
  if (Number(ret) !== -1) return Number(ret);
  const errno = koffi.errno(); // read at once: any later libc call may overwrite it
  throw new SyscallError(syscall, errnoName(errno), detail);
}

export function unshare(flags: number): void {
  check('unshare', c.unshare(flags));
}

export function setns(fd: number, nstype: number, detail?: string): void {
  check('setns', c.setns(fd, nstype), detail);
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  check('mount', c.mount(source, target, fstype, flags, data), `${fstype ?? source ?? ''} on ${target}`.trim());
}

export function umount2(target: string, flags: number): void {
  check('umount2', c.umount2(target, flags), target);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  const nr = SYS_pivot_root[process.arch];
  if (nr === undefined) throw new SyscallError('pivot_root', 'ENOSYS', `no syscall number known for ${process.arch}`);
  check('pivot_root', c.pivotRoot(nr, newRoot, putOld), newRoot);
}

export function chroot(path: string): void {
  check('chroot', c.chroot(path), path);
}

export function chdir(path: string): void {
  check('chdir', c.chdir(path), path);
}

export function sethostname(name: string): void {
  check('sethostname', c.sethostname(name, Buffer.byteLength(name)), name);
}

export function gethostname(): string {
  const buf = Buffer.alloc(256);
  check('gethostname', c.gethostname(buf, buf.length));
  return buf.subarray(0, buf.indexOf(0)).toString();
}

/** Replaces this process; returns only by throwing. */
export function execve(path: string, argv: string[], env: string[]): never {
  check('execve', c.execve(path, [...argv, null] as string[], [...env, null] as string[]), path);
  throw new SyscallError('execve', 'EINVAL', path); // unreachable: execve returns only on error
}

export function setCloseOnExec(fd: number, on: boolean): void {
  const flags = Number(c.fcntl(fd, F_GETFD, 0));
  check('fcntl', flags, `F_GETFD on fd ${fd}`);
  check('fcntl', c.fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC), `F_SETFD on fd ${fd}`);
}

/** A pipe, both ends close-on-exec: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check('pipe2', c.pipe2(fds, O_CLOEXEC), 'O_CLOEXEC');
  return [fds[0], fds[1]];
}

/** A connected pair of Unix stream sockets, close-on-exec (what child_process makes for a 'pipe' beyond fd 2). */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  // SOCK_CLOEXEC has O_CLOEXEC's value.
  check('socketpair', c.socketpair(AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, fds), 'AF_UNIX, SOCK_STREAM');
  return [fds[0], fds[1]];
}

export function setBlocking(fd: number): void {
  const flags = Number(c.fcntl(fd, F_GETFL, 0));
  check('fcntl', flags, `F_GETFL on fd ${fd}`);
  check('fcntl', c.fcntl(fd, F_SETFL, flags & ~O_NONBLOCK), `F_SETFL on fd ${fd}`);
}

export function kill(pid: number, signal: number): void {
  check('kill', c.kill(pid, signal), `pid ${pid}`);
}

/** Ask the kernel to send `signal` to us when the thread that spawned us exits. */
export function setParentDeathSignal(signal: number): void {
  check('prctl', c.prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0), 'PR_SET_PDEATHSIG');
}

export function mknod(path: string, mode: number, major: number, minor: number): void {
  // glibc's makedev: 12 bits of major and 8 of minor low, the rest above.
  const M = BigInt(major);
  const m = BigInt(minor);
  const dev = ((M & 0xfffff000n) << 32n) | ((M & 0xfffn) << 8n) | ((m & 0xffffff00n) << 12n) | (m & 0xffn);
  check('mknod', c.mknod(path, mode, dev), path);
}

/**
 * Become `uid`:`gid` with no supplementary groups (--user). Groups and gid
 * first: after setresuid to a non-zero uid we may no longer change them.
 * glibc's wrappers apply the change to every thread (the stage's Node threads too).
 */
export function switchUser(uid: number, gid: number): void {
  check('setgroups', c.setgroups(0, null), 'none');
  check('setresgid', c.setresgid(gid, gid, gid), `gid ${gid}`);
  check('setresuid', c.setresuid(uid, uid, uid), `uid ${uid}`);
}

/** A detached copy of the mount tree at `path` (open_tree(OPEN_TREE_CLONE | AT_RECURSIVE)); returns its fd, close-on-exec. */
export function openTreeClone(path: string): number {
  return check('open_tree', c.openTree(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE), path);
}

/** Map the ids of every mount in the detached tree `treeFd` through the user namespace open on `usernsFd`. */
export function idmapTree(treeFd: number, usernsFd: number, detail: string): void {
  const attr = { attr_set: MOUNT_ATTR_IDMAP, attr_clr: 0, propagation: 0, userns_fd: usernsFd };
  check('mount_setattr', c.mountSetattr(SYS_mount_setattr, treeFd, '', AT_EMPTY_PATH | AT_RECURSIVE, attr, koffi.sizeof(MountAttr)), `MOUNT_ATTR_IDMAP on ${detail}`);
}

/** Attach the detached tree `treeFd` at `target`, in the calling thread's mount namespace. */
export function moveMountTo(treeFd: number, target: string): void {
  check('move_mount', c.moveMount(SYS_move_mount, treeFd, '', AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH), target);
}
/** lsetxattr(2): e.g. trusted.overlay.opaque=y on a layer's directory (needs CAP_SYS_ADMIN for trusted.*). */
export function lsetxattr(path: string, name: string, value: string): void {
  const data = Buffer.from(value);
  check('lsetxattr', c.lsetxattr(path, name, data, data.length, 0), `${name} on ${path}`);
}

/** Remove one capability from this thread's bounding set (needs CAP_SETPCAP). */
export function dropBoundingCapability(cap: number, name: string): void {
  check('prctl PR_CAPBSET_DROP', c.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), name);
}

export function clearAmbientCapabilities(): void {
  check('prctl PR_CAP_AMBIENT', c.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 'PR_CAP_AMBIENT_CLEAR_ALL');
}

/** Add one capability to this thread's ambient set; the kernel refuses (EPERM) one not both permitted and inheritable. */
export function raiseAmbientCapability(cap: number, name: string): void {
  check('prctl PR_CAP_AMBIENT', c.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0), `PR_CAP_AMBIENT_RAISE ${name}`);
}

export function setNoNewPrivileges(): void {
  check('prctl PR_SET_NO_NEW_PRIVS', c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

/**
 * Install a compiled seccomp filter (BPF, 8 bytes an instruction) on this thread:
 * prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER), what seccomp_load does without TSYNC.
 * Needs CAP_SYS_ADMIN or no_new_privs.
 */
export function setSeccompFilter(bpf: Buffer): void {
  check('prctl PR_SET_SECCOMP', c.prctlSeccomp(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, { len: bpf.length / 8, filter: bpf }, 0, 0), `${bpf.length / 8} BPF instructions`);
}

/** lgetxattr(2): the attribute's value, or null when the file has none (ENODATA). */
export function lgetxattr(path: string, name: string): string | null {
  const buf = Buffer.alloc(256);
  const n = Number(c.lgetxattr(path, name, buf, buf.length));
  if (n === -1) {
    const errno = koffi.errno();
    if (errnoName(errno) === 'ENODATA') return null;
    throw new SyscallError('lgetxattr', errnoName(errno), `${name} on ${path}`);
  }
  return buf.subarray(0, n).toString();
}

/** setrlimit(2) for this process; RLIM_INFINITY is -1 (all ones). */
export function setrlimit(resource: number, soft: number, hard: number, name: string): void {
  const rlim = Buffer.alloc(16);
  const value = (v: number) => (v < 0 || !Number.isFinite(v) ? 0xffffffffffffffffn : BigInt(v));
  rlim.writeBigUInt64LE(value(soft), 0);
  rlim.writeBigUInt64LE(value(hard), 8);
  check('setrlimit', c.setrlimit(resource, rlim), `${name} ${soft}/${hard}`);
}

/** An anonymous in-memory file (memfd_create(2)), close-on-exec. */
export function memfdCreate(name: string): number {
  const fd = Number(c.memfdCreate(name, MFD_CLOEXEC));
  check('memfd_create', fd, name);
  return fd;
}

export interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

function capHeader(): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(_LINUX_CAPABILITY_VERSION_3, 0); // pid 0: this thread
  return header;
}

/** capset(2) with _LINUX_CAPABILITY_VERSION_3 (two 32-bit words per set) for this thread. */
export function capset(sets: CapabilitySets): void {
  const data = Buffer.alloc(24);
  for (let word = 0; word < 2; word++) {
    const shift = BigInt(32 * word);
    const part = (m: bigint) => Number((m >> shift) & 0xffffffffn);
    data.writeUInt32LE(part(sets.effective), word * 12);
    data.writeUInt32LE(part(sets.permitted), word * 12 + 4);
    data.writeUInt32LE(part(sets.inheritable), word * 12 + 8);
  }
  check('capset', c.capset(capHeader(), data));
}

export function capget(): CapabilitySets {
  const data = Buffer.alloc(24);
  check('capget', c.capget(capHeader(), data));
  const join = (off: number) => BigInt(data.readUInt32LE(off)) | (BigInt(data.readUInt32LE(off + 12)) << 32n);
  return { effective: join(0), permitted: join(4), inheritable: join(8) };
}

/** setpgid(2): pid 0 is this process, pgid 0 makes it the leader of a group of its own. */
export function setpgid(pid: number, pgid: number): void {
  check('setpgid', c.setpgid(pid, pgid), `pid ${pid}, group ${pgid}`);
}

export function getpgrp(): number {
  return c.getpgrp(); // never fails
}

/**
 * Whether `fd` is a terminal whose foreground process group is ours: a process
 * started from it in the foreground may take it over for its own child.
 */
export function holdsTerminal(fd: number): boolean {
  return c.isatty(fd) === 1 && c.tcgetpgrp(fd) === c.getpgrp();
}

/**
 * Make this process's group the foreground group of the terminal on `fd`
 * (tcsetpgrp(3)). From a background group the kernel answers that with SIGTTOU,
 * which stops us (or, for PID 1 of a PID namespace, is dropped and the call
 * restarted for ever) unless it is blocked: blocked here on this thread for the
 * call only, since a blocked mask survives execve(2).
 */
export function takeTerminal(fd: number): void {
  const ttou = Buffer.alloc(SIGSET_BYTES);
  ttou[(SIGTTOU - 1) >> 3] = 1 << ((SIGTTOU - 1) & 7);
  const old = Buffer.alloc(SIGSET_BYTES);
  const blocked = c.pthreadSigmask(SIG_BLOCK, ttou, old);
  if (blocked !== 0) throw new SyscallError('pthread_sigmask', errnoName(blocked), 'blocking SIGTTOU');
  try {
    check('tcsetpgrp', c.tcsetpgrp(fd, c.getpgrp()), `fd ${fd}`);
  } finally {
    c.pthreadSigmask(SIG_SETMASK, old, null);
  }
}

/** The mount flags of the filesystem holding `path` (statvfs's f_flag: ST_RDONLY, ST_NOSUID, ST_NODEV, ST_NOEXEC share MS_*'s values). */
export function mountFlagsOf(path: string): number {
  const buf = Buffer.alloc(128);
  check('statvfs', c.statvfs(path, buf), path);
  return Number(buf.readBigUInt64LE(72));
}

// bpf(2), for one use: a cgroup v2 device program (cgroups/device-filter.ts).
// No glibc wrapper: syscall(2) with the architecture's number.
const SYS_bpf: Record<string, number> = { x64: 321, arm64: 280 };
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;
const BPF_LOG_SIZE = 65536;

// union bpf_attr's BPF_PROG_LOAD part, up to expected_attach_type (72 bytes); the kernel zero-fills the rest.
const BpfProgLoadAttr = koffi.struct('bpf_prog_load_attr', {
  prog_type: 'uint32_t', insn_cnt: 'uint32_t', insns: 'void *', license: 'const char *',
  log_level: 'uint32_t', log_size: 'uint32_t', log_buf: 'void *', kern_version: 'uint32_t', prog_flags: 'uint32_t',
  prog_name: koffi.array('char', 16), prog_ifindex: 'uint32_t', expected_attach_type: 'uint32_t',
});
// Its BPF_PROG_ATTACH part: target_fd, attach_bpf_fd, attach_type, attach_flags.
const BpfProgAttachAttr = koffi.struct('bpf_prog_attach_attr', {
  target_fd: 'uint32_t', attach_bpf_fd: 'uint32_t', attach_type: 'uint32_t', attach_flags: 'uint32_t',
});
const bpfCalls = {
  load: lib.func('long syscall(long nr, int cmd, bpf_prog_load_attr *attr, unsigned int size)'),
  attach: lib.func('long syscall(long nr, int cmd, const bpf_prog_attach_attr *attr, unsigned int size)'),
};

function bpfNumber(): number {
  const nr = SYS_bpf[process.arch];
  if (nr === undefined) throw new SyscallError('bpf', 'ENOSYS', `no syscall number known for ${process.arch}`);
  return nr;
}

/**
 * BPF_PROG_LOAD of a BPF_PROG_TYPE_CGROUP_DEVICE program (8 bytes an instruction);
 * returns its fd. When the verifier refuses it, the load is made again with its
 * log, and the log's last line goes in the error.
 */
export function bpfLoadCgroupDeviceProgram(insns: Buffer, license: string): number {
  const attr = (log?: Buffer) => ({
    prog_type: BPF_PROG_TYPE_CGROUP_DEVICE, insn_cnt: insns.length / 8, insns, license,
    log_level: log ? 1 : 0, log_size: log?.length ?? 0, log_buf: log ?? null, kern_version: 0, prog_flags: 0,
    prog_name: 'containy_dev', prog_ifindex: 0, expected_attach_type: 0,
  });
  const nr = bpfNumber();
  const fd = Number(bpfCalls.load(nr, BPF_PROG_LOAD, attr(), koffi.sizeof(BpfProgLoadAttr)));
  if (fd !== -1) return fd;
  const errno = errnoName(koffi.errno());
  if (errno !== 'EINVAL' && errno !== 'EACCES') throw new SyscallError('bpf', errno, `BPF_PROG_LOAD of ${insns.length / 8} instructions`);
  const log = Buffer.alloc(BPF_LOG_SIZE);
  const again = Number(bpfCalls.load(nr, BPF_PROG_LOAD, attr(log), koffi.sizeof(BpfProgLoadAttr)));
  if (again !== -1) return again;
  const lines = log.subarray(0, Math.max(0, log.indexOf(0))).toString().trim().split('\n');
  throw new SyscallError('bpf', errnoName(koffi.errno()), `BPF_PROG_LOAD: the verifier says: ${lines[lines.length - 1] || 'nothing'}`);
}

/** BPF_PROG_ATTACH a device program to the cgroup open on `cgroupFd`, alongside any its ancestors have (BPF_F_ALLOW_MULTI, as runc). */
export function bpfAttachCgroupDevice(cgroupFd: number, progFd: number, detail: string): void {
  const attr = { target_fd: cgroupFd, attach_bpf_fd: progFd, attach_type: BPF_CGROUP_DEVICE, attach_flags: BPF_F_ALLOW_MULTI };
  check('bpf', bpfCalls.attach(bpfNumber(), BPF_PROG_ATTACH, attr, koffi.sizeof(BpfProgAttachAttr)), `BPF_PROG_ATTACH (BPF_CGROUP_DEVICE) to ${detail}`);
}

// Sockets Node's `net` cannot open (AF_NETLINK), and flock, which Node lacks.
// A socket belongs to the network namespace of the thread that called socket():
// see net/rtnetlink.ts for how that is used.
const sockets = {
  socket: lib.func('int socket(int domain, int type, int protocol)'),
  bind: lib.func('int bind(int fd, const void *addr, uint32_t addrlen)'),
  send: lib.func('long send(int fd, const void *buf, size_t len, int flags)'),
  recv: lib.func('long recv(int fd, void *buf, size_t len, int flags)'),
  setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
  flock: lib.func('int flock(int fd, int operation)'),
};

export function socket(domain: number, type: number, protocol: number, detail?: string): number {
  const fd = Number(sockets.socket(domain, type, protocol));
  check('socket', fd, detail);
  return fd;
}

export function bind(fd: number, address: Buffer, detail?: string): void {
  check('bind', sockets.bind(fd, address, address.length), detail);
}

/** Send one datagram; a short send of a datagram socket is an error. */
export function send(fd: number, data: Buffer, detail?: string): void {
  const sent = Number(sockets.send(fd, data, data.length, 0));
  check('send', sent, detail);
  if (sent !== data.length) throw new SyscallError('send', 'EMSGSIZE', detail);
}

/** Receive one datagram into `into`; returns its length. */
export function recv(fd: number, into: Buffer, detail?: string): number {
  const got = Number(sockets.recv(fd, into, into.length, 0));
  check('recv', got, detail);
  return got;
}

export function setsockoptInt(fd: number, level: number, name: number, value: number, detail?: string): void {
  const v = Buffer.alloc(4);
  v.writeInt32LE(value);
  check('setsockopt', sockets.setsockopt(fd, level, name, v, 4), detail);
}

const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;

/** Make recv() give up with EAGAIN after `ms` instead of blocking for ever. */
export function setReceiveTimeout(fd: number, ms: number): void {
  const tv = Buffer.alloc(16); // struct timeval: two longs on 64-bit Linux
  tv.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  tv.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  check('setsockopt', sockets.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, tv.length), 'SO_RCVTIMEO');
}

export const LOCK_EX = 2;

export function flock(fd: number, operation: number, detail?: string): void {
  check('flock', sockets.flock(fd, operation), detail);
}
