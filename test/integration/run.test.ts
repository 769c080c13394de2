// `containy-learn run` as a user runs it: real containers, checked from the host.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBase, cli, hostState, isRoot, PACKAGE_ROOT, tempStateDir, unreachableByOthers, useStateDir, warnIfNotRoot } from '../helpers/host.js';
import { defaultRootfs } from '../../src/runtime/paths.js';

warnIfNotRoot('run integration tests');

// The base the CLI uses: rootfs/base, or CONTAINY_ROOTFS (each base of the test matrix).
const BASE = defaultRootfs();
const NAMESPACES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts'];

describe.skipIf(!isRoot)('containy-learn run', () => {
  const ctx = useStateDir('run');
  const run = (args: string[], input?: string) => cli(['run', ...args], { env: ctx.env, input });

  beforeAll(buildBase);

  it('gives the container its own hostname and leaves the host one alone', async () => {
    // sethostname(2) needs CAP_SYS_ADMIN, which docker's default set leaves out: as in docker, ask for it.
    const r = await run(['--rm', '--cap-add', 'SYS_ADMIN', '--hostname', 'box-under-test', '--', 'sh', '-c', 'hostname; hostname renamed; hostname']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['box-under-test', 'renamed']);
    expect(os.hostname()).not.toBe('renamed');
  });

  it('runs the command as PID 1 and ps sees only the container', async () => {
    // `; true` keeps sh from exec'ing ps in its place.
    const r = await run(['--rm', '--', 'sh', '-c', 'echo $$; ps -o pid,args; true']);
    expect(r.status, r.stderr).toBe(0);
    const [pid, header, ...rows] = r.stdout.trim().split('\n');
    expect(pid).toBe('1');
    expect(header).toMatch(/PID/);
    // sh itself and the ps it forked; none of the host's hundreds of processes.
    expect(rows.map((l) => l.trim().split(/\s+/)[0])).toEqual(['1', expect.stringMatching(/^\d+$/)]);
  });

  it('has only the loopback interface', async () => {
    const r = await run(['--rm', '--', 'ls', '/sys/class/net']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split(/\s+/)).toEqual(['lo']);
    expect(fs.readdirSync('/sys/class/net').length).toBeGreaterThan(1);
  });

  it('puts the command in six new namespaces', async () => {
    const script = NAMESPACES.map((ns) => `readlink /proc/self/ns/${ns}`).join('; ');
    const r = await run(['--rm', '--', 'sh', '-c', script]);
    expect(r.status, r.stderr).toBe(0);
    const inside = r.stdout.trim().split('\n');
    const host = NAMESPACES.map((ns) => fs.readlinkSync(`/proc/self/ns/${ns}`));
    expect(inside).toHaveLength(6);
    inside.forEach((link, i) => {
      expect(link).toMatch(new RegExp(`^${NAMESPACES[i]}:\\[\\d+\\]$`));
      expect(link).not.toBe(host[i]);
    });
  });

  it('honours --ns: only the chosen namespaces are new', async () => {
    const r = await run(['--rm', '--ns', 'mnt,uts', '--', 'sh', '-c', 'readlink /proc/self/ns/net; readlink /proc/self/ns/uts']);
    expect(r.status, r.stderr).toBe(0);
    const [net, uts] = r.stdout.trim().split('\n');
    expect(net).toBe(fs.readlinkSync('/proc/self/ns/net'));
    expect(uts).not.toBe(fs.readlinkSync('/proc/self/ns/uts'));
  });

  it('writes land in the upper dir, the base stays untouched, deletes become whiteouts', async () => {
    const r = await run(['--name', 'layers', '--', 'sh', '-c', 'echo hello > /written.txt; rm /etc/hostname; cat /written.txt']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('hello');
    const upper = path.join(ctx.state, 'containers', 'layers', 'upper');
    expect(fs.readFileSync(path.join(upper, 'written.txt'), 'utf8')).toBe('hello\n');
    expect(fs.existsSync(path.join(BASE, 'written.txt'))).toBe(false);
    expect(fs.existsSync(path.join(BASE, 'etc', 'hostname'))).toBe(true);
    const whiteout = fs.lstatSync(path.join(upper, 'etc', 'hostname'));
    expect(whiteout.isCharacterDevice()).toBe(true);
    expect(whiteout.rdev).toBe(0);
  });

  it('keeps a named container\'s changes across runs, and --rm drops them', async () => {
    expect((await run(['--name', 'keeper', '--', 'sh', '-c', 'echo 1 > /counter'])).status).toBe(0);
    const again = await run(['--name', 'keeper', '--', 'cat', '/counter']);
    expect(again.stdout.trim()).toBe('1');
    const fresh = await run(['--rm', '--name', 'keeper', '--', 'sh', '-c', 'echo 2 > /counter; cat /counter']);
    expect(fresh.stdout.trim()).toBe('2');
    // The --rm run worked on a scratch layer: the stored container still holds 1.
    expect((await run(['--name', 'keeper', '--', 'cat', '/counter'])).stdout.trim()).toBe('1');
    const unnamed = await run(['--', 'sh', '-c', 'echo x > /tmp-file']);
    expect(unnamed.status).toBe(0);
    expect(fs.readdirSync(path.join(ctx.state, 'containers'))).toEqual(['keeper']);
  });

  it.each([
    [0, ['true']],
    [3, ['sh', '-c', 'exit 3']],
    [126, ['/etc/passwd']],
    [127, ['no-such-command']],
  ])('exits with %i like docker', async (status, argv) => {
    const r = await run(['--rm', '--', ...argv]);
    expect(r.status).toBe(status);
    if (status === 127) expect(r.stderr).toContain('no-such-command');
    if (status === 126) expect(r.stderr).toContain('/etc/passwd');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('mounts /proc for its own PID namespace, /sys read-only, a minimal /dev, and /cgroups_example read-only', async () => {
    const r = await run(['--rm', '--', 'sh', '-c', 'echo /proc/[0-9]*; ls /dev; touch /sys/x 2>&1; touch /cgroups_example/x 2>&1; ls /cgroups_example']);
    expect(r.status).not.toBe(125);
    const out = r.stdout;
    expect(out.split('\n')[0]).toBe('/proc/1'); // only sh itself: not the host's processes
    for (const dev of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm']) expect(out).toContain(dev);
    expect(out).toMatch(/Read-only file system[\s\S]*Read-only file system/);
    expect(out).toContain('mem.py');
  });

  it('runs python3 and the cgroups examples inside', async () => {
    const r = await run(['--rm', '--', 'python3', '-c', 'import os, sys; print(os.getpid(), sys.version_info[0])']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('1 3');
  });

  it('chroot (--no-pivot) can be escaped by root; pivot_root cannot', async () => {
    // The classic escape: chroot into a subdirectory, then climb out with "..".
    const escape = [
      'python3', '-c',
      "import os\nos.makedirs('/jail', exist_ok=True)\nos.chroot('/jail')\nfor _ in range(64): os.chdir('..')\nos.chroot('.')\nprint(os.path.exists(" + JSON.stringify(path.join(PACKAGE_ROOT, 'package.json')) + "))",
    ];
    const chrooted = await run(['--rm', '--no-pivot', '--', ...escape]);
    const pivoted = await run(['--rm', '--', ...escape]);
    expect(chrooted.stdout.trim(), chrooted.stderr).toBe('True');
    expect(pivoted.stdout.trim(), pivoted.stderr).toBe('False');
  });

  it('exits 128+9 when the container is killed from the host', async () => {
    const running = cli(['run', '--name', 'victim', '--', 'sleep', '60'], { env: ctx.env });
    let pid: number | undefined;
    for (let i = 0; i < 100 && !pid; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        pid = JSON.parse(fs.readFileSync(path.join(ctx.state, 'run', 'victim.json'), 'utf8')).pid;
      } catch {
        // not written yet
      }
    }
    await new Promise((r) => setTimeout(r, 200)); // let it exec
    process.kill(pid!, 'SIGKILL');
    const r = await running;
    expect(r.status).toBe(137);
    fs.rmSync(path.join(ctx.state, 'containers'), { recursive: true });
  });

  it('builds the base rootfs on first use when it is missing', async () => {
    const rootfs = path.join(ctx.state, 'fresh-rootfs');
    const r = await cli(['run', '--rm', '--', 'sh', '-c', 'echo built'], { env: { ...ctx.env, CONTAINY_ROOTFS: rootfs } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/base rootfs is missing; building it/);
    expect(r.stdout.trim()).toBe('built');
    expect(fs.existsSync(path.join(rootfs, 'etc', 'containy-rootfs.json'))).toBe(true);
  });

  it('passes stdin through', async () => {
    const r = await run(['--rm', '--', 'sh', '-c', 'read line; echo "got $line"'], 'hello\n');
    expect(r.stdout.trim()).toBe('got hello');
  });
});

describe.skipIf(!isRoot)('containy-learn run: bad input', () => {
  let state: string;
  let before: ReturnType<typeof hostState>;
  let bundle: string;

  beforeEach(() => {
    state = tempStateDir('badinput');
    bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-bundle-'));
    before = hostState();
  });

  afterEach(() => {
    const after = hostState();
    // run/ holds the records; seccomp/ the compiled filters a good run keeps for the next (security/compile.ts).
    const created = fs.readdirSync(state).filter((d) => d !== 'run' && d !== 'seccomp');
    fs.rmSync(state, { recursive: true, force: true });
    fs.rmSync(bundle, { recursive: true, force: true });
    expect(after).toEqual(before);
    // Nothing was created for a refused container.
    expect(created).toEqual([]);
  });

  const runBundle = (config: string) => {
    fs.writeFileSync(path.join(bundle, 'configy.json'), config);
    return cli(['run', '--bundle', bundle], { env: { CONTAINY_STATE_DIR: state } });
  };

  it.each([
    ['not JSON', '{"cmd": ', /not valid JSON/],
    ['an unknown namespace', '{"cmd": {"command": "sh"}, "isolation": {"namespaces": ["pid", "nope"]}}', /isolation\.namespaces\[1\].*unknown namespace 'nope'/],
    ['a wrong type', '{"cmd": {"command": 42}}', /cmd\.command.*expected a non-empty string/],
    ['a missing command', '{"version": "v1"}', /cmd: missing/],
    ['a wrong namespaces type', '{"cmd": "sh", "isolation": {"namespaces": "pid"}}', /isolation\.namespaces: expected a list/],
    ['a bad cgroup entry', '{"cmd": "sh", "isolation": {"cgroups": [{"type": "memory", "resource": "memory.maxx", "value": "1"}]}}', /isolation\.cgroups\[0\]/],
  ])('refuses %s in configy.json with 125 and names the field', async (_what, config, message) => {
    const r = await runBundle(config);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('runs a good bundle, as containy would', async () => {
    const r = await runBundle(JSON.stringify({
      version: 'v1', containerName: 'bundled',
      cmd: { command: '/bin/sh', cmd_argv: "-c 'hostname; echo $$'" },
      isolation: { namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'], cgroups: [] },
    }));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['bundled', '1']);
    fs.rmSync(path.join(state, 'containers'), { recursive: true });
  });

  it.each([
    [['--memory', '-5'], /--memory/],
    [['--pids-limit', '0'], /--pids-limit.*from 1/],
    [['--cpus', '0'], /--cpus/],
    [['--ns', 'pid,bogus'], /unknown namespace 'bogus'/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--rootfs', '/nonexistent-containy'], /does not exist/],
    [[], /no configy\.json/],
  ])('refuses run %j with 125 and one line', async (args, message) => {
    const r = await cli(['run', ...args, ...(args.length ? ['--', 'true'] : [])], { env: { CONTAINY_STATE_DIR: state } });
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  // The unprivileged user must reach the CLI to be told: a clone under /root or a 0700
  // mktemp dir is out of its reach, and node would fail before our code runs.
  const unreachable = unreachableByOthers();
  if (unreachable) console.warn(`skipping 'says sudo is needed when not root': ${unreachable}`);
  it.skipIf(Boolean(unreachable))('says sudo is needed when not root', async () => {
    const r = await cli(['run', '--rm', '--', 'true'], { uid: 65534, env: { CONTAINY_STATE_DIR: state } });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/root.*sudo/);
  });
});

// A failure in a start step names the step, from the kernel's real refusal.
describe.skipIf(!isRoot)('a failed start step names its step', () => {
  let state: string;
  let before: ReturnType<typeof hostState>;
  const previousState = process.env.CONTAINY_STATE_DIR;

  beforeEach(() => {
    state = tempStateDir('steps');
    process.env.CONTAINY_STATE_DIR = state;
    before = hostState();
  });

  afterEach(() => {
    if (previousState === undefined) delete process.env.CONTAINY_STATE_DIR;
    else process.env.CONTAINY_STATE_DIR = previousState;
    const records = fs.readdirSync(path.join(state, 'run'));
    fs.rmSync(state, { recursive: true, force: true });
    expect(hostState()).toEqual(before);
    expect(records).toEqual([]);
  });

  it('pivot_root of a root that is not a mount point (rootMountPoint: as-given): EINVAL, step pivot_root', async () => {
    const { runOnce } = await import('../../src/runtime/index.js');
    const r = await runOnce({ argv: ['true'], rootfs: BASE, overlay: false, rootMountPoint: 'as-given' });
    expect(r.status).toBe(125);
    expect(r.failedStep).toBe('pivot_root');
    expect(r.error).toMatch(/^stage: pivot_root: EINVAL: the new root must be a mount point/);
  });

  it('the same root, bound onto itself (the default), starts', async () => {
    const { runOnce } = await import('../../src/runtime/index.js');
    const r = await runOnce({ argv: ['sh', '-c', 'echo $$'], rootfs: BASE, overlay: false });
    expect(r.error).toBeUndefined();
    expect(r.stdout.trim()).toBe('1');
  });

  it('a bind into /sys, where no mount point can be made: step binds, from the CLI too', async () => {
    const { runOnce } = await import('../../src/runtime/index.js');
    const r = await runOnce({ argv: ['true'], binds: [{ source: '/etc', target: '/sys/containy-test', readonly: true }] });
    expect(r.failedStep).toBe('binds');
    // sysfs answers ENOENT (it makes no directories on request), a read-only mount EROFS: the step is what counts.
    expect(r.error).toMatch(/^stage: binds: mkdir .*\/merged\/sys\/containy-test: E[A-Z]+: /);
    const viaCli = await cli(['run', '--rm', '-v', '/etc:/sys/containy-test', '--', 'true'], { env: { CONTAINY_STATE_DIR: state } });
    expect(viaCli.status).toBe(125);
    expect(viaCli.stderr).toMatch(/^containy-learn: stage: binds: mkdir .*\/sys\/containy-test: E[A-Z]+: /);
    expect(viaCli.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a volume the CLI was asked for is bound, read-only with :ro', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-volume-'));
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'from the host\n');
    try {
      const r = await cli(['run', '--rm', '-v', `${dir}:/data:ro`, '--', 'sh', '-c', 'cat /data/hello.txt; touch /data/x 2>&1; ls /cgroups_example'], { env: { CONTAINY_STATE_DIR: state } });
      expect(r.stdout).toContain('from the host');
      expect(r.stdout).toContain('Read-only file system');
      expect(r.stdout).toContain('mem.py'); // the demos are still there
      expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
