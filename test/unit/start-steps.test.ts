// The stage's start sequence against a fake kernel: the syscalls come in the
// documented order, and a failure in any step names that step. The real
// sequence, as root, is in test/integration/run.test.ts.
import { describe, expect, it } from 'vitest';
import { SyscallError } from '../../src/runtime/errors.js';
import { START_STEPS, decodeOrder, encodeOrder, type StageOrder } from '../../src/runtime/start/protocol.js';
import { StepFailure, startInStage, type StageSystem } from '../../src/runtime/start/steps.js';

class Executed extends Error {}

/** Records every call as `name arg0`; `failOn` makes the first matching call throw as the kernel would. */
function fakeSystem(failOn?: { call: string; match?: string; err: Error }) {
  const calls: string[] = [];
  const files = new Set(['/bin/sh', '/host/data']);
  const record = (name: string, ...args: unknown[]) => {
    const line = [name, ...args.map(String)].join(' ');
    calls.push(line);
    if (failOn && name === failOn.call && (!failOn.match || line.includes(failOn.match))) throw failOn.err;
  };
  const sys: StageSystem = {
    unshare: (flags) => record('unshare', `0x${flags.toString(16)}`),
    setns: (fd, nstype) => record('setns', fd, nstype),
    mount: (source, target, fstype) => record('mount', fstype ?? source, target),
    umount2: (target) => record('umount2', target),
    pivotRoot: (newRoot, putOld) => record('pivot_root', newRoot, putOld),
    chroot: (dir) => record('chroot', dir),
    chdir: (dir) => record('chdir', dir),
    sethostname: (name) => record('sethostname', name),
    mknod: (file) => record('mknod', file),
    switchUser: (uid, gid) => record('switchUser', uid, gid),
    setCloseOnExec: (fd, on) => record('cloexec', fd, on),
    setParentDeathSignal: (signal) => record('pdeathsig', signal),
    setpgid: (pid, pgid) => record('setpgid', pid, pgid),
    takeTerminal: (fd) => record('tcsetpgrp', fd),
    execve: (program) => {
      record('execve', program);
      throw new Executed();
    },
    umask: (mask) => {
      record('umask', mask.toString(8));
      return 0o022;
    },
    closeFd: (fd) => record('close', fd),
    openFds: () => [0, 1, 2, 3, 20],
    mkdirp: (dir) => record('mkdir', dir),
    symlink: (_target, file) => record('symlink', file),
    kind: (file) => (file.endsWith('/bin/sh') || files.has(file) ? 'file' : file.startsWith('/host') ? undefined : 'dir'),
    touch: (file) => record('touch', file),
    applyReadonlyPaths: (root, paths) => (record('readonly', root, paths.join(',')), [...paths]),
    applyMaskedPaths: (root, paths) => (record('mask', root, paths.join(',')), [...paths]),
    remountReadonly: (target) => record('remount-ro', target),
    enterSecurity: (security, switchUser) => {
      record('security', security.capabilities.length);
      switchUser?.();
    },
  };
  return { sys, calls };
}

const ORDER: StageOrder = {
  newMountNamespace: true,
  root: {
    dir: '/c/merged',
    overlay: { lower: '/base', upper: '/c/upper', work: '/c/work' },
    pivot: true,
    rootMountPoint: 'bind',
    specialFilesystems: true,
    binds: [{ source: '/host/data', target: '/data', readonly: true }],
    tmpfs: ['/tmp'],
  },
  hostname: 'box',
  newCgroupNamespace: true,
  argv: ['sh', '-c', 'true'],
  env: ['PATH=/usr/bin:/bin'],
  cwd: '/tmp',
};

function run(order: StageOrder, sys: StageSystem): StepFailure | 'executed' {
  try {
    startInStage(order, sys);
  } catch (err) {
    if (err instanceof StepFailure) return err.cause instanceof Executed ? 'executed' : err;
    throw err;
  }
  throw new Error('startInStage returned');
}

