// The security building blocks for real, as root: each case applies them to a
// throwaway `node` child (capabilities and seccomp belong to the thread that
// calls execve, and no JavaScript may run after fork), which then execs a shell
// that reads the kernel's own view: /proc/self/status, and what a syscall answers.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostState, isRoot, tempStateDir, warnIfNotRoot, PACKAGE_ROOT } from '../helpers/host.js';
import { compileSecurity, type StageSecurity } from '../../src/runtime/security/compile.js';
import { defaultSecuritySpec, securitySpecFrom, type SecurityFlags } from '../../src/runtime/security/options.js';
import { allCapabilities, capabilityMask, formatCapMask } from '../../src/runtime/security/capabilities.js';

warnIfNotRoot('security integration tests');

const FIXTURES = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'security');
const PROBE = `${process.execPath} ${path.join(FIXTURES, 'syscall-probe.mjs')}`;
const STATUS = 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status';

interface Confined {
  status: Record<string, string>;
  stdout: string;
  stderr: string;
  enterMs: number;
}

/** Apply `security` in a child, then run `script` in the shell it execs. */
function confined(security: StageSecurity, script = ''): Confined {
  const r = spawnSync(process.execPath, [path.join(FIXTURES, 'apply-and-exec.mjs'), JSON.stringify(security), `${STATUS}; ${script}`], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  const status = Object.fromEntries(r.stdout.split('\n').filter((l) => /^\w+:\t/.test(l)).map((l) => l.split(':\t')));
  return { status, stdout: r.stdout, stderr: r.stderr, enterMs: Number(/enter_ms=([\d.]+)/.exec(r.stderr)?.[1]) };
}

const from = (flags: SecurityFlags) => compileSecurity(securitySpecFrom(flags));
// Unprivileged user namespaces: allowed here; where the host forbids them, unshare -U says so without seccomp too.
const userNamespacesAllowed = Number(fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8')) > 0;

describe.skipIf(!isRoot)('capabilities, seccomp and no_new_privs applied for real', () => {
  let before: ReturnType<typeof hostState>;
  let state: string;
  beforeAll(() => {
    before = hostState();
    state = tempStateDir('security'); // compileSecurity keeps its filters there
    process.env.CONTAINY_STATE_DIR = state;
  });
  afterAll(() => {
    delete process.env.CONTAINY_STATE_DIR;
    fs.rmSync(state, { recursive: true, force: true });
    expect(hostState()).toEqual(before);
  });

  it("defaults: docker's 14 capabilities in every set, ambient empty, seccomp filter on, nnp off", () => {
    const { status } = confined(compileSecurity(defaultSecuritySpec()));
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd']) expect(status[set], set).toBe('00000000a80425fb');
    expect(status.CapAmb).toBe('0000000000000000');
    expect(status.Seccomp).toBe('2');
    expect(status.NoNewPrivs).toBe('0');
  });

  it('the default profile refuses keyctl and unshare with EPERM; unconfined allows them', () => {
    const script = `${PROBE} keyctl; unshare -U true 2>&1; echo "unshare exit $?"`;
    const confinedRun = confined(compileSecurity(defaultSecuritySpec()), script);
    expect(confinedRun.stdout).toContain('keyctl EPERM');
    expect(confinedRun.stdout).toMatch(/Operation not permitted\nunshare exit 1/);
    const open = confined(from({ securityOpt: ['seccomp=unconfined'] }), script);
    expect(open.status.Seccomp).toBe('0');
    expect(open.status.CapBnd).toBe('00000000a80425fb');
    expect(open.stdout).toContain('keyctl ok');
    if (userNamespacesAllowed) expect(open.stdout).toContain('unshare exit 0');
  });

  it('--cap-drop ALL leaves no capability in any set', () => {
    const { status } = confined(from({ capDrop: ['ALL'] }));
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status[set], set).toBe('0000000000000000');
    expect(status.Seccomp).toBe('2');
  });

  it('--cap-add SYS_ADMIN: the capability, and the profile then lets unshare through', () => {
    const r = confined(from({ capAdd: ['SYS_ADMIN'] }), 'unshare --uts true; echo "unshare exit $?"');
    expect(r.status.CapBnd).toBe(formatCapMask(capabilityMask([...defaultSecuritySpec().capabilities, 'CAP_SYS_ADMIN'])));
    expect(r.stdout).toContain('unshare exit 0');
  });

  it('--security-opt no-new-privileges: NoNewPrivs 1, and the filter still goes in after the capabilities are gone', () => {
    const { status } = confined(from({ securityOpt: ['no-new-privileges'], capDrop: ['ALL'] }));
    expect(status.NoNewPrivs).toBe('1');
    expect(status.Seccomp).toBe('2');
    expect(status.CapEff).toBe('0000000000000000');
  });

  it('the order is needed: a filter after capset has dropped CAP_SYS_ADMIN, without no_new_privs, is refused (EACCES)', () => {
    const dist = path.join(PACKAGE_ROOT, 'dist', 'runtime');
    const script = `
      const libc = await import(${JSON.stringify(path.join(dist, 'libc.js'))});
      const { setCapabilitySets } = await import(${JSON.stringify(path.join(dist, 'security', 'enter.js'))});
      const security = JSON.parse(process.argv[1]);
      setCapabilitySets(security.capabilities);
      try { libc.setSeccompFilter(Buffer.from(security.seccompBpf, 'base64')); console.log('loaded'); }
      catch (err) { console.log(err.message); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(compileSecurity(defaultSecuritySpec()))], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^prctl PR_SET_SECCOMP \(\d+ BPF instructions\) failed with EACCES: loading a filter needs CAP_SYS_ADMIN or no_new_privs/);
  });

  it('a libseccomp that cannot be loaded is a UserError that names the package and the way out', () => {
    // Hidden in a mount namespace of the child's own: /dev/null bound over the library file.
    const dist = path.join(PACKAGE_ROOT, 'dist', 'runtime');
    const script = `
      const fs = await import('node:fs');
      const libc = await import(${JSON.stringify(path.join(dist, 'libc.js'))});
      const { compileSecurity } = await import(${JSON.stringify(path.join(dist, 'security', 'compile.js'))});
      const { defaultSecuritySpec, securitySpecFrom } = await import(${JSON.stringify(path.join(dist, 'security', 'options.js'))});
      libc.unshare(libc.CLONE.NEWNS);
      libc.mount(null, '/', null, libc.MS.REC | libc.MS.PRIVATE);
      for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib']) {
        const lib = dir + '/libseccomp.so.2';
        if (fs.existsSync(lib)) libc.mount('/dev/null', fs.realpathSync(lib), null, libc.MS.BIND);
      }
      console.log(JSON.stringify(compileSecurity(securitySpecFrom({ securityOpt: ['seccomp=unconfined'] }))).includes('seccompBpf'));
      try { compileSecurity(defaultSecuritySpec()); console.log('compiled'); }
      catch (err) { console.log(err.name + ': ' + err.message); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, CONTAINY_STATE_DIR: state } });
    expect(r.stdout, r.stderr).toBe('false\nUserError: seccomp: libseccomp.so.2 cannot be loaded: install libseccomp2 (apt install libseccomp2), or run with --security-opt seccomp=unconfined\n');
  });

  it('--privileged: every capability the runtime holds (this VM\'s root may lack some), no filter', () => {
    const { status } = confined(from({ privileged: true }));
    const hostBounding = BigInt(`0x${/^CapBnd:\t(\w+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]}`);
    expect(status.CapBnd).toBe(formatCapMask(capabilityMask(allCapabilities()) & hostBounding));
    expect(status.CapEff).toBe(status.CapBnd);
    expect(status.Seccomp).toBe('0');
  });

  it('measures: compiling a filter not seen before (launcher) and entering the default (stage), median of 5', () => {
    const compileMs: number[] = [];
    const enterMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      compileSecurity(securitySpecFrom({ capAdd: [`CAP_${['BPF', 'PERFMON', 'SYSLOG', 'LEASE', 'IPC_LOCK'][i]}`] })); // a spec not compiled yet
      compileMs.push(performance.now() - t);
      enterMs.push(confined(compileSecurity(defaultSecuritySpec())).enterMs);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2];
    console.log(`security timing: compile a filter not kept yet ${median(compileMs).toFixed(2)} ms (median of 5), enterSecurity ${median(enterMs).toFixed(3)} ms (median of 5); load ${os.loadavg()[0].toFixed(1)}`);
    expect(enterMs.every((ms) => Number.isFinite(ms))).toBe(true);
  });
});

