// A refused syscall explained from the tool's error line and the container's
// security, and nothing said where we cannot know; the panes' rows for the
// security probes.
import { describe, expect, it } from 'vitest';
import { explainRefusals } from '../../src/runtime/security/explain.js';
import { DOCKER_DEFAULT_CAPABILITIES } from '../../src/runtime/security/capabilities.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from '../../src/runtime/security/docker-paths.js';
import { compareSnapshots } from '../../src/tui/compare.js';

const docker = { capabilities: [...DOCKER_DEFAULT_CAPABILITIES], seccomp: 'docker-default' as const, readonlyPaths: [...DOCKER_READONLY_PATHS], maskedPaths: [...DOCKER_MASKED_PATHS] };
const privileged = { ...docker, capabilities: ['CAP_SYS_ADMIN', 'CAP_MKNOD'] as const, seccomp: 'unconfined' as const, readonlyPaths: [], maskedPaths: [] };

describe('explainRefusals', () => {
  it.each([
    ['mount: /mnt: permission denied.\n', 'EPERM: no CAP_SYS_ADMIN: mount(2) needs it'],
    ['mount: permission denied (are you root?)\n', 'EPERM: no CAP_SYS_ADMIN: mount(2) needs it'],
    ['unshare: unshare failed: Operation not permitted\n', 'EPERM: seccomp refused unshare(2)'],
    ['unshare: unshare(0x10000000): Operation not permitted\n', 'EPERM: seccomp refused unshare(2)'],
    ['keyctl Operation not permitted\n', "EPERM: docker's seccomp profile refused keyctl(2)"],
    ['sh: 1: cannot create /proc/sys/vm/swappiness: Read-only file system\n', "EROFS: /proc/sys is one of docker's read-only paths"],
    ["sh: can't create /proc/sys/vm/swappiness: Read-only file system\n", "EROFS: /proc/sys is one of docker's read-only paths"],
  ])('%j under docker\'s defaults', (output, note) => {
    const notes = explainRefusals(output, docker);
    expect(notes).toHaveLength(1);
    expect(notes[0].startsWith(note)).toBe(true);
  });

  it('without seccomp, unshare is explained by the missing capability; mknod by CAP_MKNOD', () => {
    const noFilter = { ...docker, seccomp: 'unconfined' as const, capabilities: docker.capabilities.filter((c) => c !== 'CAP_MKNOD') };
    expect(explainRefusals('unshare: unshare failed: Operation not permitted', noFilter)).toEqual(['EPERM: no CAP_SYS_ADMIN: unshare(2) of any namespace but a user namespace needs it']);
    expect(explainRefusals('mknod: /tmp/z: Operation not permitted', noFilter)).toEqual(['EPERM: no CAP_MKNOD: mknod(2) of a device node needs it']);
  });

  it('says nothing it cannot know: an unknown message, or a refusal the container\'s set does not explain', () => {
    expect(explainRefusals('cat: /x: Operation not permitted', docker)).toEqual([]);
    expect(explainRefusals('mount: /mnt: permission denied.', { ...privileged, capabilities: [...privileged.capabilities] })).toEqual([]);
    expect(explainRefusals('keyctl Operation not permitted', { ...privileged, capabilities: [...privileged.capabilities] })).toEqual([]);
  });
});

describe('the security probes in the panes', () => {
  it('caps: one row per bounding capability with its sets; seccomp, nnp and masks in the heading', () => {
    const host = { caps: { effective: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], permitted: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], bounding: ['CAP_CHOWN', 'CAP_SYS_ADMIN'] }, seccomp: { mode: 0, filters: 0 }, nnp: false, masks: { masked: [], readonly: [] } };
    const container = { caps: { effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'], bounding: ['CAP_CHOWN'] }, seccomp: { mode: 2, filters: 1 }, nnp: true, masks: { masked: ['/proc/keys'], readonly: ['/proc/sys'] } };
    const [caps, seccomp, nnp, masks] = compareSnapshots(['caps', 'seccomp', 'nnp', 'masks'], host, container);
    expect(caps.host.map((r) => r.text)).toEqual(['caps: 2 eff, 2 prm, 2 bnd', 'epb CHOWN', 'epb SYS_ADMIN']);
    expect(caps.container.map((r) => r.text)).toEqual(['caps: 1 eff, 1 prm, 1 bnd', 'epb CHOWN']);
    expect(seccomp.container[0].text).toBe('seccomp: filter, 1 filter');
    expect(seccomp.host[0].text).toBe('seccomp: off, 0 filters');
    expect(nnp.container[0].text).toBe('no_new_privs: 1 (setuid gains nothing)');
    expect(masks.container.map((r) => r.text)).toEqual(["docker's paths: 1 masked, 1 read-only", 'masked    /proc/keys', 'read-only /proc/sys']);
  });
});
