// The user-namespace building blocks against the real kernel, as root: the
// single-threaded helper (helpers/nsexec.py) with the maps its parent writes,
// the kernel's own refusals of bad maps (which our validation must match),
// and an idmapped base under an overlay inside the namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CLONE } from '../../src/runtime/linux.js';
import { UserError } from '../../src/runtime/errors.js';
import { formatIdMap, validateIdMap, type IdMapping, type UsernsSpec } from '../../src/runtime/userns/idmap.js';
import { NO_HELPER_MESSAGE, spawnInUserNamespace, spawnJoiningUserNamespace, type UsernsProcess } from '../../src/runtime/userns/helper.js';
import { attachIdmappedBase } from '../../src/runtime/userns/idmapped-mount.js';
import { isRoot, mountTable, warnIfNotRoot } from '../helpers/host.js';

warnIfNotRoot('user namespace tests');

const MAP: IdMapping[] = [{ containerID: 0, hostID: 100000, size: 65536 }];
const SPEC: UsernsSpec = { uidMappings: MAP, gidMappings: MAP, user: { uid: 0, gid: 0 } };
const FLAGS = CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWNS;
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

interface Run {
  proc: UsernsProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(program: string[], spec: UsernsSpec = SPEC, extra: Partial<Parameters<typeof spawnInUserNamespace>[0]> = {}): Run {
  const proc = spawnInUserNamespace({ spec, unshareFlags: FLAGS, program, env: ENV, stdio: ['pipe', 'pipe', 'pipe'], ...extra });
  let out = '';
  let err = '';
  (proc.child.stdout as Readable).on('data', (d) => (out += d));
  (proc.child.stderr as Readable).on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.child.on('close', (code, signal) => resolve({ code, signal })));
  return { proc, stdout: () => out, stderr: () => err, exit };
}

async function waitForOutput(r: Run, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(r.stdout())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(r.stdout())}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