describe.skipIf(!isRoot)('masked and read-only paths applied for real', () => {
  let root: string;
  let before: ReturnType<typeof hostState>;
  beforeAll(() => {
    before = hostState();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-masks-'));
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    expect(hostState()).toEqual(before);
  });

  const inMaskedRoot = (script: string) => {
    const r = spawnSync(process.execPath, [path.join(FIXTURES, 'mask-and-exec.mjs'), root, script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    return r;
  };
  // What exists on this host decides what can be checked; both lists are the host's own.
  const existing = (p: string) => fs.existsSync(p);

  it('masked files read empty, and a write does not reach them', () => {
    const files = ['/proc/keys', '/proc/timer_list', '/proc/kcore'].filter(existing);
    expect(files.length).toBeGreaterThan(0);
    const script = files.map((f) => `echo x > ${root}${f}; printf '%s bytes=%s\\n' ${f} "$(wc -c < ${root}${f})"; rm -f ${root}${f} 2>/dev/null || echo "${f} rm refused"`).join('; ');
    const r = inMaskedRoot(script);
    for (const f of files) {
      expect(r.stdout).toContain(`${f} bytes=0`);
      expect(r.stdout).toContain(`${f} rm refused`);
    }
    expect(r.stderr).toMatch(new RegExp(`masked=[^ ]*${files[0]}`));
  });

  it('masked directories are empty and read-only', () => {
    const dirs = ['/proc/acpi', '/sys/firmware', '/proc/scsi', '/proc/asound'].filter(existing);
    expect(dirs.length).toBeGreaterThan(0);
    const r = inMaskedRoot(dirs.map((d) => `echo "${d} entries=$(ls -A ${root}${d} | wc -l)"; touch ${root}${d}/x 2>/dev/null || echo "${d} write refused"`).join('; '));
    for (const d of dirs) {
      expect(r.stdout).toContain(`${d} entries=0`);
      expect(r.stdout).toContain(`${d} write refused`);
    }
  });

  it('/proc/sys is read-only (a sysctl cannot be written back) and keeps nosuid,nodev,noexec', () => {
    const knob = `${root}/proc/sys/vm/swappiness`;
    const r = inMaskedRoot(`v=$(cat ${knob}); echo "$v" > ${knob} 2>/dev/null && echo "sysctl written" || echo "sysctl refused"; grep " ${root}/proc/sys " /proc/self/mountinfo`);
    expect(r.stdout).toContain('sysctl refused');
    const options = r.stdout.split('\n').find((l) => l.includes(`${root}/proc/sys `))?.split(' ')[5].split(',') ?? [];
    expect(options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
  });
});
