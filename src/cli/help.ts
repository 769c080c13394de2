// What --help prints, per command.

export const HELP: Record<string, string> = {
  main: `containy-learn: learn how Linux containers are made by making them

Usage:
  sudo containy-learn [--record F.cast]    open the workshop (lesson menu)
  sudo containy-learn lesson N [--step M] [--record F.cast]
                                           jump into lesson N (0-5)
  containy-learn list                      list the lessons and your progress
  sudo containy-learn run [OPTIONS] [--] COMMAND [ARG...]
  sudo containy-learn run --bundle DIR     run a containy bundle (DIR/configy.json)
  sudo containy-learn exec NAME [--] COMMAND [ARG...]
  sudo containy-learn ps                   running and stored containers
  sudo containy-learn rm NAME              delete a named container's stored changes
  sudo containy-learn rootfs build|import|status
  sudo containy-learn check-all [--lesson N] [--jumps]  rehearse every step
  containy-learn lessons check [DIR]       validate lesson files (for authors; no root)
  sudo containy-learn cleanup              remove what a killed run left behind

Options:
  -h, --help      help for a command: containy-learn run --help
  -V, --version   print the version

Exit codes, as docker's: 125 the runtime failed, 126 the command cannot be
executed, 127 the command was not found, else the command's own status.
Environment: NO_COLOR=1 turns colour off.`,

  run: `Usage:
  sudo containy-learn run [OPTIONS] [--] COMMAND [ARG...]
  sudo containy-learn run [--bundle DIR]

Start COMMAND as PID 1 of a new container: new namespaces, an overlay over the
base rootfs, pivot_root, /proc, /sys (read-only), a minimal /dev, its own
hostname and cgroup. /cgroups_example is mounted read-only inside.

Without a command, runs the containy bundle in DIR (default: the current
directory), read from DIR/configy.json.

Options:
      --name NAME          name the container: its changes persist across runs
      --hostname NAME      hostname inside (default: the name)
      --rm                 discard the container's changes when it exits
                           (a container without --name is always discarded)
      --rootfs DIR         base root filesystem (default: rootfs/base)
      --ns LIST            namespaces, comma-separated, from
                           pid,uts,ipc,net,mnt,cgroup (default: all six)
      --no-pivot           enter the root with chroot instead of pivot_root
  -v, --volume SRC:DST[:ro]
                           bind the host path SRC at DST inside (may repeat;
                           :ro read-only); /cgroups_example is bound by default
  -e, --env KEY=VALUE      set an environment variable (may repeat)
  -w, --workdir DIR        working directory inside
      --memory SIZE        memory limit, e.g. 512m, 1g
      --memory-swap SIZE   memory plus swap (default: same as --memory: no swap)
      --pids-limit N       at most N processes
      --cpus N.N           CPU quota in CPUs, e.g. 0.5
      --cpu-shares N       relative CPU weight (2-262144)
      --blkio-weight N     relative IO weight (10-1000)
      --bundle DIR         run a containy bundle (DIR/configy.json)

Examples:
  sudo containy-learn run --rm -- /bin/sh
  sudo containy-learn run --name web --hostname box -- sh -c 'hostname; ps'
  sudo containy-learn run --rm --memory 512M -- python3 /cgroups_example/mem.py`,

  exec: `Usage:
  sudo containy-learn exec NAME [--] COMMAND [ARG...]

Run COMMAND inside the running container NAME, joining its namespaces with
setns(2) and its cgroup, as nsenter(1) does.

Options:
  -e, --env KEY=VALUE      set an environment variable (may repeat)
  -w, --workdir DIR        working directory inside`,

  rootfs: `Usage:
  sudo containy-learn rootfs build [OPTIONS]  make it from this host (no network)
  sudo containy-learn rootfs import FILE      use a \`docker export\` .tar or .tar.gz
  containy-learn rootfs status                what it holds: busybox, host tools
                                              or imported

The base rootfs is the overlay's lower layer for every container
($CONTAINY_ROOTFS, default rootfs/base). Its programs are a static busybox
and its applets, or the host's own bash, coreutils, procps, util-linux...
copied with every library ldd names. Python 3 is copied in both.

Options for build:
      --force            build again even if a complete base is there
      --tools KIND       busybox or host (default: busybox when a static one
                         is found, else host)
      --busybox FILE     the static busybox to copy instead of /bin/busybox or
                         /usr/bin/busybox, e.g. unpacked from busybox-static's
                         .deb with \`dpkg-deb -x\`

Examples:
  sudo containy-learn rootfs build --tools host --force
  sudo containy-learn rootfs build --busybox /tmp/bb/bin/busybox`,

  cleanup: `Usage:
  sudo containy-learn cleanup

Remove what a killed containy-learn left behind: cgroups, scratch overlay
directories, run records and lesson work directories. Running containers and
named containers' stored changes are kept.`,

  ps: `Usage:
  sudo containy-learn ps

List running containers and named containers with stored changes.`,

  rm: `Usage:
  sudo containy-learn rm NAME

Delete the stored changes (overlay upper dir) of the named container NAME.`,

  lesson: `Usage:
  sudo containy-learn lesson N [--step M] [--record FILE.cast]

Open lesson N (0 what a container is, 1 chroot, 2 namespaces, 3 pivot_root,
4 overlayfs, 5 cgroups), at step M. A jump runs the earlier steps that step
depends on first, when you press enter, and says so. When stdout is not a
terminal, prints the lesson as plain text.

  --record FILE.cast   write the session as an asciicast v2 recording, with
                       a marker at each step run (asciinema play FILE.cast)`,

  lessons: `Usage:
  containy-learn lessons check [DIR]

Load every lesson file in DIR (default: the installed lessons/) as the
workshop does, without running a step and without root. Prints one line when
all load; otherwise each problem with its file, line and step, and exits 1.
A missing DIR exits 125. The format is lessons/FORMAT.md.`,

  list: `Usage:
  containy-learn list

List the lessons, what each teaches, and your progress.`,

  'check-all': `Usage:
  sudo containy-learn check-all [--lesson N] [--jumps]

Run every step of every lesson (or of lesson N) without a terminal, check
each, print a table, and leave the host clean. Exits 0 only if all passed.

  --jumps   reach each step by a jump, as \`lesson N --step M\` does: reset
            the lesson, then run only the earlier steps the step depends on`,
};
