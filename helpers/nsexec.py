# nsexec.py: the single-threaded first step of a container with a user namespace.
#
# Why this exists: unshare(CLONE_NEWUSER) and setns() into a user namespace
# fail with EINVAL in a multithreaded process (kernel/fork.c: CLONE_NEWUSER
# implies CLONE_THREAD, which unshare refuses unless the caller is the only
# thread; kernel/user_namespace.c userns_install() likewise), and every Node
# process has 4+ threads. runc has the same problem with Go and answers it
# with nsexec.c, C that runs before the Go runtime starts. unshare(1) cannot
# do the job: it cannot wait for maps a parent writes.
#
# Why Python and not C: a C helper needs a compiler at install time, and most
# learners' laptops have none; python3 is on every Ubuntu, Fedora and Debian
# desktop and the rootfs builder needs it already. CPython is single-threaded
# until a program starts a thread, and ctypes reaches unshare(), setns() and
# prctl() (os.unshare and os.setns only arrived in 3.12). The price, measured
# by src/bench/userns-bench.ts: CPython with ctypes starts in ~17 ms, and the
# helper adds 24-31 ms to a start of the Node stage; a C helper would save most
# of the interpreter's part. Only the standard library is used, under -I -S.
#
# The protocol, on the socket passed as --sync-fd (one line per message):
#   helper: unshare(CLONE_NEWUSER)                -> "ready\n"
#   parent: writes /proc/PID/setgroups (if it must), uid_map, gid_map -> "go\n"
#   helper: setresgid, setgroups([]), setresuid inside; unshare(the others),
#           so they belong to the new user namespace (runc's order: the user
#           namespace alone first, the others once its maps exist);
#           with CLONE_NEWPID, fork: the child is PID 1 of the new namespace
#   helper: "pid HOSTPID\n" (the process that execs); the sync fd is
#           close-on-exec, so end-of-file after it means execve succeeded
#   any failure: "error STEP: ERRNO: text\n", exit 125 (126/127 for execve).
# Before any of it, while still host root, it opens the program (it execs that
# fd) and, with --package-dir DIR --package-fd N, DIR as fd N, which survives
# the exec: root inside is an unprivileged host uid (say 100000) that may not
# search a directory on the way to Node or this package (a clone under /root,
# in a 0700 mktemp, an Ubuntu home at 0750). The kernel checks search
# permission when a path is walked, not when an open fd is used, so the stage
# is reached as /proc/self/fd/N/... (path_resolution(7); proc_fd_link() lets
# a process follow its own fds' links).
# With --join-pid PID it joins a running container instead (for exec): setns
# into PID's user namespace first, then the namespaces in --flags, and no
# maps (they exist): straight to "pid HOSTPID".
# With a fork, this process stays as the child's parent: it forwards the
# signals a process sends it, and exits as the child did (as unshare --fork).
import errno
import os
import sys

try:
    # The C module under `signal`: the same calls, without the enum wrappers
    # whose import is a third of this helper's start-up (python3 -X importtime).
    import _signal as signal
except ImportError:
    import signal

CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG = 1

# Signals a launcher sends us that are meant for the container's PID 1.
FORWARDED = [signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM,
             signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGALRM]

libc = None
libc_errno = None
sync = -1


def say(line):
    os.write(sync, (line + '\n').encode())


def fail(step, err, code=125):
    name = errno.errorcode.get(err.errno, 'errno %s' % err.errno) if isinstance(err, OSError) else type(err).__name__
    text = err.strerror if isinstance(err, OSError) else str(err)
    try:
        say('error %s: %s: %s' % (step, name, text))
    finally:
        os._exit(code)


def call(step, ret):
    if ret == -1:
        e = libc_errno()
        raise OSError(e, os.strerror(e), step)


def set_parent_death_signal():
    try:
        call('prctl', libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0))
    except OSError as e:
        fail('prctl(PR_SET_PDEATHSIG)', e)


def wait_for(word):
    line = b''
    while not line.endswith(b'\n'):
        chunk = os.read(sync, 256)
        if not chunk:
            os._exit(125)  # the parent went away: nothing to report to
        line += chunk
    if line.strip() != word.encode():
        fail('handshake', ValueError('expected %r from the parent, got %r' % (word, line.strip().decode())))


TEXT_OPTIONS = ('package_dir',)


def parse_args(argv):
    opts = {'uid': 0, 'gid': 0}
    i = 0
    while argv[i] != '--':
        name = argv[i].lstrip('-').replace('-', '_')
        opts[name] = argv[i + 1] if name in TEXT_OPTIONS else int(argv[i + 1], 0)
        i += 2
    return opts, argv[i + 1:]


