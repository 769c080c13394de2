// The stage: a fresh Node process started inside the container's namespaces
// (PID 1 of a new PID namespace for `run`). It waits for its order on fd 3,
// builds the root, and execve()s the command. It must stay small: its start-up
// is part of every container's start time. See DESIGN.md §2.5.
import fs from 'node:fs';
import path from 'node:path';
import * as libc from './libc.js';
import { SyscallError, EXIT } from './errors.js';
import { CONTROL_FD, MOUNT_NS_FD, type RootSetup, type StageOrder, type StageReport } from './stage-protocol.js';

const SIGKILL = 9;
const S_IFCHR = 0o020000;

// The device nodes runc gives a container (major, minor).
const DEVICES: Array<[string, number, number]> = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
];
const DEV_LINKS: Array<[string, string]> = [
  ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx'],
];

function report(r: StageReport): void {
  fs.writeSync(CONTROL_FD, JSON.stringify(r) + '\n');
}

function readOrder(): StageOrder {
  // libuv hands us fd 3 non-blocking; we want to sleep in read() until the order comes.
  libc.setBlocking(CONTROL_FD);
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = fs.readSync(CONTROL_FD, buf);
    if (n === 0) process.exit(EXIT.RUNTIME); // the launcher went away before giving an order
    chunks.push(Buffer.from(buf.subarray(0, n)));
    if (buf[n - 1] === 0x0a) break;
  }
  return JSON.parse(Buffer.concat(chunks).toString()) as StageOrder;
}

function mkdirIn(root: string, dir: string): string {
  const p = path.join(root, dir);
  fs.mkdirSync(p, { recursive: true });
  return p;
}

function mountSpecialFilesystems(root: string): void {
  const nosuidNodevNoexec = libc.MS.NOSUID | libc.MS.NODEV | libc.MS.NOEXEC;
  libc.mount('proc', mkdirIn(root, 'proc'), 'proc', nosuidNodevNoexec);
  libc.mount('sysfs', mkdirIn(root, 'sys'), 'sysfs', nosuidNodevNoexec | libc.MS.RDONLY);
  const dev = mkdirIn(root, 'dev');
  libc.mount('tmpfs', dev, 'tmpfs', libc.MS.NOSUID | libc.MS.STRICTATIME, 'mode=755,size=65536k');
  const umask = process.umask(0); // device nodes are 0666, as runc makes them
  for (const [name, major, minor] of DEVICES) libc.mknod(path.join(dev, name), S_IFCHR | 0o666, major, minor);
  process.umask(umask);
  for (const [name, target] of DEV_LINKS) fs.symlinkSync(target, path.join(dev, name));
  libc.mount('devpts', mkdirIn(dev, 'pts'), 'devpts', libc.MS.NOSUID | libc.MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620');
  libc.mount('shm', mkdirIn(dev, 'shm'), 'tmpfs', nosuidNodevNoexec, 'mode=1777,size=65536k');
}

function bindMount(source: string, target: string, readonly: boolean): void {
  const stat = fs.statSync(source);
  if (stat.isDirectory()) fs.mkdirSync(target, { recursive: true });
  else if (!fs.existsSync(target)) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, '');
  }
  libc.mount(source, target, null, libc.MS.BIND | libc.MS.REC);
  // A bind mount ignores MS_RDONLY on creation; read-only takes a remount.
  if (readonly) libc.mount(null, target, null, libc.MS.BIND | libc.MS.REMOUNT | libc.MS.RDONLY);
}

