// Capability names and masks, docker's cap-add/cap-drop rules, run's security
// flags, and docker seccomp profiles: parsing, resolution, compilation to BPF.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allCapabilities, CAPABILITY_NAMES, capabilityMask, capabilityNumber, computeCapabilities, decodeCapMask,
  DOCKER_DEFAULT_CAPABILITIES, formatCapMask, parseCapabilityName,
} from '../../src/runtime/security/capabilities.js';
import { DOCKER_DEFAULT_SECCOMP } from '../../src/runtime/security/default-profile.js';
import { defaultSecuritySpec, securitySpecFrom } from '../../src/runtime/security/options.js';
import { kernelAtLeast, parseSeccompProfile, readSeccompProfile, resolveProfile, type SeccompProfile } from '../../src/runtime/security/profile.js';
import { compileSeccompFilter } from '../../src/runtime/security/seccomp.js';
import { compileSecurity } from '../../src/runtime/security/compile.js';
import { ociSeccomp } from '../../src/runtime/oci.js';
import { userError } from '../helpers/user-error.js';

const AMD64 = { seccomp: 'SCMP_ARCH_X86_64', go: 'amd64' } as const;
const ARM64 = { seccomp: 'SCMP_ARCH_AARCH64', go: 'arm64' } as const;

describe('capability table', () => {
  it('numbers capabilities as linux/capability.h does', () => {
    expect(CAPABILITY_NAMES).toHaveLength(41);
    expect(capabilityNumber('CAP_CHOWN')).toBe(0);
    expect(capabilityNumber('CAP_SETPCAP')).toBe(8);
    expect(capabilityNumber('CAP_SYS_ADMIN')).toBe(21);
    expect(capabilityNumber('CAP_AUDIT_WRITE')).toBe(29);
    expect(capabilityNumber('CAP_SETFCAP')).toBe(31);
    expect(capabilityNumber('CAP_CHECKPOINT_RESTORE')).toBe(40);
  });

  it("gives docker's default set the CapBnd docker containers show", () => {
    expect(DOCKER_DEFAULT_CAPABILITIES).toHaveLength(14);
    expect(formatCapMask(capabilityMask(DOCKER_DEFAULT_CAPABILITIES))).toBe('00000000a80425fb');
  });

  it('decodes /proc/PID/status masks to names, in number order', () => {
    expect(decodeCapMask('00000000a80425fb')).toEqual([...DOCKER_DEFAULT_CAPABILITIES].sort((a, b) => capabilityNumber(a) - capabilityNumber(b)));
    expect(decodeCapMask('000001ffffffffff')).toEqual([...CAPABILITY_NAMES]);
    expect(decodeCapMask('0000000000000000')).toEqual([]);
    expect(decodeCapMask('0000200000200000')).toEqual(['CAP_SYS_ADMIN', 'cap_45']);
    expect(userError(() => decodeCapMask('xyz'))).toMatch(/not a capability mask: 'xyz'/);
  });

  it('reads names as docker does: any case, CAP_ optional, ALL', () => {
    for (const raw of ['net_admin', 'NET_ADMIN', 'cap_net_admin', 'CAP_NET_ADMIN', ' Net_Admin ']) expect(parseCapabilityName(raw, '--cap-add')).toBe('CAP_NET_ADMIN');
    expect(parseCapabilityName('all', '--cap-drop')).toBe('ALL');
    const message = userError(() => parseCapabilityName('SYS_ADMN', '--cap-add'));
    expect(message).toContain('--cap-add');
    expect(message).toContain("'SYS_ADMN'");
  });
});

