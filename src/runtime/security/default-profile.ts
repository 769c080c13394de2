// Docker's default seccomp profile, as data in our own shape (profile.ts).
// Derived from reading moby/profiles seccomp/default.json (Apache-2.0), tag
// seccomp/v0.2.3 (default.json last changed in commit 3c28324, 2026-05-06). Its
// meaning: every syscall not named here fails with EPERM; the plain allowlist is
// the first rule; the rest are conditional: some argument values only (socket
// families, personality values, clone without namespace flags), some per
// architecture, and some only when the container keeps a capability (mount,
// unshare, setns … with CAP_SYS_ADMIN; ptrace with CAP_SYS_PTRACE; …). Names
// this kernel or libseccomp does not know are skipped when the filter is built,
// as docker does.
import { constants } from 'node:os';
import { CLONE } from '../linux.js';
import type { CapabilityName } from './capabilities.js';
import type { SeccompProfile, SeccompRule } from './profile.js';

const ALWAYS_ALLOWED = [
  'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'cachestat', 'capget',
  'capset', 'chdir', 'chmod', 'chown', 'chown32', 'clock_adjtime', 'clock_adjtime64',
  'clock_getres', 'clock_getres_time64', 'clock_gettime', 'clock_gettime64', 'clock_nanosleep',
  'clock_nanosleep_time64', 'close', 'close_range', 'connect', 'copy_file_range', 'creat', 'dup',
  'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait',
  'epoll_pwait2', 'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'execve', 'execveat',
  'exit', 'exit_group', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate',
  'fanotify_mark', 'fchdir', 'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat',
  'fcntl', 'fcntl64', 'fdatasync', 'fgetxattr', 'flistxattr', 'flock', 'fork', 'fremovexattr',
  'fsetxattr', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate',
  'ftruncate64', 'futex', 'futex_requeue', 'futex_time64', 'futex_wait', 'futex_waitv',
  'futex_wake', 'futimesat', 'getcpu', 'getcwd', 'getdents', 'getdents64', 'getegid', 'getegid32',
  'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32', 'getitimer',
  'getpeername', 'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority', 'getrandom',
  'getresgid', 'getresgid32', 'getresuid', 'getresuid32', 'getrlimit', 'get_robust_list',
  'getrusage', 'getsid', 'getsockname', 'getsockopt', 'get_thread_area', 'gettid', 'gettimeofday',
  'getuid', 'getuid32', 'getxattr', 'getxattrat', 'inotify_add_watch', 'inotify_init',
  'inotify_init1', 'inotify_rm_watch', 'io_cancel', 'ioctl', 'io_destroy', 'io_getevents',
  'io_pgetevents', 'io_pgetevents_time64', 'ioprio_get', 'ioprio_set', 'io_setup', 'io_submit',
  'ipc', 'kill', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self',
  'lchown', 'lchown32', 'lgetxattr', 'link', 'linkat', 'listen', 'listmount', 'listxattr',
  'listxattrat', 'llistxattr', '_llseek', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'lstat64',
  'madvise', 'map_shadow_stack', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mkdir',
  'mkdirat', 'mknod', 'mknodat', 'mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect',
  'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64',
  'mq_timedsend', 'mq_timedsend_time64', 'mq_unlink', 'mremap', 'mseal', 'msgctl', 'msgget',
  'msgrcv', 'msgsnd', 'msync', 'munlock', 'munlockall', 'munmap', 'name_to_handle_at', 'nanosleep',
  'newfstatat', '_newselect', 'open', 'openat', 'openat2', 'pause', 'pidfd_open',
  'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'poll',
  'ppoll', 'ppoll_time64', 'prctl', 'pread64', 'preadv', 'preadv2', 'prlimit64',
  'process_mrelease', 'pselect6', 'pselect6_time64', 'pwrite64', 'pwritev', 'pwritev2', 'read',
  'readahead', 'readlink', 'readlinkat', 'readv', 'recv', 'recvfrom', 'recvmmsg',
  'recvmmsg_time64', 'recvmsg', 'remap_file_pages', 'removexattr', 'removexattrat', 'rename',
  'renameat', 'renameat2', 'restart_syscall', 'riscv_hwprobe', 'rmdir', 'rseq', 'rt_sigaction',
  'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend',
  'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sched_getaffinity',
  'sched_getattr', 'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
  'sched_setaffinity', 'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield',
  'seccomp', 'select', 'semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'send',
  'sendfile', 'sendfile64', 'sendmmsg', 'sendmsg', 'sendto', 'setfsgid', 'setfsgid32', 'setfsuid',
  'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32', 'setitimer', 'setpgid',
  'setpriority', 'setregid', 'setregid32', 'setresgid', 'setresgid32', 'setresuid', 'setresuid32',
  'setreuid', 'setreuid32', 'setrlimit', 'set_robust_list', 'setsid', 'setsockopt',
  'set_thread_area', 'set_tid_address', 'setuid', 'setuid32', 'setxattr', 'setxattrat', 'shmat',
  'shmctl', 'shmdt', 'shmget', 'shutdown', 'sigaltstack', 'signalfd', 'signalfd4', 'sigprocmask',
  'sigreturn', 'socketcall', 'socketpair', 'splice', 'stat', 'stat64', 'statfs', 'statfs64',
  'statmount', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'sysinfo',
  'tee', 'tgkill', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime',
  'timer_gettime64', 'timer_settime', 'timer_settime64', 'timerfd_create', 'timerfd_gettime',
  'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'times', 'tkill', 'truncate',
  'truncate64', 'ugetrlimit', 'umask', 'uname', 'unlink', 'unlinkat', 'uretprobe', 'utime',
  'utimensat', 'utimensat_time64', 'utimes', 'vfork', 'vmsplice', 'wait4', 'waitid', 'waitpid',
  'write', 'writev',
];

