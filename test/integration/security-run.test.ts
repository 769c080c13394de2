// Docker's defaults and flags through `containy-learn run`, as root, for real:
// runc's mask.bats and capabilities.bats cases, judged by what the kernel says
// (/proc/self/status, exit statuses, strerror texts glibc and musl share).
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cli, expectNothingLeft, hostState, isRoot, tempStateDir, warnIfNotRoot } from '../helpers/host.js';
import { DOCKER_DEFAULT_CAPABILITIES, capabilityMask, formatCapMask } from '../../src/runtime/security/capabilities.js';

warnIfNotRoot('security run integration tests');

const STATUS = 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status';
// keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1) through python3's ctypes: no keyctl(1) in the base.
const KEYCTL = `python3 -c 'import ctypes,os; n={"x86_64":250,"aarch64":219}[os.uname().machine]; l=ctypes.CDLL(None,use_errno=True); r=l.syscall(n,0,-3,1); print("keyctl", "ok" if r>=0 else os.strerror(ctypes.get_errno()))'`;
const userNamespacesAllowed = Number(fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8')) > 0;

function statusOf(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.split('\n').filter((l) => /^\w+:\t/.test(l)).map((l) => l.split(':\t')));
}

describe.skipIf(!isRoot)('containy-learn run: docker\'s security defaults and flags', () => {
  let state: string;
  let env: Record<string, string>;
  let before: ReturnType<typeof hostState>;
  const run = (args: string[]) => cli(['run', '--rm', ...args], { env });
  const sh = (flags: string[], script: string) => run([...flags, '--', 'sh', '-c', script]);

  beforeAll(async () => {
    const built = await cli(['rootfs', 'build']);
    expect(built.status, built.stderr).toBe(0);
  });
  beforeEach(() => {
    state = tempStateDir('security-run');
    env = { CONTAINY_STATE_DIR: state };
    before = hostState();
  });
  afterEach(() => expectNothingLeft(state, before));

  it("a default container: docker's 14 capabilities in every set (CapBnd 00000000a80425fb), a seccomp filter, NoNewPrivs 0", async () => {
    const r = await sh([], STATUS);
    expect(r.status, r.stderr).toBe(0);
    const status = statusOf(r.stdout);
    expect(formatCapMask(capabilityMask(DOCKER_DEFAULT_CAPABILITIES))).toBe('00000000a80425fb');
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd']) expect(status[set], set).toBe('00000000a80425fb');
    expect(status.CapAmb).toBe('0000000000000000');
    expect(status.Seccomp).toBe('2');
    expect(status.NoNewPrivs).toBe('0');
  });

  it('mask.bats: masked files read empty and a write does not reach them; masked directories are empty and read-only', async () => {
    // /proc/keys and /proc/timer_list exist on every kernel we run on; /sys/firmware is a directory.
    const r = await sh([], [
      'for f in /proc/keys /proc/timer_list; do [ -e $f ] && echo "$f $(wc -c < $f)"; done',
      'echo secret > /proc/keys; echo "$(wc -c < /proc/keys) after write"',
      'echo "firmware entries $(ls -A /sys/firmware | wc -l)"',
      'touch /sys/firmware/x 2>&1; echo "touch exit $?"',
      'grep -E " /(proc/keys|sys/firmware) " /proc/self/mountinfo | wc -l',
    ].join('; '));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('/proc/keys 0\n');
    expect(r.stdout).toContain('0 after write');
    expect(r.stdout).toContain('firmware entries 0');
    expect(r.stdout).toMatch(/Read-only file system\ntouch exit 1/);
    expect(r.stdout.trim().split('\n').pop()).toBe('2');
  });

  it('/proc/sys is read-only: root inside cannot write a sysctl back', async () => {
    const r = await sh([], 'v=$(cat /proc/sys/vm/swappiness); echo $v > /proc/sys/vm/swappiness || echo refused');
    expect(r.stdout).toContain('refused');
    expect(r.stderr).toContain('Read-only file system');
  });

  it('--privileged can write the sysctl back (the same value), and has every capability the host has', async () => {
    const r = await sh(['--privileged'], `${STATUS}; v=$(cat /proc/sys/vm/swappiness); echo $v > /proc/sys/vm/swappiness && echo "wrote $v back"`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote \d+ back/);
    const status = statusOf(r.stdout);
    const hostBounding = /^CapBnd:\t(\w+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    expect(status.CapBnd).toBe(hostBounding);
    expect(status.Seccomp).toBe('0');
    expect(r.stderr).toContain('--privileged');
  });

  it("devices: a default container may mknod a block node but not open it (EPERM from the devices cgroup / BPF program); runc's nodes work; --privileged opens it", async () => {
    // b 7:0 (loop0): a block device no rule allows. With every device allowed the open succeeds,
    // or gives ENXIO where no loop driver is loaded (the v2 guest): never EPERM.
    const script = 'mknod /tmp/blk b 7 0 && echo "mknod ok"; head -c 1 /tmp/blk > /dev/null && echo "open ok"; '
      + 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && echo "nodes ok"';
    const confined = await sh([], script);
    expect(confined.stdout).toContain('mknod ok');
    expect(confined.stdout).not.toContain('open ok');
    expect(confined.stderr).toMatch(/\/tmp\/blk.*Operation not permitted/);
    expect(confined.stdout).toContain('4\n4\nnodes ok');
    const privileged = await sh(['--privileged'], script);
    expect(privileged.stdout).toContain('mknod ok');
    expect(privileged.stderr).not.toContain('Operation not permitted');
    if (fs.existsSync('/sys/dev/block/7:0')) expect(privileged.stdout).toContain('open ok');
    expect(privileged.stdout).toContain('nodes ok');
  });

  it('capabilities.bats: --cap-drop ALL leaves 0 in every set', async () => {
    const r = await sh(['--cap-drop', 'ALL'], STATUS);
    expect(r.status, r.stderr).toBe(0);
    const status = statusOf(r.stdout);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status[set], set).toBe('0000000000000000');
  });

  it('--cap-add SYS_ADMIN lets mount -t tmpfs work; without it mount is refused', async () => {
    const script = 'mount -t tmpfs tmpfs /mnt 2>&1; echo "mount exit $?"';
    const refused = await sh([], script);
    expect(refused.stdout).not.toContain('mount exit 0');
    const allowed = await sh(['--cap-add', 'SYS_ADMIN'], `${script}; grep " /mnt " /proc/self/mountinfo | wc -l`);
    expect(allowed.stdout, allowed.stderr).toContain('mount exit 0\n1');
    const caps = await sh(['--cap-add', 'cap_sys_admin', '--cap-drop', 'NET_RAW,MKNOD'], STATUS);
    expect(statusOf(caps.stdout).CapBnd).toBe(formatCapMask(capabilityMask([...DOCKER_DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW' && c !== 'CAP_MKNOD'), 'CAP_SYS_ADMIN'])));
  });

  it('a default container\'s keyctl and unshare get EPERM from seccomp; with seccomp=unconfined they do not', async () => {
    const script = `${KEYCTL}; unshare -U true 2>&1; echo "unshare exit $?"`;
    const confined = await sh([], script);
    expect(confined.stdout).toContain('keyctl Operation not permitted');
    expect(confined.stdout).toMatch(/Operation not permitted\nunshare exit 1/);
    const open = await sh(['--security-opt', 'seccomp=unconfined'], `${STATUS}; ${script}`);
    expect(statusOf(open.stdout).Seccomp).toBe('0');
    expect(open.stdout).toContain('keyctl ok');
    if (userNamespacesAllowed) expect(open.stdout).toContain('unshare exit 0');
  });

  it('--security-opt no-new-privileges sets NoNewPrivs; --read-only makes / read-only and leaves /tmp-like mounts alone', async () => {
    const r = await sh(['--security-opt', 'no-new-privileges', '--read-only'], `${STATUS}; touch /x 2>&1; echo "touch exit $?"; echo ok > /dev/shm/y && echo shm ok`);
    expect(statusOf(r.stdout).NoNewPrivs).toBe('1');
    expect(statusOf(r.stdout).Seccomp).toBe('2');
    expect(r.stdout).toMatch(/Read-only file system\ntouch exit 1/);
    expect(r.stdout).toContain('shm ok');
  });

  it('exec enters the container\'s capabilities and filter too', async () => {
    const name = 'sec-exec-test';
    const started = cli(['run', '--rm', '--name', name, '--cap-drop', 'ALL', '--', 'sleep', '4'], { env });
    let out = { status: -1, stdout: '', stderr: '' };
    for (let i = 0; i < 50; i++) {
      out = await cli(['exec', name, '--', 'sh', '-c', STATUS], { env });
      if (out.status === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(out.status, out.stderr).toBe(0);
    expect(statusOf(out.stdout).CapBnd).toBe('0000000000000000');
    expect(statusOf(out.stdout).Seccomp).toBe('2');
    // PID 1 ignores signals it has no handler for, even SIGKILL from inside: it ends by itself.
    expect((await started).status).toBe(0);
  });

  it.each([
    [['--cap-add', 'SYS_WIZARD'], /^containy-learn: --cap-add: unknown capability 'SYS_WIZARD'/],
    [['--cap-drop', 'nope'], /^containy-learn: --cap-drop: unknown capability 'nope'/],
    [['--security-opt', 'seccomp=/nonexistent/profile.json'], /^containy-learn: --security-opt seccomp=\/nonexistent\/profile.json: cannot read the profile \(no such file\)/],
    [['--security-opt', 'bogus'], /^containy-learn: --security-opt bogus: unknown option/],
  ])('bad input %j: exit 125, one sentence naming the flag, nothing created', async (flags, message) => {
    const r = await run([...flags, '--', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an invalid profile file: exit 125 naming the file', async () => {
    const bad = path.join(state, 'bad.json');
    fs.writeFileSync(bad, '{"defaultAction": "SCMP_ACT_NOPE"}');
    const r = await run(['--security-opt', `seccomp=${bad}`, '--', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain(`--security-opt seccomp=${bad}: `);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('libseccomp that cannot be loaded: exit 125 naming libseccomp2 and seccomp=unconfined, nothing created; unconfined still runs', async () => {
    // Hidden from the CLI only: /dev/null over the library, in a mount namespace of the test's own (util-linux here is the harness, not the runtime).
    const libs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib']
      .map((d) => `${d}/libseccomp.so.2`).filter((f) => fs.existsSync(f)).map((f) => fs.realpathSync(f));
    const hide = libs.map((f) => `mount --bind /dev/null ${f}`).join('; ');
    const cliPath = path.resolve(import.meta.dirname, '../../bin/containy-learn.js');
    const inHidden = (args: string) => spawnSync('unshare', ['--mount', 'sh', '-c', `${hide}; ${process.execPath} ${cliPath} run --rm ${args}`], { encoding: 'utf8', env: { ...process.env, ...env } });
    const refused = inHidden('-- true');
    expect(refused.status).toBe(125);
    expect(refused.stderr.trim()).toBe('containy-learn: seccomp: libseccomp.so.2 cannot be loaded: install libseccomp2 (apt install libseccomp2), or run with --security-opt seccomp=unconfined');
    const open = inHidden('--security-opt seccomp=unconfined -- true');
    expect(open.status, open.stderr).toBe(0);
  });
});