describe("docker's cap-add / cap-drop rules", () => {
  const sorted = (names: string[]) => [...names].sort((a, b) => capabilityNumber(a as never) - capabilityNumber(b as never));

  it('starts from the defaults, drops, then adds', () => {
    expect(computeCapabilities({}, 40)).toEqual(sorted([...DOCKER_DEFAULT_CAPABILITIES]));
    const caps = computeCapabilities({ add: ['sys_admin'], drop: ['chown', 'CAP_NET_RAW'] }, 40);
    expect(caps).toContain('CAP_SYS_ADMIN');
    expect(caps).not.toContain('CAP_CHOWN');
    expect(caps).not.toContain('CAP_NET_RAW');
    expect(caps).toHaveLength(13);
  });

  it('--cap-drop ALL leaves only what --cap-add names', () => {
    expect(computeCapabilities({ drop: ['ALL'] }, 40)).toEqual([]);
    expect(computeCapabilities({ drop: ['all'], add: ['SYS_ADMIN', 'chown'] }, 40)).toEqual(['CAP_CHOWN', 'CAP_SYS_ADMIN']);
  });

  it('--cap-add ALL wins over --cap-drop ALL and keeps everything but the named drops', () => {
    const caps = computeCapabilities({ add: ['ALL'], drop: ['NET_RAW'] }, 40);
    expect(caps).toHaveLength(40);
    expect(caps).not.toContain('CAP_NET_RAW');
    expect(computeCapabilities({ add: ['ALL'], drop: ['ALL'] }, 40)).toHaveLength(41);
  });

  it('--privileged is every capability the kernel knows', () => {
    expect(computeCapabilities({ privileged: true, drop: ['ALL'] }, 40)).toEqual([...CAPABILITY_NAMES]);
    expect(computeCapabilities({ privileged: true }, 38)).toEqual(allCapabilities(38));
    expect(computeCapabilities({ add: ['BPF'] }, 38)).not.toContain('CAP_BPF');
  });

  it('names the flag and the name it does not know', () => {
    expect(userError(() => computeCapabilities({ drop: ['CAP_NOPE'] }))).toMatch(/^--cap-drop: unknown capability 'CAP_NOPE'/);
  });
});

describe('run security flags', () => {
  it("defaults to docker's: 14 caps, docker's seccomp, masked and read-only /proc, nnp off", () => {
    const spec = defaultSecuritySpec();
    expect(formatCapMask(capabilityMask(spec.capabilities))).toBe('00000000a80425fb');
    expect(spec.seccomp).toEqual({ kind: 'docker-default' });
    expect(spec.noNewPrivileges).toBe(false);
    expect(spec.maskedPaths).toContain('/proc/kcore');
    expect(spec.readonlyPaths).toContain('/proc/sys');
    expect(spec.readonlyRoot).toBe(false);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  it('--privileged gives everything back', () => {
    const spec = securitySpecFrom({ privileged: true, securityOpt: ['seccomp=unconfined'] });
    expect(spec.capabilities).toHaveLength(allCapabilities().length);
    expect(spec.seccomp).toEqual({ kind: 'unconfined' });
    expect(spec.maskedPaths).toEqual([]);
    expect(spec.readonlyPaths).toEqual([]);
  });

  it('reads --security-opt as docker does', () => {
    expect(securitySpecFrom({ securityOpt: ['no-new-privileges'] }).noNewPrivileges).toBe(true);
    expect(securitySpecFrom({ securityOpt: ['no-new-privileges:true'] }).noNewPrivileges).toBe(true);
    expect(securitySpecFrom({ securityOpt: ['no-new-privileges=false'] }).noNewPrivileges).toBe(false);
    expect(securitySpecFrom({ securityOpt: ['seccomp=unconfined'] }).seccomp).toEqual({ kind: 'unconfined' });
    expect(securitySpecFrom({ securityOpt: ['seccomp:unconfined'] }).seccomp).toEqual({ kind: 'unconfined' });
    const profile: SeccompProfile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] };
    expect(securitySpecFrom({ securityOpt: ['seccomp=/x.json'] }, (file) => (expect(file).toBe('/x.json'), profile)).seccomp).toEqual({ kind: 'profile', file: '/x.json', profile });
    expect(securitySpecFrom({ readOnly: true }).readonlyRoot).toBe(true);
    const open = securitySpecFrom({ securityOpt: ['systempaths=unconfined'] });
    expect([open.maskedPaths, open.readonlyPaths, open.seccomp.kind]).toEqual([[], [], 'docker-default']);
  });

  it('refuses what it does not understand, naming the option', () => {
    expect(userError(() => securitySpecFrom({ securityOpt: ['no-new-privileges:maybe'] }))).toMatch(/^--security-opt no-new-privileges:maybe: expected true or false/);
    expect(userError(() => securitySpecFrom({ securityOpt: ['seccomp='] }))).toMatch(/^--security-opt seccomp=: give seccomp=unconfined/);
    expect(userError(() => securitySpecFrom({ securityOpt: ['selinux=off'] }))).toMatch(/^--security-opt selinux=off: unknown option/);
    expect(userError(() => securitySpecFrom({ securityOpt: ['systempaths=open'] }))).toMatch(/^--security-opt systempaths=open: the only value is systempaths=unconfined/);
    expect(userError(() => securitySpecFrom({ capAdd: ['SYS_ADMN'] }))).toMatch(/^--cap-add: unknown capability 'SYS_ADMN'/);
  });
});