describe('the stage start sequence', () => {
  it('runs the steps in order: mount namespace, overlay, /proc, /sys, /dev, tmpfs, binds, pivot_root, hostname, cgroup namespace, cwd, exec', () => {
    const { sys, calls } = fakeSystem();
    expect(run(ORDER, sys)).toBe('executed');
    const key = calls.filter((c) => /^(unshare|mount|pivot_root|umount2|sethostname|execve|chroot)/.test(c) || c === 'chdir /tmp');
    expect(key).toEqual([
      'unshare 0x20000', // CLONE_NEWNS
      'mount null /', // everything private
      'mount overlay /c/merged',
      'mount proc /c/merged/proc',
      'mount sysfs /c/merged/sys',
      'mount tmpfs /c/merged/dev',
      'mount devpts /c/merged/dev/pts',
      'mount tmpfs /c/merged/dev/shm',
      'mount tmpfs /c/merged/tmp',
      'mount /host/data /c/merged/data',
      'mount null /c/merged/data', // the read-only remount
      'pivot_root . .',
      'umount2 .',
      'sethostname box',
      'unshare 0x2000000', // CLONE_NEWCGROUP
      'chdir /tmp',
      'execve /usr/bin/sh',
    ]);
    // Every fd but stdio is closed on exec; stdio is opened to the command just before execve.
    expect(calls).toContain('cloexec 3 true');
    expect(calls).toContain('cloexec 20 true');
    expect(calls.slice(-4)).toEqual(['cloexec 0 false', 'cloexec 1 false', 'cloexec 2 false', 'execve /usr/bin/sh']);
  });

  it.each([
    ['mount namespace', { call: 'unshare', match: '0x20000', err: new SyscallError('unshare', 'EPERM') }, 'stage: mount namespace: unshare: EPERM: needs root (CAP_SYS_ADMIN)'],
    ['overlay', { call: 'mount', match: 'overlay', err: new SyscallError('mount', 'ENODEV', 'overlay on /c/merged') }, 'stage: overlay: mount (overlay on /c/merged): ENODEV: the kernel does not offer this filesystem type'],
    ['/proc', { call: 'mount', match: 'proc /c', err: new SyscallError('mount', 'EPERM', 'proc on /c/merged/proc') }, 'stage: /proc: mount (proc on /c/merged/proc): EPERM'],
    ['/sys', { call: 'mount', match: 'sysfs', err: new SyscallError('mount', 'EPERM') }, 'stage: /sys: mount: EPERM'],
    ['/dev', { call: 'mknod', err: new SyscallError('mknod', 'EPERM', '/c/merged/dev/null') }, 'stage: /dev: mknod (/c/merged/dev/null): EPERM'],
    ['tmpfs', { call: 'mount', match: 'merged/tmp', err: new SyscallError('mount', 'ENOMEM') }, 'stage: tmpfs: mount: ENOMEM'],
    ['binds', { call: 'mount', match: '/host/data', err: new SyscallError('mount', 'ENOENT') }, 'stage: binds: mount: ENOENT: the mount point or the source does not exist'],
    ['pivot_root', { call: 'pivot_root', err: new SyscallError('pivot_root', 'EINVAL', '.') }, 'stage: pivot_root: EINVAL: the new root must be a mount point'],
    ['hostname', { call: 'sethostname', err: new SyscallError('sethostname', 'EINVAL', 'box') }, 'stage: hostname: sethostname (box): EINVAL: the hostname is longer than 64 bytes'],
    ['cgroup namespace', { call: 'unshare', match: '0x2000000', err: new SyscallError('unshare', 'EINVAL') }, 'stage: cgroup namespace: unshare: EINVAL'],
    ['cwd', { call: 'chdir', match: '/tmp', err: new SyscallError('chdir', 'ENOENT', '/tmp') }, 'stage: cwd: chdir (/tmp): ENOENT'],
    ['exec', { call: 'execve', err: new SyscallError('execve', 'ENOENT', '/usr/bin/sh') }, 'stage: exec: sh: ENOENT: the program, or the interpreter'],
  ])('names the step when %s fails', (step, failOn, message) => {
    const { sys } = fakeSystem(failOn);
    const failure = run(ORDER, sys);
    expect(failure).toBeInstanceOf(StepFailure);
    expect((failure as StepFailure).step).toBe(step);
    expect(START_STEPS).toContain(step);
    expect((failure as StepFailure).message.startsWith(message)).toBe(true);
    expect((failure as StepFailure).bug).toBe(false);
  });

  it('with security: read-only then masked paths after /dev, the read-only root after pivot_root, and security last before execve', () => {
    const { sys, calls } = fakeSystem();
    const security = {
      capabilities: ['CAP_CHOWN' as const], lastCap: 40, noNewPrivileges: false,
      maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'], readonlyRoot: true,
    };
    expect(run({ ...ORDER, security }, sys)).toBe('executed');
    const key = calls.filter((c) => /^(mount tmpfs \/c\/merged\/(dev\/shm|tmp)|readonly|mask|pivot_root|remount-ro|sethostname|security|execve)/.test(c));
    expect(key).toEqual([
      'mount tmpfs /c/merged/dev/shm',
      'readonly /c/merged /proc/sys',
      'mask /c/merged /proc/kcore',
      'mount tmpfs /c/merged/tmp',
      'pivot_root . .',
      'remount-ro /',
      'sethostname box',
      'security 1',
      'execve /usr/bin/sh',
    ]);
    expect(calls.slice(-2)).toEqual(['security 1', 'execve /usr/bin/sh']);
  });

  it.each([
    ['read-only paths', { call: 'readonly', err: new SyscallError('mount', 'EPERM') }],
    ['masked paths', { call: 'mask', err: new SyscallError('mount', 'EPERM') }],
    ['read-only root', { call: 'remount-ro', err: new SyscallError('mount', 'EPERM') }],
    ['security', { call: 'security', err: new SyscallError('capset', 'EPERM') }],
  ])('names the step when %s fails', (step, failOn) => {
    const { sys } = fakeSystem(failOn);
    const security = { capabilities: [], lastCap: 40, noNewPrivileges: false, maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'], readonlyRoot: true };
    const failure = run({ ...ORDER, security }, sys);
    expect((failure as StepFailure).step).toBe(step);
    expect(START_STEPS).toContain(step);
  });

  it('with security and --user: the switch is inside the security step (after its bounding set), and a refusal names the user step', () => {
    const security = { capabilities: [], lastCap: 40, noNewPrivileges: false, maskedPaths: [], readonlyPaths: [] };
    const { sys, calls } = fakeSystem();
    expect(run({ ...ORDER, security, user: { uid: 1000, gid: 1000 } }, sys)).toBe('executed');
    expect(calls.slice(-3)).toEqual(['security 0', 'switchUser 1000 1000', 'execve /usr/bin/sh']);
    const refused = fakeSystem({ call: 'switchUser', err: new SyscallError('setresuid', 'EPERM', 'uid 1000') });
    const failure = run({ ...ORDER, security, user: { uid: 1000, gid: 1000 } }, refused.sys) as StepFailure;
    expect(failure.step).toBe('user');
  });

  it('gives pivot_root a plain directory with rootMountPoint as-given, and binds the root onto itself by default', () => {
    const order = (rootMountPoint: 'bind' | 'as-given'): StageOrder => ({ ...ORDER, root: { ...ORDER.root!, overlay: undefined, dir: '/lessons/jail', rootMountPoint } });
    const bound = fakeSystem();
    run(order('bind'), bound.sys);
    expect(bound.calls).toContain('mount /lessons/jail /lessons/jail');
    const asGiven = fakeSystem();
    run(order('as-given'), asGiven.sys);
    expect(asGiven.calls).not.toContain('mount /lessons/jail /lessons/jail');
    expect(asGiven.calls).toContain('mount /lessons /lessons'); // its parent, so the kernel says EINVAL, not EBUSY
  });

  it('exits 127 when the command is not in PATH, 126 when it cannot execute, and 127 for a missing interpreter', () => {
    const missing = run({ ...ORDER, argv: ['nope'] }, fakeSystem().sys) as StepFailure;
    expect([missing.step, missing.exitCode, missing.message]).toEqual(['exec', 127, "stage: exec: nope: not found in the container's PATH"]);
    const denied = run(ORDER, fakeSystem({ call: 'execve', err: new SyscallError('execve', 'EACCES') }).sys) as StepFailure;
    expect(denied.exitCode).toBe(126);
    const noLoader = run(ORDER, fakeSystem({ call: 'execve', err: new SyscallError('execve', 'ENOENT') }).sys) as StepFailure;
    expect(noLoader.exitCode).toBe(127);
  });

  it('says a failure that is not the kernel\'s is a bug', () => {
    const failure = run(ORDER, fakeSystem({ call: 'sethostname', err: new TypeError('x is not a function') }).sys) as StepFailure;
    expect([failure.step, failure.bug]).toEqual(['hostname', true]);
  });

  it('with chroot instead of pivot_root, names the chroot step', () => {
    const order: StageOrder = { ...ORDER, root: { ...ORDER.root!, pivot: false } };
    const failure = run(order, fakeSystem({ call: 'chroot', err: new SyscallError('chroot', 'EPERM') }).sys) as StepFailure;
    expect(failure.step).toBe('chroot');
    expect(failure.message).toBe('stage: chroot: EPERM: needs root (CAP_SYS_CHROOT)');
  });

  it('for exec, joins the mount namespace and makes no root', () => {
    const { sys, calls } = fakeSystem();
    const order: StageOrder = { newMountNamespace: false, joinMountNamespace: true, newCgroupNamespace: false, argv: ['/bin/sh'], env: [], cwd: '/' };
    expect(run(order, sys)).toBe('executed');
    expect(calls.filter((c) => /^(unshare|setns|mount|pivot_root)/.test(c))).toEqual(['unshare 0x200', 'setns 4 131072']);
  });
  it('in a user namespace: no unshare of the mount namespace, overlay with userxattr, the host\'s device nodes bound, not made', () => {
    const { sys, calls } = fakeSystem();
    expect(run({ ...ORDER, inUserNamespace: true }, sys)).toBe('executed');
    expect(calls).not.toContain('unshare 0x20000');
    expect(calls).toContain('mount null /'); // still every mount private
    expect(calls.filter((c) => c.startsWith('mknod'))).toEqual([]);
    expect(calls).toContain('touch /c/merged/dev/null');
    expect(calls).toContain('mount /dev/null /c/merged/dev/null');
  });

  it('--user: switches ids after the last mount, just before exec, and names the step when refused', () => {
    const { sys, calls } = fakeSystem();
    expect(run({ ...ORDER, user: { uid: 1000, gid: 1000 } }, sys)).toBe('executed');
    const at = calls.indexOf('switchUser 1000 1000');
    expect(at).toBeGreaterThan(calls.indexOf('chdir /tmp'));
    expect(at).toBeLessThan(calls.indexOf('execve /usr/bin/sh'));
    const refused = fakeSystem({ call: 'switchUser', err: new SyscallError('setresuid', 'EINVAL', 'uid 1000') });
    const failure = run({ ...ORDER, user: { uid: 1000, gid: 1000 } }, refused.sys);
    expect(failure).toBeInstanceOf(StepFailure);
    expect((failure as StepFailure).step).toBe('user');
    expect((failure as StepFailure).message).toMatch(/^stage: user: setresuid \(uid 1000\): EINVAL/);
  });

  it('with a terminal, makes the command its own foreground group after the root, before exec; without one, leaves the group alone', () => {
    const withTerminal = fakeSystem();
    expect(run({ ...ORDER, foregroundTerminal: true }, withTerminal.sys)).toBe('executed');
    const at = (line: string) => withTerminal.calls.indexOf(line);
    expect(withTerminal.calls.slice(at('setpgid 0 0'), at('setpgid 0 0') + 2)).toEqual(['setpgid 0 0', 'tcsetpgrp 0']);
    expect(at('setpgid 0 0')).toBeGreaterThan(at('chdir /tmp'));
    expect(at('tcsetpgrp 0')).toBeLessThan(at('execve /usr/bin/sh'));
    const without = fakeSystem();
    run(ORDER, without.sys);
    expect(without.calls.filter((c) => /^(setpgid|tcsetpgrp)/.test(c))).toEqual([]);
    const refused = run({ ...ORDER, foregroundTerminal: true }, fakeSystem({ call: 'tcsetpgrp', err: new SyscallError('tcsetpgrp', 'ENOTTY') }).sys) as StepFailure;
    expect([refused.step, refused.exitCode]).toEqual(['terminal', 125]);
  });
});

describe("the order on fd 3", () => {
  const filter = Buffer.from(Array.from({ length: 9968 }, (_, i) => i % 251));
  const order = {
    newMountNamespace: true, newCgroupNamespace: true, argv: ['/bin/true'], env: ['PATH=/bin'], cwd: '/',
    security: { capabilities: ['CAP_KILL'], lastCap: 40, noNewPrivileges: false, seccomp: 'docker-default', seccompBpf: filter.toString('base64'), maskedPaths: [], readonlyPaths: [], readonlyRoot: false },
  } as unknown as StageOrder;

  it('carries the seccomp filter as bytes after the JSON line, and the stage gets it back whole', () => {
    const wire = encodeOrder(order);
    const line = wire.subarray(0, wire.indexOf(0x0a)).toString();
    expect(line).not.toContain(order.security!.seccompBpf!); // not as base64 inside the line
    expect(wire.length).toBe(line.length + 1 + filter.length);
    expect(decodeOrder(wire)).toStrictEqual(order);
  });

  it('is not taken before all of it has arrived, whichever read it splits at', () => {
    const wire = encodeOrder(order);
    for (const at of [0, 10, wire.indexOf(0x0a), wire.indexOf(0x0a) + 1, wire.length - 1]) expect(decodeOrder(wire.subarray(0, at)), `at ${at}`).toBeUndefined();
    const unconfined = { ...order, security: { ...order.security!, seccompBpf: undefined } } as StageOrder;
    expect(decodeOrder(encodeOrder(unconfined))).toEqual(unconfined);
  });
});
