// The machine's facts: read from a /proc-like tree (the knobs Debian and Ubuntu
// add, overlayfs loaded or only a module), from this host itself, and from base
// rootfs markers; and said in lines that fit 80 columns.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  readHostFacts, readOverlayFact, readUsernsFacts, hostFactLines, wrap, detectLayout,
  type HostFacts, type UsernsFacts, type OverlayFact, type CgroupFacts, type BaseFacts,
} from '../../src/runtime/index.js';
import { readBaseFacts } from '../../src/runtime/host-facts.js';
import { writeMarker, type RootfsMarker } from '../../src/rootfs/rootfs-marker.js';
import { overlayProblem, usernsProblem } from '../../src/lessons/host-support.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-facts-test-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function put(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(tmp, file)), { recursive: true });
  fs.writeFileSync(path.join(tmp, file), text);
}

describe('reading /proc', () => {
  it('reads the user namespace knobs, and null for the ones this kernel lacks', () => {
    put('proc/self/ns/user', '');
    put('proc/sys/user/max_user_namespaces', '0\n');
    put('proc/sys/kernel/unprivileged_userns_clone', '1\n');
    expect(readUsernsFacts(tmp)).toEqual({ supported: true, maxUserNamespaces: 0, unprivilegedClone: 1, apparmorRestrict: null });
    put('proc/sys/kernel/apparmor_restrict_unprivileged_userns', '1\n');
    expect(readUsernsFacts(tmp).apparmorRestrict).toBe(1);
    fs.rmSync(path.join(tmp, 'proc/self'), { recursive: true });
    expect(readUsernsFacts(tmp).supported).toBe(false);
  });

  it('tells overlayfs registered from a module not loaded yet and from none', () => {
    expect(readOverlayFact(tmp, '6.1.0-test')).toBe('unreadable');
    put('proc/filesystems', 'nodev\tsysfs\nnodev\ttmpfs\n\text4\n');
    expect(readOverlayFact(tmp, '6.1.0-test')).toBe('missing');
    put('lib/modules/6.1.0-test/modules.dep', 'kernel/fs/overlayfs/overlay.ko.xz:\nkernel/fs/fat/vfat.ko.xz: kernel/fs/fat/fat.ko.xz\n');
    expect(readOverlayFact(tmp, '6.1.0-test')).toBe('loadable');
    expect(readOverlayFact(tmp, '6.2.0-other')).toBe('missing');
    put('proc/filesystems', 'nodev\tsysfs\nnodev\toverlay\n');
    expect(readOverlayFact(tmp, '6.1.0-test')).toBe('available');
  });

  it('reads this host as its own files say', () => {
    const facts = readHostFacts({ rootfs: path.join(tmp, 'no-base') });
    expect(facts.kernel.release).toBe(fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(facts.kernel.arch).toBe(os.machine());
    expect(facts.node).toBe(process.version);
    expect(facts.overlay === 'available').toBe(/\toverlay$/m.test(fs.readFileSync('/proc/filesystems', 'utf8')));
    let layout: string | null = null;
    try {
      layout = detectLayout();
    } catch {
      // no cgroups mounted: the fact says so
    }
    expect(facts.cgroup.layout).toBe(layout);
    expect(facts.cgroup.systemd).toBe(fs.existsSync('/run/systemd/system'));
    expect(facts.userns.supported).toBe(fs.existsSync('/proc/self/ns/user'));
    expect(facts.base).toEqual({ path: path.join(tmp, 'no-base'), kind: 'missing' });
  });
});

describe('the base rootfs', () => {
  const marker = (over: Partial<RootfsMarker>): RootfsMarker => ({
    kind: 'built', version: 1, createdAt: '2026-01-01T00:00:00Z', files: 10, sizeBytes: 61_000_000, commands: ['sh'], python: '/usr/bin/python3.11', source: {}, ...over,
  });

  it('reads the tools field when the marker has one, else tells them by what the build recorded', async () => {
    const base = path.join(tmp, 'base');
    await writeMarker(base, { ...marker({ source: { busybox: { applets: 300 } } }), tools: 'host' } as RootfsMarker);
    expect(readBaseFacts(base)).toMatchObject({ kind: 'built', tools: 'host', python: '/usr/bin/python3.11', sizeBytes: 61_000_000 });
    await writeMarker(base, marker({ source: { busybox: { applets: 300 } } }));
    expect(readBaseFacts(base).tools).toBe('busybox');
    await writeMarker(base, marker({ source: { copied: { programs: ['/usr/bin/bash'] } }, python: null }));
    expect(readBaseFacts(base)).toMatchObject({ tools: 'host', python: null });
    await writeMarker(base, marker({ kind: 'imported', source: { file: '/tmp/debian.tar.gz', entries: 9000 } }));
    expect(readBaseFacts(base)).toMatchObject({ kind: 'imported', importedFrom: '/tmp/debian.tar.gz' });
    expect(readBaseFacts(base).tools).toBeUndefined();
  });

  it('tells a missing base from a directory that is not ours', () => {
    expect(readBaseFacts(path.join(tmp, 'nothing')).kind).toBe('missing');
    fs.mkdirSync(path.join(tmp, 'someones'));
    expect(readBaseFacts(path.join(tmp, 'someones')).kind).toBe('unmarked');
  });
});

describe('in words', () => {
  const userns = (over: Partial<UsernsFacts> = {}): UsernsFacts => ({ supported: true, maxUserNamespaces: 63704, unprivilegedClone: null, apparmorRestrict: null, ...over });
  const cgroup = (over: Partial<CgroupFacts> = {}): CgroupFacts => ({ layout: 'v2', root: '/sys/fs/cgroup', systemd: true, pid1: 'systemd', ...over });
  const facts = (over: Partial<HostFacts> = {}): HostFacts => ({
    kernel: { release: '6.1.0-27-amd64', arch: 'x86_64' },
    cgroup: cgroup(),
    overlay: 'available',
    userns: userns(),
    node: 'v24.11.1',
    base: { path: '/opt/containy-learn/rootfs/base', kind: 'built', tools: 'busybox', python: '/usr/bin/python3.11', sizeBytes: 52_400_000 },
    ...over,
  });

  it('gives one labelled line per fact, in plain text', () => {
    const lines = hostFactLines(facts());
    expect(lines).toEqual([
      'kernel   6.1.0-27-amd64 x86_64',
      'cgroup   v2 unified (one cgroup2 tree at /sys/fs/cgroup), managed by systemd',
      'overlay  available (listed in /proc/filesystems)',
      'userns   root may create them: user.max_user_namespaces = 63704 per user',
      'node     v24.11.1',
      'base     busybox, python3.11, 52 MB',
    ]);
  });

  it('says what each user namespace knob restricts, for us as root', () => {
    const ubuntu = hostFactLines(facts({ userns: userns({ unprivilegedClone: 0, apparmorRestrict: 1 }) })).join('\n');
    expect(ubuntu).toMatch(/^userns   root may create them/m);
    expect(ubuntu).toMatch(/^ {9}kernel\.unprivileged_userns_clone = 0: only CAP_SYS_ADMIN may create one$/m);
    expect(ubuntu.replace(/\n +/g, ' ')).toContain('kernel.apparmor_restrict_unprivileged_userns = 1: an unconfined process without CAP_SYS_ADMIN gets one with no capabilities in it (or EACCES); root is exempt');
    expect(hostFactLines(facts({ userns: userns({ maxUserNamespaces: 0 }) })).join('\n')).toMatch(/no one may create one, root included: user\.max_user_namespaces = 0/);
    expect(hostFactLines(facts({ userns: userns({ supported: false }) })).join('\n')).toMatch(/no user namespaces \(CONFIG_USER_NS\)/);
  });

  it('fits 80 columns whatever the machine', () => {
    const layouts: CgroupFacts[] = [cgroup(), cgroup({ layout: 'hybrid', systemd: false, pid1: 'process_api' }), cgroup({ layout: 'v1' }), cgroup({ layout: null, problem: 'cgroups are not mounted at /sys/fs/cgroup: mount cgroup2 there (mount -t cgroup2 none /sys/fs/cgroup) or boot a kernel with cgroups enabled' })];
    const overlays: OverlayFact[] = ['available', 'loadable', 'missing', 'unreadable'];
    const bases: BaseFacts[] = [
      { path: '/a/very/long/path/to/a/checkout/of/containy-learn/that/someone/made/rootfs/base', kind: 'missing' },
      { path: '/r', kind: 'unmarked' },
      { path: '/r', kind: 'imported', importedFrom: '/home/someone/Downloads/debian-bookworm-minbase-rootfs.tar.gz', python: null, sizeBytes: 1e8 },
      { path: '/r', kind: 'built', tools: 'host', python: null, sizeBytes: 1e7 },
    ];
    for (const c of layouts) for (const o of overlays) for (const b of bases) {
      const lines = hostFactLines(facts({ cgroup: c, overlay: o, base: b, userns: userns({ unprivilegedClone: 0, apparmorRestrict: 1 }) }));
      for (const line of lines) {
        expect(line.length, line).toBeLessThanOrEqual(80);
        expect(line).not.toMatch(/\x1b/);
      }
      for (const label of ['kernel', 'cgroup', 'overlay', 'userns', 'node', 'base']) {
        expect(lines.filter((l) => l.startsWith(`${label} `)), label).toHaveLength(1);
      }
    }
  });

  it('wraps under the label, and breaks a word longer than the line', () => {
    expect(wrap('base     ', 'one two three', 20)).toEqual(['base     one two', '         three']);
    const long = wrap('x  ', 'a'.repeat(100), 40);
    expect(long.every((l) => l.length <= 40)).toBe(true);
    expect(long.join('').replace(/[x ]/g, '')).toBe('a'.repeat(100));
    expect(wrap('', ' PID TTY          TIME CMD', 80)).toEqual([' PID TTY          TIME CMD']);
  });
});

describe('why a step cannot run', () => {
  it('names the missing feature and the fix', () => {
    expect(overlayProblem('available')).toBeUndefined();
    expect(overlayProblem('loadable')).toMatch(/needs overlayfs.*`sudo modprobe overlay`/);
    expect(overlayProblem('missing')).toMatch(/needs overlayfs.*CONFIG_OVERLAY_FS/);
    expect(overlayProblem('unreadable')).toMatch(/\/proc\/filesystems cannot be read/);
    const userns: UsernsFacts = { supported: true, maxUserNamespaces: 100, unprivilegedClone: 0, apparmorRestrict: 1 };
    // Debian's and Ubuntu's knobs stop unprivileged users only: root still may.
    expect(usernsProblem(userns)).toBeUndefined();
    expect(usernsProblem({ ...userns, maxUserNamespaces: 0 })).toMatch(/user\.max_user_namespaces is 0.*root included: `sudo sysctl -w user\.max_user_namespaces=10000`/);
    expect(usernsProblem({ ...userns, supported: false })).toMatch(/needs user namespaces.*CONFIG_USER_NS/);
  });
});