describe('seccomp profiles in docker JSON', () => {
  it('names the file and the JSON path of what is wrong', () => {
    const bad = (v: unknown) => userError(() => parseSeccompProfile(JSON.stringify(v), 'p.json'));
    expect(bad({ defaultAction: 'SCMP_ACT_NOPE' })).toMatch(/^--security-opt seccomp=p\.json: \$\.defaultAction: expected one of SCMP_ACT_KILL/);
    expect(bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['x'], action: 'ALLOW' }] })).toContain('$.syscalls[1].action');
    expect(bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 9, value: 1, op: 'SCMP_CMP_EQ' }] }] })).toContain('$.syscalls[0].args[1].index');
    expect(bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_NOPE'] } }] })).toContain('$.syscalls[0].includes.caps[0]');
    expect(bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', names: ['read'], action: 'SCMP_ACT_ALLOW' }] })).toContain("$.syscalls[0]: give either 'name' or 'names'");
    expect(bad({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], archMap: [] })).toContain("either 'archMap' or 'architectures'");
    expect(bad({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_Z80'] })).toContain('$.architectures[0]');
    expect(userError(() => parseSeccompProfile('{"defaultAction":', 'p.json'))).toMatch(/^--security-opt seccomp=p\.json: not valid JSON/);
  });

  it('reads a profile file, and says when it cannot', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-seccomp-'));
    try {
      const file = path.join(dir, 'p.json');
      fs.writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', action: 'SCMP_ACT_ALLOW' }] }));
      expect(readSeccompProfile(file).syscalls).toEqual([{ names: ['read'], action: 'SCMP_ACT_ALLOW' }]);
      expect(userError(() => readSeccompProfile(path.join(dir, 'missing.json')))).toMatch(/missing\.json: cannot read the profile \(no such file\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compares kernel releases as docker does', () => {
    expect(kernelAtLeast('4.8', '6.18.0-1-amd64')).toBe(true);
    expect(kernelAtLeast('4.8', '4.8.0')).toBe(true);
    expect(kernelAtLeast('4.8', '4.4.0-210-generic')).toBe(false);
    expect(kernelAtLeast('5.10.2', '5.10.1')).toBe(false);
  });
});

describe("docker's default profile, resolved for a container", () => {
  const names = (caps: readonly string[], arch: typeof AMD64 | typeof ARM64 = AMD64, kernelRelease = '6.18.0') =>
    resolveProfile(DOCKER_DEFAULT_SECCOMP, { capabilities: caps as never, arch, kernelRelease }).rules;
  const allowed = (rules: ReturnType<typeof names>, name: string) => rules.some((r) => r.name === name && r.action === 'SCMP_ACT_ALLOW' && !r.args.length);

  it('with the default capabilities: no mount, unshare, setns, keyctl; clone only without namespace flags; clone3 ENOSYS', () => {
    const rules = names(DOCKER_DEFAULT_CAPABILITIES);
    for (const name of ['mount', 'unshare', 'setns', 'keyctl', 'add_key', 'ptrace', 'bpf', 'sethostname']) expect(allowed(rules, name), name).toBe(name === 'ptrace'); // ptrace: kernel >= 4.8
    expect(rules.filter((r) => r.name === 'clone')).toEqual([{ name: 'clone', action: 'SCMP_ACT_ALLOW', errnoRet: undefined, args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }]);
    expect(rules.find((r) => r.name === 'clone3')).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
    expect(allowed(rules, 'chroot')).toBe(true); // CAP_SYS_CHROOT is a default
    expect(allowed(rules, 'capset') && allowed(rules, 'prctl') && allowed(rules, 'execve')).toBe(true);
  });

  it('with CAP_SYS_ADMIN: mount, unshare and setns, and clone unrestricted', () => {
    const rules = names([...DOCKER_DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
    for (const name of ['mount', 'unshare', 'setns', 'clone', 'clone3']) expect(allowed(rules, name), name).toBe(true);
    expect(rules.some((r) => r.name === 'clone3' && r.action === 'SCMP_ACT_ERRNO')).toBe(false);
    expect(allowed(rules, 'keyctl')).toBe(false); // not even with CAP_SYS_ADMIN
  });

  it('per architecture: x86_64 with x86 and x32; arm64 with arm', () => {
    const amd = resolveProfile(DOCKER_DEFAULT_SECCOMP, { capabilities: [], arch: AMD64 });
    expect(amd.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(allowed(amd.rules, 'arch_prctl')).toBe(true);
    expect(allowed(amd.rules, 'set_tls')).toBe(false);
    const arm = resolveProfile(DOCKER_DEFAULT_SECCOMP, { capabilities: [], arch: ARM64 });
    expect(arm.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(allowed(arm.rules, 'arch_prctl')).toBe(false);
    expect(allowed(arm.rules, 'set_tls')).toBe(true);
  });

  it('per kernel: ptrace needs 4.8 without CAP_SYS_PTRACE', () => {
    expect(allowed(names([], AMD64, '4.4.0'), 'ptrace')).toBe(false);
    expect(allowed(names(['CAP_SYS_PTRACE'], AMD64, '4.4.0'), 'ptrace')).toBe(true);
  });

  it('as config.json linux.seccomp (the benchmark\'s runc bundle): every rule once, alike rules sharing an entry', () => {
    const resolved = resolveProfile(DOCKER_DEFAULT_SECCOMP, { capabilities: DOCKER_DEFAULT_CAPABILITIES as never, arch: AMD64, kernelRelease: '6.18.0' });
    const oci = ociSeccomp(resolved) as { defaultAction: string; defaultErrnoRet?: number; architectures: string[]; syscalls: Array<{ names: string[]; action: string; errnoRet?: number; args?: unknown[] }> };
    expect(oci).toMatchObject({ defaultAction: resolved.defaultAction, defaultErrnoRet: resolved.defaultErrnoRet, architectures: resolved.architectures });
    const back = oci.syscalls.flatMap((e) => e.names.map((name) => ({ name, action: e.action, errnoRet: e.errnoRet, args: e.args ?? [] })));
    expect(back.sort((a, b) => a.name.localeCompare(b.name))).toEqual([...resolved.rules].sort((a, b) => a.name.localeCompare(b.name)));
    expect(oci.syscalls.length).toBeLessThan(resolved.rules.length / 10);
  });

  it('takes the older `architectures` list as given', () => {
    const r = resolveProfile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], syscalls: [] }, { capabilities: [], arch: AMD64 });
    expect(r.architectures).toEqual(['SCMP_ARCH_X86']);
  });
});

describe('compiling to BPF with libseccomp', () => {
  // compileSecurity keeps what it compiled in the state directory: a throwaway one.
  let state: string;
  beforeAll(() => {
    state = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-test-seccomp-state-'));
    process.env.CONTAINY_STATE_DIR = state;
  });
  afterAll(() => {
    delete process.env.CONTAINY_STATE_DIR;
    fs.rmSync(state, { recursive: true, force: true });
  });

  it('compiles the default profile, skipping names this libseccomp does not know', () => {
    const resolved = resolveProfile(DOCKER_DEFAULT_SECCOMP, { capabilities: DOCKER_DEFAULT_CAPABILITIES });
    const filter = compileSeccompFilter({ ...resolved, rules: [...resolved.rules, { name: 'no_such_syscall', action: 'SCMP_ACT_ALLOW', args: [] }] });
    expect(filter.bpf.length % 8).toBe(0);
    expect(filter.bpf.length).toBeGreaterThan(8 * 100);
    expect(filter.unknownSyscalls).toContain('no_such_syscall');
    expect(filter.ruleCount).toBeGreaterThan(300);
  });

  it('splits several checks on one argument into one rule each, as runc does', () => {
    const args = [{ index: 0, value: 1, valueTwo: 0, op: 'SCMP_CMP_EQ' as const }, { index: 0, value: 2, valueTwo: 0, op: 'SCMP_CMP_EQ' as const }];
    const filter = compileSeccompFilter({ defaultAction: 'SCMP_ACT_ERRNO', architectures: [], rules: [{ name: 'personality', action: 'SCMP_ACT_ALLOW', args }] });
    expect(filter.ruleCount).toBe(2);
  });

  it('leaves unconfined containers without a filter, and compiles a spec once', () => {
    expect(compileSecurity(securitySpecFrom({ securityOpt: ['seccomp=unconfined'] })).seccompBpf).toBeUndefined();
    const a = compileSecurity(defaultSecuritySpec());
    expect(a.seccompBpf).toBeTruthy();
    expect(compileSecurity(defaultSecuritySpec()).seccompBpf).toBe(a.seccompBpf);
    expect(compileSecurity(securitySpecFrom({ capAdd: ['SYS_ADMIN'] })).seccompBpf).not.toBe(a.seccompBpf);
  });

  it('keeps each compiled filter in the state directory, for the next run', () => {
    const a = compileSecurity(securitySpecFrom({ capAdd: ['SYS_PTRACE'] }));
    const kept = fs.readdirSync(path.join(state, 'seccomp')).map((f) => fs.readFileSync(path.join(state, 'seccomp', f)).toString('base64'));
    expect(kept).toContain(a.seccompBpf);
    expect(fs.readdirSync(path.join(state, 'seccomp')).every((f) => f.endsWith('.bpf'))).toBe(true);
  });
});