function enterRoot(root: RootSetup): void {
  const dir = root.dir;
  if (root.overlay) {
    const { lower, upper, work } = root.overlay;
    libc.mount('overlay', dir, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
  } else if (root.pivot && root.bindRootFirst) {
    libc.mount(dir, dir, null, libc.MS.BIND | libc.MS.REC); // pivot_root needs a mount point
  } else if (root.pivot) {
    // The lesson's refusal: put the directory on a mount of its own parent, as on a
    // machine where it sits under /mnt, without making it a mount point itself. The
    // kernel then answers EINVAL ("not a mount point"); a directory on the root
    // mount itself would get EBUSY first.
    const parent = path.dirname(dir);
    libc.mount(parent, parent, null, libc.MS.BIND | libc.MS.REC);
  }
  if (root.specialFilesystems) mountSpecialFilesystems(dir);
  for (const t of root.tmpfs) libc.mount('tmpfs', mkdirIn(dir, t), 'tmpfs', libc.MS.NOSUID | libc.MS.NODEV, 'mode=1777');
  for (const b of root.binds) bindMount(b.source, path.join(dir, b.target), b.readonly);

  libc.chdir(dir);
  if (root.pivot) {
    // runc's trick: pivot onto "." so the old root ends up stacked on top of the
    // new one, then detach it. No put_old directory is left in the container.
    libc.pivotRoot('.', '.');
    libc.umount2('.', libc.MNT_DETACH);
  } else {
    libc.chroot('.');
  }
  libc.chdir('/');
}

function findProgram(name: string, env: string[]): string | undefined {
  if (name.includes('/')) return name;
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/bin:/usr/bin:/bin';
  for (const dir of pathVar.split(':')) {
    const candidate = path.join(dir || '.', name);
    try {
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

/**
 * Node opens everything close-on-exec except 0-2, which it also marks so
 * (DESIGN.md §2.6): the command would start without stdio. Every other fd we
 * inherited or opened, fd 3 included, must not reach it. Listed before the root
 * changes, since the new root may have no /proc.
 */
function closeOnExecAllButStdio(): void {
  for (const entry of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(entry);
    if (fd <= 2) continue;
    try {
      libc.setCloseOnExec(fd, true);
    } catch {
      // the directory handle readdirSync used, closed by now
    }
  }
}

function fail(exitCode: number, message: string): never {
  report({ type: 'error', exitCode, message });
  process.exit(exitCode);
}

function main(): void {
  report({ type: 'ready' });
  const order = readOrder();
  let program: string | undefined;
  try {
    // If our launcher dies, so do we (and, after execve, the command).
    libc.setParentDeathSignal(SIGKILL);
    process.umask(0o022);
    closeOnExecAllButStdio();
    if (order.joinMountNamespace) {
      libc.unshare(libc.CLONE.FS); // setns into a mount namespace needs a fs_struct of our own
      libc.setns(MOUNT_NS_FD, libc.CLONE.NEWNS, 'the container\'s mount namespace');
      fs.closeSync(MOUNT_NS_FD);
    }
    if (order.newMountNamespace) {
      libc.unshare(libc.CLONE.NEWNS);
      libc.mount(null, '/', null, libc.MS.REC | libc.MS.PRIVATE);
    }
    if (order.root) enterRoot(order.root);
    if (order.hostname !== undefined) libc.sethostname(order.hostname);
    if (order.newCgroupNamespace) libc.unshare(libc.CLONE.NEWCGROUP);
    if (order.cwd !== '/') libc.chdir(order.cwd);
    program = findProgram(order.argv[0], order.env);
    for (const fd of [0, 1, 2]) libc.setCloseOnExec(fd, false);
  } catch (err) {
    fail(EXIT.RUNTIME, err instanceof Error ? err.message : String(err));
  }
  if (!program) fail(EXIT.NOT_FOUND, `${order.argv[0]}: command not found in the container`);
  try {
    libc.execve(program, order.argv, order.env);
  } catch (err) {
    const code = err instanceof SyscallError && err.code === 'ENOENT' ? EXIT.NOT_FOUND : EXIT.CANNOT_EXECUTE;
    fail(code, `${order.argv[0]}: ${err instanceof SyscallError ? `${err.code}: ${err.explanation}` : String(err)}`);
  }
}

main();