/** Namespaces, mounts, sethostname, bpf, …: only with CAP_SYS_ADMIN. */
const WITH_SYS_ADMIN = [
  'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick',
  'lookup_dcookie', 'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount',
  'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd',
  'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
];

const { EPERM, ENOSYS } = constants.errno;
// socket(): every address family but AF_ALG (38, the kernel's crypto API) and AF_VSOCK (40)
const AF_ALG = 38;
const AF_NFC = 39;
const AF_VSOCK = 40;
// clone() flags that make new namespaces (0x7e020000)
const CLONE_NAMESPACE_FLAGS = CLONE.NEWNS | CLONE.NEWCGROUP | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWNET;
// personality(): PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (a query)
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const allow = 'SCMP_ACT_ALLOW' as const;
const withCap = (caps: CapabilityName[], names: string[]): SeccompRule => ({ names, action: allow, includes: { caps } });

export const DOCKER_DEFAULT_SECCOMP: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    { architecture: 'SCMP_ARCH_MIPS64', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'] },
    { architecture: 'SCMP_ARCH_MIPS64N32', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'] },
    { architecture: 'SCMP_ARCH_MIPSEL64', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'] },
    { architecture: 'SCMP_ARCH_MIPSEL64N32', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'] },
    { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
    { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: [] },
    { architecture: 'SCMP_ARCH_LOONGARCH64', subArchitectures: [] },
  ],
  syscalls: [
    { names: ALWAYS_ALLOWED, action: allow },
    { names: ['process_vm_readv', 'process_vm_writev', 'ptrace'], action: allow, includes: { minKernel: '4.8' } },
    { names: ['socket'], action: allow, args: [{ index: 0, value: AF_ALG, valueTwo: 0, op: 'SCMP_CMP_LT' }] },
    { names: ['socket'], action: allow, args: [{ index: 0, value: AF_NFC, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['socket'], action: allow, args: [{ index: 0, value: AF_VSOCK, valueTwo: 0, op: 'SCMP_CMP_GT' }] },
    ...PERSONALITIES.map((value) => ({ names: ['personality'], action: allow, args: [{ index: 0, value, valueTwo: 0, op: 'SCMP_CMP_EQ' as const }] })),
    { names: ['sync_file_range2', 'swapcontext'], action: allow, includes: { arches: ['ppc64le'] } },
    { names: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'], action: allow, includes: { arches: ['arm', 'arm64'] } },
    { names: ['arch_prctl'], action: allow, includes: { arches: ['amd64', 'x32'] } },
    { names: ['modify_ldt'], action: allow, includes: { arches: ['amd64', 'x32', 'x86'] } },
    { names: ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'], action: allow, includes: { arches: ['s390', 's390x'] } },
    { names: ['riscv_flush_icache'], action: allow, includes: { arches: ['riscv64'] } },
    withCap(['CAP_DAC_READ_SEARCH'], ['open_by_handle_at']),
    withCap(['CAP_SYS_ADMIN'], WITH_SYS_ADMIN),
    // Without CAP_SYS_ADMIN, clone() only without namespace flags (argument 0; argument 1 on s390),
    // and clone3() answers ENOSYS, whose flags a filter cannot see, so libcs fall back to clone().
    {
      names: ['clone'], action: allow,
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    },
    {
      names: ['clone'], action: allow,
      args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    withCap(['CAP_SYS_BOOT'], ['reboot']),
    withCap(['CAP_SYS_CHROOT'], ['chroot']),
    withCap(['CAP_SYS_MODULE'], ['delete_module', 'init_module', 'finit_module']),
    withCap(['CAP_SYS_PACCT'], ['acct']),
    withCap(['CAP_SYS_PTRACE'], ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace']),
    withCap(['CAP_SYS_RAWIO'], ['iopl', 'ioperm']),
    withCap(['CAP_SYS_TIME'], ['settimeofday', 'stime', 'clock_settime', 'clock_settime64']),
    withCap(['CAP_SYS_TTY_CONFIG'], ['vhangup']),
    withCap(['CAP_SYS_NICE'], ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node']),
    withCap(['CAP_SYSLOG'], ['syslog']),
    withCap(['CAP_BPF'], ['bpf']),
    withCap(['CAP_PERFMON'], ['perf_event_open']),
  ],
};
