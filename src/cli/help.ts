// What --help prints, per command.

export const HELP: Record<string, string> = {
  main: `containy-learn: learn how Linux containers are made by making them

Usage:
  sudo containy-learn [--record F.cast]    open the workshop (lesson menu)
  sudo containy-learn lesson N [--step M] [--record F.cast]
                                           jump into lesson N (see list)
  containy-learn list                      list the lessons and your progress
  sudo containy-learn run [OPTIONS] [--] COMMAND [ARG...]
  sudo containy-learn run --bundle DIR     run DIR/config.json (OCI) or configy.json
  sudo containy-learn run --image NAME     run an image of the store
  sudo containy-learn exec NAME [--] COMMAND [ARG...]
  sudo containy-learn ps                   running and stored containers
  sudo containy-learn rm NAME              delete a named container's stored changes
  sudo containy-learn rootfs build|status
  sudo containy-learn image import|load|ls|rm  docker export/save archives
  containy-learn spec [--bundle DIR]       an OCI config.json, as runc spec
  sudo containy-learn export IMAGE DIR     an OCI bundle of IMAGE that runc runs
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
  sudo containy-learn run --image NAME [OPTIONS] [[--] COMMAND [ARG...]]

Start COMMAND as PID 1 of a new container: new namespaces, an overlay over the
base rootfs, pivot_root, /proc, /sys (read-only), a minimal /dev, its own
hostname and cgroup. /cgroups_example is mounted read-only inside.

Without a command, runs the bundle in DIR (default: the current directory):
an OCI bundle (DIR/config.json, as runc runs it; see \`spec --help\`), or a
containy bundle (DIR/configy.json). In config.json a field containy-learn does
not implement is refused by its JSON path. Its process.capabilities,
linux.maskedPaths and linux.readonlyPaths are the container's, as runc reads
them (no linux.seccomp: no filter); --privileged, --cap-add, --cap-drop and
--security-opt do not apply to it.

Options:
      --name NAME          name the container: its changes persist across runs
      --hostname NAME      hostname inside (default: the name)
      --rm                 discard the container's changes when it exits
                           (a container without --name is always discarded)
      --rootfs DIR         base root filesystem (default: rootfs/base)
      --ns LIST            namespaces, comma-separated, from
                           pid,uts,ipc,net,mnt,cgroup (default: all six)
      --no-pivot           enter the root with chroot instead of pivot_root
      --network MODE       none (default here: an empty network namespace,
                           only lo; docker's default is bridge), bridge (eth0
                           on the bridge containy0, an address, a default
                           route), host (no network namespace), or
                           container:NAME (share a running container's)
  -p, --publish [IP:]HOSTPORT:CONTAINERPORT[/tcp]
                           publish a container port on the host (may repeat;
                           needs --network bridge; IP defaults to 0.0.0.0,
                           so 127.0.0.1:HOSTPORT works too)
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
      --uidmap C:H:SIZE    a user namespace: SIZE uids from C inside are host
                           uids from H (may repeat); e.g. 0:100000:65536
      --gidmap C:H:SIZE    the same for gids (default: as --uidmap)
      --userns MODE        auto: a user namespace on a free range of 65536
                           host ids; host: none (the default, and it drops a
                           bundle's userns section). Needs the host's python3
  -u, --user UID[:GID]     run COMMAND as this uid (and gid, default 0)
                           inside, with no capabilities; any container
      --bundle DIR         run a bundle (DIR/config.json or DIR/configy.json)
      --image NAME         run an image (see \`image --help\`): its layers are
                           the root; its Entrypoint, Cmd, Env and WorkingDir
                           are the defaults (COMMAND replaces Cmd)
      --trace              print every libc call of the start (ours and the
                           stage's, up to execve) on stderr, like strace -f

Security (docker's defaults unless a flag says otherwise): 14 capabilities
(CapBnd 00000000a80425fb), docker's seccomp profile, /proc/kcore, /proc/keys
and others masked, /proc/sys and others read-only, no-new-privileges off,
and only runc's devices may be opened (null, zero, full, random, urandom,
tty, ptmx, the ptys, net/tun): the devices cgroup on v1, a BPF program on v2.
      --privileged         every capability, no seccomp filter, nothing masked
                           or read-only, every device: root inside is root on
                           the host
      --cap-add CAP        add a capability, e.g. SYS_ADMIN or CAP_NET_ADMIN;
                           ALL adds every one (may repeat, or A,B)
      --cap-drop CAP       drop a capability from the set; ALL drops every
                           one, leaving only what --cap-add names
      --security-opt seccomp=unconfined
                           no seccomp filter (capabilities still apply)
      --security-opt seccomp=PROFILE.json
                           a docker seccomp profile instead of the default
      --security-opt systempaths=unconfined
                           none of docker's masked or read-only paths
      --security-opt no-new-privileges
                           execve cannot gain privileges: setuid bits and file
                           capabilities are ignored (prctl PR_SET_NO_NEW_PRIVS)
      --read-only          mount the container's root read-only (tmpfs and
                           -v mounts stay writable)

Examples:
  sudo containy-learn run --rm -- /bin/sh
  sudo containy-learn run --name web --hostname box -- sh -c 'hostname; ps'
  sudo containy-learn run --rm --memory 512M -- python3 /cgroups_example/mem.py
  sudo containy-learn run --rm --cap-drop ALL -- grep Cap /proc/self/status
  sudo containy-learn run --rm --network bridge -p 8080:8000 -- \\
    python3 -m http.server
  sudo containy-learn run --rm --userns auto -- cat /proc/self/uid_map`,

  exec: `Usage:
  sudo containy-learn exec NAME [--] COMMAND [ARG...]

Run COMMAND inside the running container NAME, joining its namespaces with
setns(2) and its cgroup, as nsenter(1) does.

Options:
  -e, --env KEY=VALUE      set an environment variable (may repeat)
  -w, --workdir DIR        working directory inside`,

  rootfs: `Usage:
  sudo containy-learn rootfs build [OPTIONS]  make it from this host (no network)
  sudo containy-learn rootfs import FILE NAME the same as \`image import FILE NAME\`
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

  image: `Usage:
  sudo containy-learn image import [--trusted] FILE NAME
                                   a root filesystem tar (\`docker export\`,
                                   a .tar.gz of a rootfs) as a one-layer image
  sudo containy-learn image load [--trusted] FILE
                                   a \`docker save\` archive (or an OCI image
                                   layout tar): its images by their RepoTags
  containy-learn image ls          name, layers, size
  sudo containy-learn image rm NAME

NAME means NAME:latest, as in docker. The lessons' base rootfs is the image
base; nothing imported or loaded changes it. Each layer is unpacked once into
a directory of its own under $CONTAINY_STATE_DIR/images/layers (default
/var/lib/containy-learn); docker's whiteouts (.wh.NAME, .wh..wh..opq) become
overlayfs's (a 0/0 character device, trusted.overlay.opaque=y), and the
layers stack as the overlay's lowerdirs. Run one with \`run --image NAME\`.

Entries that would write outside the root (absolute paths, '..', writing
through a symlink, hard links to what is not in the archive) are refused, and
so are device nodes unless --trusted is given. A refused archive leaves
nothing behind.`,

  spec: `Usage:
  containy-learn spec [-b|--bundle DIR]

Write DIR/config.json (default: the current directory) as \`runc spec\` does:
runc's example OCI runtime spec (root "rootfs", read-only; args ["sh"]).
Run it with \`run --bundle DIR\` or \`runc run -b DIR ID\`.`,

  export: `Usage:
  sudo containy-learn export IMAGE DIR

Write an OCI bundle: DIR/rootfs, the image's layers merged as overlayfs shows
them, and DIR/config.json with the image's Entrypoint/Cmd, Env and WorkingDir
("terminal": false), and the defences \`run --image\` gives: docker's 14
capabilities, masked and read-only paths (its seccomp filter is not written).
Then: \`runc run -b DIR ID\` or \`run --bundle DIR\`.`,

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
  sudo containy-learn check-all [--lesson N] [--jumps] [--except N]...

Run every step of every lesson (or of lesson N) without a terminal, check
each, print a table, and leave the host clean. Exits 0 only if all passed.

  --jumps   reach each step by a jump, as \`lesson N --step M\` does: reset
            the lesson, then run only the earlier steps the step depends on
  --except N  leave lesson N out (on a machine where its steps cannot run)`,
};
