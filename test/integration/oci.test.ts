// OCI bundles beside runc (root). runc comes from CONTAINY_TEST_RUNC (the
// path of a runc binary, e.g. Debian's runc unpacked with dpkg-deb -x; the
// test driver fetches it into .cache/): without it the comparisons are skipped.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli, hostState, isRoot, tempStateDir, warnIfNotRoot, PACKAGE_ROOT } from '../helpers/host.js';
import { defaultRootfs } from '../../src/runtime/paths.js';

warnIfNotRoot('the OCI bundle integration tests');
const RUNC = process.env.CONTAINY_TEST_RUNC;
const runcUsable = RUNC !== undefined && fs.existsSync(RUNC);
if (!runcUsable) console.warn(`OCI tests: CONTAINY_TEST_RUNC is ${RUNC === undefined ? 'not set' : `${RUNC}, which does not exist`}: the comparisons with runc are skipped (set it to a runc binary, e.g. from \`apt-get download runc; dpkg-deb -x runc_*.deb DIR\`)`);
// The base the CLI uses: rootfs/base, or CONTAINY_ROOTFS (each base of the test matrix).
const BASE = defaultRootfs();

function runc(args: string[], input = '') {
  const r = spawnSync(RUNC!, args, { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!isRoot)('OCI bundles', () => {
  let work: string;
  let state: string;
  let env: Record<string, string>;
  let before: ReturnType<typeof hostState>;

  beforeAll(async () => {
    const built = await cli(['rootfs', 'build']);
    expect(built.status, built.stderr).toBe(0);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-oci-test-'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  beforeEach(() => {
    state = tempStateDir('oci');
    env = { CONTAINY_STATE_DIR: state };
    before = hostState();
  });
  afterEach(() => {
    fs.rmSync(state, { recursive: true, force: true });
    expect(hostState()).toEqual(before);
  });

  /** A bundle as a learner makes one: `spec` (ours or runc's), then root, args, env, cwd and hostname set. */
  function bundle(name: string, makeSpec: (dir: string) => void, args: string[]): string {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    makeSpec(dir);
    fs.cpSync(BASE, path.join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    config.process.terminal = false; // pipes: runc run fails without a tty otherwise, and so do we
    config.process.args = args;
    config.process.env.push('GREETING=hello');
    config.process.cwd = '/etc';
    config.hostname = 'box';
    // Its capabilities, maskedPaths and readonlyPaths stay as `spec` wrote them.
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return dir;
  }

  // The defences, as the kernel shows them: the capability sets, no_new_privs and seccomp
  // (/proc/self/status), a masked file (/proc/timer_list reads as /dev/null) and directory (an
  // empty tmpfs), a read-only /proc/sys.
  const DEFENCES = 'grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status; echo "timer_list: $(wc -c < /proc/timer_list)"; echo "firmware: $(ls /sys/firmware | wc -l)"; '
    + '(echo box > /proc/sys/kernel/domainname) 2>/dev/null && echo "/proc/sys written" || echo "/proc/sys read-only"';
  const PROBE = ['sh', '-c', `echo "$GREETING"; hostname; pwd; env | sort; id -u; ls /; grep "open files" /proc/self/limits; ${DEFENCES}; echo $$; touch /written 2>/dev/null || echo read-only root; exit 3`];

  it.skipIf(!runcUsable)('spec writes what runc spec writes', async () => {
    const ours = path.join(work, 'spec-ours');
    const theirs = path.join(work, 'spec-runc');
    fs.mkdirSync(ours);
    fs.mkdirSync(theirs);
    expect((await cli(['spec', '--bundle', ours])).status).toBe(0);
    expect(runc(['spec', '--bundle', theirs]).status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(ours, 'config.json'), 'utf8'))).toEqual(JSON.parse(fs.readFileSync(path.join(theirs, 'config.json'), 'utf8')));
    const again = await cli(['spec', '--bundle', ours]);
    expect([again.status, again.stderr]).toEqual([125, expect.stringContaining('exists: remove it first')]);
  });

  it.skipIf(!runcUsable)('a bundle made by runc spec prints exactly what runc run prints, with the same exit status', async () => {
    const dir = bundle('parity', (d) => expect(runc(['spec', '--bundle', d]).status).toBe(0), PROBE);
    const theirs = runc(['run', '--bundle', dir, `containy-test-${process.pid}`]);
    const ours = await cli(['run', '--bundle', dir], { env });
    expect(ours.stdout).toContain('hello\nbox\n/etc\n');
    expect(ours.stdout).toContain('read-only root');
    // runc spec's three capabilities; its ambient set is not raised (no inheritable set), by either.
    for (const line of ['CapInh:\t0000000000000000', 'CapPrm:\t0000000020000420', 'CapEff:\t0000000020000420', 'CapBnd:\t0000000020000420', 'CapAmb:\t0000000000000000', 'NoNewPrivs:\t1', 'Seccomp:\t0', 'timer_list: 0', 'firmware: 0', '/proc/sys read-only']) {
      expect(ours.stdout).toContain(`${line}\n`);
    }
    expect(ours.stdout).toBe(theirs.stdout);
    expect([ours.status, theirs.status]).toEqual([3, 3]);
    // Both carry on without the ambient capabilities the kernel will not raise; we say so.
    expect(ours.stderr).toContain('process.capabilities.ambient: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE not both permitted and inheritable');
  });

  it.skipIf(!runcUsable)('a bundle with its own capability sets, paths and an unknown capability name runs as runc runs it', async () => {
    const dir = bundle('sets', (d) => expect(runc(['spec', '--bundle', d]).status).toBe(0), ['sh', '-c', `${DEFENCES}; exit 5`]);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const some = ['CAP_CHOWN', 'CAP_KILL', 'CAP_SETPCAP'];
    config.process.capabilities = {
      bounding: [...some, 'CAP_NET_RAW', 'CAP_NO_SUCH'], permitted: [...some, 'CAP_SYS_ADMIN'], effective: some, inheritable: ['CAP_KILL'], ambient: ['CAP_KILL', 'CAP_CHOWN'],
    };
    config.linux.maskedPaths = ['/proc/timer_list', '/etc/hostname'];
    config.linux.readonlyPaths = [];
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const theirs = runc(['run', '--bundle', dir, `containy-sets-${process.pid}`]);
    const ours = await cli(['run', '--bundle', dir], { env });
    expect(theirs.stderr).toMatch(/ignoring unknown or unavailable capabilities: \[CAP_NO_SUCH\]/);
    expect(ours.stderr).toContain('process.capabilities: ignoring unknown or unavailable capabilities: CAP_NO_SUCH');
    // After execve as root: permitted = effective = (bounding | inheritable), but no_new_privs (runc
    // spec's noNewPrivileges) keeps it within the permitted set before (no CAP_NET_RAW); ambient
    // only CAP_KILL, the one both permitted and inheritable.
    expect(ours.stdout).toContain('CapInh:\t0000000000000020\nCapPrm:\t0000000000000121\nCapEff:\t0000000000000121\nCapBnd:\t0000000000002121\nCapAmb:\t0000000000000020\n');
    expect(ours.stdout).toContain('/proc/sys written'); // no readonlyPaths: none
    expect(ours.stdout).toBe(theirs.stdout);
    expect([ours.status, theirs.status]).toEqual([5, 5]);
  });

  it.skipIf(!runcUsable)('export writes a bundle runc runs, and we run it the same', async () => {
    const dir = path.join(work, 'exported');
    const out = await cli(['export', 'base', dir], { env });
    expect(out.status, out.stderr).toBe(0);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    // The security a container of the image gets with `run --image`: docker's.
    expect(config.process.capabilities.bounding).toHaveLength(14);
    expect(config.linux.maskedPaths).toContain('/proc/kcore');
    expect(config.linux.readonlyPaths).toContain('/proc/sys');
    config.process.args = ['sh', '-c', `cat /etc/hostname 2>/dev/null; hostname; ls /bin/sh; ${DEFENCES}; exit 7`];
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const theirs = runc(['run', '--bundle', dir, `containy-export-${process.pid}`]);
    expect(theirs.stderr).toBe('');
    expect(theirs.stdout).toContain('runc\n/bin/sh\n');
    expect(theirs.status).toBe(7);
    const ours = await cli(['run', '--bundle', dir], { env });
    expect([ours.stdout, ours.status]).toEqual([theirs.stdout, 7]);
    // The same defences as `run --image base` (seccomp aside: linux.seccomp is not written).
    const image = await cli(['run', '--rm', '--image', 'base', '--', 'sh', '-c', DEFENCES], { env });
    const defences = (out: string) => out.split('\n').filter((l) => /^(Cap|timer_list|firmware|\/proc\/sys)/.test(l));
    expect(defences(image.stdout)).toContain('CapBnd:\t00000000a80425fb');
    expect(defences(ours.stdout)).toEqual(defences(image.stdout));
  });

  it('runs a bundle from our own spec without runc, and refuses what it does not implement by JSON path', async () => {
    const dir = bundle('ours', (d) => expect(spawnSync(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'containy-learn.js'), 'spec', '-b', d]).status).toBe(0), PROBE);
    const ours = await cli(['run', '--bundle', dir], { env });
    expect(ours.stdout).toMatch(/^hello\nbox\n\/etc\nGREETING=hello\nHOME=\/root\nPATH=[^\n]+\nPWD=\/etc\nTERM=xterm\n0\n/);
    expect(ours.stdout).toContain('Max open files            1024                 1024');
    expect(ours.stdout).toContain('CapBnd:\t0000000020000420\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t0\ntimer_list: 0\nfirmware: 0\n/proc/sys read-only\n1\nread-only root\n');
    expect(ours.status).toBe(3);

    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.symlinkSync('/etc', path.join(dir, 'rootfs', 'to-etc')); // followed before pivot_root, it would lead to the host's /etc
    const refusals: Array<[(c: Record<string, any>) => void, RegExp]> = [
      [(c) => (c.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'] }), /^containy-learn: config\.json: process\.capabilities\.effective: CAP_KILL is not in permitted: capset\(2\) refuses/],
      [(c) => (c.process.capabilities = { bounding: [], inheritable: ['CAP_KILL'] }), /^containy-learn: config\.json: process\.capabilities\.inheritable: CAP_KILL is not in bounding/],
      [(c) => (c.process.capabilities = { bounding: 'CAP_KILL' }), /^containy-learn: config\.json: process\.capabilities\.bounding: expected a list of strings/],
      [(c) => (c.process.capabilities = { all: ['CAP_KILL'] }), /^containy-learn: config\.json: process\.capabilities\.all: containy-learn does not implement this field/],
      [(c) => (c.linux.maskedPaths = ['proc/kcore']), /^containy-learn: config\.json: linux\.maskedPaths\[0\]: 'proc\/kcore' is not absolute/],
      [(c) => (c.linux.readonlyPaths = ['/proc/sys', '/to-etc/passwd']), /^containy-learn: config\.json: linux\.readonlyPaths\[1\]: \/to-etc in the root filesystem is a symlink/],
      [(c) => (c.linux.seccomp = {}), /^containy-learn: config\.json: linux\.seccomp: containy-learn does not implement this field; remove it/],
      [(c) => (c.process.user = { uid: 1000, gid: 0 }), /^containy-learn: config\.json: process\.user\.uid: 1000 is not 0/],
      [(c) => (c.mounts = [...c.mounts, { destination: '/x', type: 'nfs', source: 'srv:/x' }]), /^containy-learn: config\.json: mounts\[7\]\.type: mounts of type 'nfs' are not implemented/],
      [(c) => (c.linux.namespaces = [...c.linux.namespaces, { type: 'user' }]), /^containy-learn: config\.json: linux\.namespaces\[\d\]\.type: an OCI bundle's user namespace \(with linux\.uidMappings\) is not read yet/],
      [(c) => (c.process.terminal = true), /^containy-learn: config\.json: process\.terminal: true, but stdin is not a terminal/],
      [(c) => (c.hooks = { prestart: [] }), /^containy-learn: config\.json: hooks: containy-learn does not implement/],
    ];
    for (const [change, message] of refusals) {
      const bad = structuredClone(config);
      change(bad);
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(bad));
      const r = await cli(['run', '--bundle', dir], { env });
      expect(r.status, String(message)).toBe(125);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(message); // after the warnings, if any
      const runDir = path.join(state, 'run');
      expect(fs.existsSync(runDir) ? fs.readdirSync(runDir) : []).toEqual([]);
    }
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const flagged = await cli(['run', '--cap-add', 'SYS_ADMIN', '--bundle', dir], { env });
    expect([flagged.status, flagged.stderr.trim().split('\n').at(-1)]).toEqual([125, expect.stringMatching(/^containy-learn: run --bundle: --cap-add does not apply to an OCI bundle, whose config\.json says the container's security/)]);
  });
});