def open_program_files(opts, program):
    """Open the package as fd --package-fd, then the program, while we are host root."""
    if 'package_dir' in opts:
        # First, so that the program's fd cannot be the number dup2 takes.
        try:
            fd = os.open(opts['package_dir'], os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            if fd != opts['package_fd']:
                os.dup2(fd, opts['package_fd'])  # dup2's copy is inheritable: it stays open across the exec
                os.close(fd)
            else:
                os.set_inheritable(fd, True)
        except OSError as e:
            fail('open %s' % opts['package_dir'], e)
    try:
        # O_PATH and close-on-exec: execveat() runs a binary from such an fd
        # (not a #! script, whose interpreter would need the fd itself).
        opts['program_fd'] = os.open(program[0], os.O_PATH | os.O_CLOEXEC)
    except OSError as e:
        fail('execve %s' % program[0], e, 127 if e.errno == errno.ENOENT else 126)


def exec_program(opts, program):
    # CPython ignores SIGPIPE and SIGXFSZ at start; ignored signals survive
    # execve, and the container's command must not inherit that.
    for s in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(s, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    try:
        os.execve(opts['program_fd'], program, os.environ)  # fexecve(3)
    except OSError as e:
        fail('execve %s' % program[0], e, 127 if e.errno == errno.ENOENT else 126)


def relay(child):
    # Blocked signals are queued for sigwaitinfo, SIGCHLD included.
    while True:
        info = signal.sigwaitinfo(FORWARDED + [signal.SIGCHLD])
        if info.si_signo != signal.SIGCHLD:
            # A terminal's ^C (si_code SI_KERNEL) reaches the child's process
            # group already; only what a process sent (SI_USER, SI_QUEUE,
            # SI_TKILL: si_code <= 0) is passed on.
            if info.si_code <= 0:
                os.kill(child, info.si_signo)
            continue
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == 0:
            continue
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.kill(os.getpid(), sig)
            os._exit(128 + sig)  # a signal whose default is not to terminate
        os._exit(os.WEXITSTATUS(status))  # (waitstatus_to_exitcode needs 3.9; Ubuntu 20.04 has 3.8)


# Namespace files under /proc/PID/ns, with their clone flags, in the order
# they are joined: the user namespace first, for the privilege over the rest.
NAMESPACE_FILES = [('user', CLONE_NEWUSER), ('ipc', 0x08000000), ('uts', 0x04000000),
                   ('net', 0x40000000), ('pid', CLONE_NEWPID), ('mnt', 0x00020000), ('cgroup', 0x02000000)]


def become_root_inside(opts):
    try:
        os.setresgid(opts['gid'], opts['gid'], opts['gid'])
    except OSError as e:
        fail('setresgid(%d)' % opts['gid'], e)
    # Drop the supplementary groups we brought from the host (they would show
    # as nobody); impossible, and unneeded, once setgroups is "deny".
    with open('/proc/self/setgroups') as f:
        if f.read().strip() == 'allow':
            try:
                os.setgroups([])
            except OSError as e:
                fail('setgroups', e)
    try:
        os.setresuid(opts['uid'], opts['uid'], opts['uid'])
    except OSError as e:
        fail('setresuid(%d)' % opts['uid'], e)


def create(opts, flags):
    try:
        call('unshare', libc.unshare(CLONE_NEWUSER))
    except OSError as e:
        fail('unshare(CLONE_NEWUSER)', e)
    say('ready')
    wait_for('go')
    become_root_inside(opts)
    others = flags & ~CLONE_NEWUSER
    if others:
        try:
            call('unshare', libc.unshare(others))
        except OSError as e:
            fail('unshare(0x%x)' % others, e)


def join(opts, flags):
    """Join a running container: its user namespace, then the others in flags."""
    pid = opts['join_pid']
    # Open every file before joining any: after that, /proc/PID may not resolve.
    fds = []
    for name, flag in NAMESPACE_FILES:
        if flag == CLONE_NEWUSER or flags & flag:
            try:
                fds.append((name, flag, os.open('/proc/%d/ns/%s' % (pid, name), os.O_RDONLY | os.O_CLOEXEC)))
            except OSError as e:
                fail('open /proc/%d/ns/%s' % (pid, name), e)
    for name, flag, fd in fds:
        try:
            call('setns', libc.setns(fd, flag))
        except OSError as e:
            fail('setns(%s)' % name, e)
        os.close(fd)
    become_root_inside(opts)


def main():
    global sync, libc, libc_errno
    opts, program = parse_args(sys.argv[1:])
    sync = opts['sync_fd']
    flags = opts['flags']
    os.set_inheritable(sync, False)  # close-on-exec: end-of-file means exec'd
    try:
        import ctypes  # some minimal Pythons are built without it
        libc = ctypes.CDLL(None, use_errno=True)
        libc_errno = ctypes.get_errno
    except (ImportError, OSError) as e:
        fail('python3: import ctypes', e)
    open_program_files(opts, program)
    if 'join_pid' in opts:
        join(opts, flags)
    else:
        create(opts, flags)
    # If the launcher's thread dies, so do we. Set after the id changes, which
    # clear it (commit_creds), and kept across execve.
    set_parent_death_signal()
    # unshare(CLONE_NEWPID) and setns() into a PID namespace both move only
    # our children there.
    if not flags & CLONE_NEWPID:
        say('pid %d' % os.getpid())
        exec_program(opts, program)
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED + [signal.SIGCHLD])
    try:
        child = os.fork()
    except OSError as e:
        fail('fork', e)
    if child == 0:
        set_parent_death_signal()  # fork clears it; now tied to this helper
        exec_program(opts, program)
    say('pid %d' % child)
    # The program's fds are the child's now: holding the stage's control fd
    # open here would hide its end-of-file (the sign that it exec'd).
    os.closerange(3, os.sysconf('SC_OPEN_MAX'))
    relay(child)


main()