describe.skipIf(!isRoot)('user namespaces, for real', () => {
  let mountsBefore: string[];
  let tmp: string;

  beforeAll(() => {
    mountsBefore = mountTable();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-userns-'));
    fs.chmodSync(tmp, 0o711); // container root (host 100000) must reach the layers
  });

  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Nothing left behind: no mount on the host, not even the idmapped base.
    expect(mountTable()).toEqual(mountsBefore);
  });

  it('makes root inside host uid 100000 outside, PID 1 of its own PID namespace', async () => {
    const r = run(['/bin/sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; echo pid $$; read line; echo got $line']);
    const pid = await r.proc.pid;
    await r.proc.execd;
    await waitForOutput(r, /pid \d+\n/);
    // While it waits, the host sees the same process as the mapped ids.
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+100000\s+100000\s+100000\s+100000$/m);
    expect(status).toMatch(/^Gid:\s+100000\s+100000\s+100000\s+100000$/m);
    // Its namespaces are its own, and the user namespace owns them.
    for (const ns of ['user', 'pid', 'uts', 'mnt']) {
      const file = ns === 'pid' ? 'pid' : ns;
      expect(fs.readlinkSync(`/proc/${pid}/ns/${file}`)).not.toBe(fs.readlinkSync(`/proc/self/ns/${file}`));
    }
    (r.proc.child.stdin as Writable).end('hello\n');
    expect(await r.exit).toEqual({ code: 0, signal: null });
    const lines = r.stdout().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines.slice(0, 7)).toEqual(['0', '0', '0 100000 65536', '0 100000 65536', 'allow', 'pid 1', 'got hello']);
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('passes extra fds through the exec, keeps none itself, and relays the exit status', async () => {
    const r = run(['/bin/sh', '-c', 'echo through-fd-3 >&3; exec 3>&-; read line; exit 7'], SPEC, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    let fd3 = '';
    const control = r.proc.child.stdio[3] as Readable;
    control.on('data', (d) => (fd3 += d));
    // The stage's control fd ends when the program closes it, though the helper still waits for it.
    await new Promise((resolve) => control.on('end', resolve));
    expect(fd3).toBe('through-fd-3\n');
    (r.proc.child.stdin as Writable).end('\n');
    expect(await r.exit).toEqual({ code: 7, signal: null });
  });

  it('forwards a signal the parent sends to the container\'s PID 1', async () => {
    const r = run(['/bin/sh', '-c', "trap 'echo term; exit 3' TERM; echo ready; while :; do sleep 0.05; done"]);
    await r.proc.execd;
    await waitForOutput(r, /ready/);
    r.proc.child.kill('SIGTERM');
    expect(await r.exit).toEqual({ code: 3, signal: null });
    expect(r.stdout()).toContain('term');
  });

  it('joins a running container\'s user namespace and others (exec), as root inside', async () => {
    const box = run(['/bin/sh', '-c', 'hostname joined-box; echo up; read line']);
    const pid = await box.proc.pid;
    await waitForOutput(box, /up\n/);
    const joined = spawnJoiningUserNamespace({
      pid, joinFlags: CLONE.NEWPID | CLONE.NEWUTS, env: ENV, stdio: ['ignore', 'pipe', 'pipe'],
      program: ['/bin/sh', '-c', 'id -u; hostname; cat /proc/self/uid_map; readlink /proc/self/ns/user /proc/self/ns/pid'],
    });
    let out = '';
    (joined.child.stdout as Readable).on('data', (d) => (out += d));
    const code = await new Promise((resolve) => joined.child.on('close', resolve));
    expect(code).toBe(0);
    const lines = out.split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines.slice(0, 5)).toEqual(['0', 'joined-box', '0 100000 65536', fs.readlinkSync(`/proc/${pid}/ns/user`), fs.readlinkSync(`/proc/${pid}/ns/pid`)]);
    (box.proc.child.stdin as Writable).end('\n');
    expect((await box.exit).code).toBe(0);
  });

  it('names the step that failed: a missing program is execve ENOENT, exit 127', async () => {
    const r = run(['/nonexistent/program']);
    await expect(r.proc.execd).rejects.toThrow('userns: execve /nonexistent/program: ENOENT');
    expect((await r.exit).code).toBe(127);
  });

  it('runs a program and reads a package that root inside could not reach by their paths', async () => {
    const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-closed-')); // 0700, host root's
    try {
      fs.copyFileSync('/bin/cat', path.join(closed, 'cat'));
      fs.chmodSync(path.join(closed, 'cat'), 0o755);
      fs.mkdirSync(path.join(closed, 'pkg'));
      fs.writeFileSync(path.join(closed, 'pkg', 'file.txt'), 'read through the fd\n');
      const output = async (r: Run) => ({ code: (await r.exit).code, out: r.stdout(), err: r.stderr() });
      // By its path, the file is closed to root inside (host uid 100000): the
      // program (opened by the helper while it was host root) runs, and fails to read it.
      const byPath = await output(run([path.join(closed, 'cat'), path.join(closed, 'pkg', 'file.txt')], SPEC));
      expect(byPath.code).toBe(1);
      expect(byPath.err).toContain('Permission denied');
      // Through the package directory the helper opened, it reads.
      const byFd = await output(run([path.join(closed, 'cat'), path.join(closed, 'pkg', 'file.txt')], SPEC, { packageDir: path.join(closed, 'pkg') }));
      expect(byFd).toEqual({ code: 0, out: 'read through the fd\n', err: '' });
    } finally {
      fs.rmSync(closed, { recursive: true, force: true });
    }
  });

  it('says how to get the helper where python3 cannot be found', () => {
    expect(() => spawnInUserNamespace({ spec: SPEC, unshareFlags: FLAGS, program: ['/bin/true'], env: ENV, stdio: ['ignore', 'ignore', 'ignore'], python: '/nonexistent/python3' })).toThrow(NO_HELPER_MESSAGE);
  });

  // Each map our validation refuses, the kernel refuses too (map_write() in
  // kernel/user_namespace.c): written anyway, past validation, it is EINVAL.
  const lines341 = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 1000 + i, size: 1 }));
  const badMaps: Array<[string, IdMapping[]]> = [
    ['overlapping container ids', [{ containerID: 0, hostID: 100000, size: 10 }, { containerID: 5, hostID: 200000, size: 10 }]],
    ['overlapping host ids', [{ containerID: 0, hostID: 100000, size: 10 }, { containerID: 100, hostID: 100005, size: 10 }]],
    ['size 0', [{ containerID: 0, hostID: 100000, size: 0 }]],
    ['a range past 2^32', [{ containerID: 0, hostID: 2 ** 32 - 10, size: 10 }]],
    ['341 lines', lines341],
  ];
  for (const [what, map] of badMaps) {
    it(`refuses ${what} before anything is created, as the kernel would`, async () => {
      expect(formatIdMap(map).length).toBeLessThan(4096); // a refusal by content, not by the write's size
      expect(() => validateIdMap('--uidmap', map)).toThrow(UserError);
      const r = run(['/bin/true'], { ...SPEC, uidMappings: map });
      await expect(r.proc.execd).rejects.toThrow(/^userns: uid_map: EINVAL/);
      await r.exit;
    });
  }

  it('a map without container uid 0 leaves the helper unable to become root inside', async () => {
    const map = [{ containerID: 1, hostID: 100000, size: 65536 }];
    const r = run(['/bin/true'], { ...SPEC, gidMappings: map });
    await expect(r.proc.execd).rejects.toThrow('userns: setresgid(0): EINVAL');
    expect((await r.exit).code).toBe(125);
  });

  it('shows a base file owned by host root as container root through an idmapped overlay lower layer', async () => {
    const base = path.join(tmp, 'base');
    const view = path.join(tmp, 'base-idmapped');
    const upper = path.join(tmp, 'upper');
    const work = path.join(tmp, 'work');
    const merged = path.join(tmp, 'merged');
    for (const d of [base, view, upper, work, merged]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(base, 'owned-by-root'), 'base\n');
    // The upper layer belongs to container root, as the runtime will make it.
    for (const d of [upper, work]) fs.chownSync(d, 100000, 100000);
    const overlay = `userxattr,lowerdir=${view},upperdir=${upper},workdir=${work}`;
    const r = run(['/bin/sh', '-c', [
      'read go',
      'stat -c "plain %u" ' + path.join(base, 'owned-by-root'),
      `mount -t overlay -o ${overlay} overlay ${merged}`,
      `stat -c "overlay %u:%g" ${merged}/owned-by-root`,
      `echo new > ${merged}/made-inside`,
      `stat -c "made %u" ${merged}/made-inside`,
    ].join(' && ')]);
    const pid = await r.proc.pid;
    attachIdmappedBase(base, pid, view);
    // Attached in the container's mount namespace only.
    expect(mountTable()).toEqual(mountsBefore);
    (r.proc.child.stdin as Writable).end('go\n');
    expect(await r.exit, r.stderr()).toEqual({ code: 0, signal: null });
    // Without the idmapped mount, host root is unmapped inside: nobody (65534).
    expect(r.stdout()).toBe('plain 65534\noverlay 0:0\nmade 0\n');
    // On disk: the base is untouched, and what was written inside is host 100000's.
    expect(fs.statSync(path.join(base, 'owned-by-root')).uid).toBe(0);
    expect(fs.statSync(path.join(upper, 'made-inside')).uid).toBe(100000);
  });
});
