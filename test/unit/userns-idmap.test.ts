// User-namespace maps as asked for on the command line and in configy.json,
// refused by the kernel's rules (kernel/user_namespace.c map_write()).
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { userError } from '../helpers/user-error.js';
import {
  formatIdMap, hostIdOf, parseConfigyUserns, parseIdMapText, parseMapFlag, parseUserFlag, pickFreeRange,
  usedHostRanges, usernsFromFlags, validateIdMap, type IdMapping,
} from '../../src/runtime/userns/idmap.js';
import { setgroupsFor } from '../../src/runtime/userns/helper.js';

const FIXTURE = '/work/shared/fixtures/containy-bundle/configy.json';

describe('--uidmap / --gidmap', () => {
  it('reads CONTAINER:HOST:SIZE', () => {
    expect(parseMapFlag('--uidmap', '0:100000:65536')).toEqual({ containerID: 0, hostID: 100000, size: 65536 });
  });
  it.each(['0:100000', '0:100000:65536:1', 'a:b:c', '-1:0:1', '0x0:1:1', ''])('refuses %j, naming the flag and the shape', (v) => {
    expect(userError(() => parseMapFlag('--gidmap', v))).toMatch(/^--gidmap .*: expected CONTAINER:HOST:SIZE/);
  });
  it('--uidmap alone maps gids the same way, as podman does', () => {
    const spec = usernsFromFlags({ uidmap: ['0:100000:65536'], gidmap: [] });
    expect(spec?.gidMappings).toEqual(spec?.uidMappings);
  });
  it('is repeatable', () => {
    const spec = usernsFromFlags({ uidmap: ['0:100000:1000', '1000:200000:1000'], gidmap: ['0:100000:65536'] });
    expect(formatIdMap(spec!.uidMappings)).toBe('0 100000 1000\n1000 200000 1000\n');
  });
  it('makes no user namespace without flags, or with --userns host', () => {
    expect(usernsFromFlags({ uidmap: [], gidmap: [] })).toBeUndefined();
    expect(usernsFromFlags({ userns: 'host', uidmap: [], gidmap: [] })).toBeUndefined();
  });
});

describe('the kernel\'s rules', () => {
  const ok: IdMapping[] = [{ containerID: 0, hostID: 100000, size: 65536 }];
  it('accepts a plain map', () => expect(() => validateIdMap('--uidmap', ok)).not.toThrow());
  it('refuses overlapping container ids, naming both entries', () => {
    const m = userError(() => validateIdMap('--uidmap', [...ok, { containerID: 65535, hostID: 300000, size: 2 }]));
    expect(m).toBe('--uidmap[1]: container ids 65535-65536 overlap entry 0 (0-65535); an id inside may map only once');
  });
  it('refuses overlapping host ids', () => {
    expect(userError(() => validateIdMap('--uidmap', [...ok, { containerID: 70000, hostID: 165535, size: 1 }]))).toMatch(/^--uidmap\[1\]: host ids 165535-165535 overlap entry 0/);
  });
  it('accepts ranges that only touch', () => {
    expect(() => validateIdMap('--uidmap', [...ok, { containerID: 65536, hostID: 165536, size: 1 }])).not.toThrow();
  });
  it('refuses size 0', () => {
    expect(userError(() => validateIdMap('--uidmap', [{ containerID: 0, hostID: 1, size: 0 }]))).toMatch(/^--uidmap: size 0 maps nothing/);
  });
  it('refuses a range past 2^32 - 1, on either side, and accepts one that ends at it', () => {
    expect(userError(() => validateIdMap('--uidmap', [{ containerID: 0, hostID: 2 ** 32 - 2, size: 2 }]))).toMatch(/hostID 4294967294 \+ size 2 runs past 4294967294/);
    expect(userError(() => validateIdMap('--uidmap', [{ containerID: 2 ** 32 - 1, hostID: 0, size: 1 }]))).toMatch(/containerID must be a whole number from 0 to 4294967294/);
    expect(() => validateIdMap('--uidmap', [{ containerID: 0, hostID: 2 ** 32 - 2, size: 1 }])).not.toThrow();
  });
  it('refuses more than 340 lines', () => {
    const map = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 1000 + i, size: 1 }));
    expect(userError(() => validateIdMap('--uidmap', map))).toMatch(/^--uidmap: 341 ranges, and the kernel takes at most 340/);
    expect(() => validateIdMap('--uidmap', map.slice(0, 340))).not.toThrow();
  });
  it('refuses a map whose text does not fit in one page-sized write', () => {
    const map = Array.from({ length: 300 }, (_, i) => ({ containerID: 1_000_000_000 + i, hostID: 2_000_000_000 + i, size: 1 }));
    expect(userError(() => validateIdMap('--uidmap', map))).toMatch(/bytes as text, and the kernel takes it in one write of at most 4095/);
  });
  it('refuses a map without container 0: the container starts as root inside', () => {
    expect(userError(() => usernsFromFlags({ uidmap: ['1:100000:65536'], gidmap: [] }))).toMatch(/^--uidmap: container uid 0 is not mapped/);
  });
  it('refuses --user outside the map', () => {
    expect(userError(() => usernsFromFlags({ uidmap: ['0:100000:1000'], gidmap: [], user: '5000' }))).toMatch(/^--user: uid 5000 is not mapped by --uidmap/);
  });
  it('finds the host id of an id inside', () => {
    expect(hostIdOf([{ containerID: 0, hostID: 1000, size: 1000 }], 999)).toBe(1999);
    expect(hostIdOf([{ containerID: 0, hostID: 1000, size: 1000 }], 1000)).toBeUndefined();
  });
});

describe('--user', () => {
  it('reads UID and UID:GID', () => {
    expect(parseUserFlag('1000')).toEqual({ uid: 1000 });
    expect(parseUserFlag('1000:100')).toEqual({ uid: 1000, gid: 100 });
  });
  it.each(['root', '1000:', ':1000', '4294967295', '-1'])('refuses %j', (v) => {
    expect(userError(() => parseUserFlag(v))).toMatch(/^--user .*: expected UID\[:GID\] as numbers/);
  });
});

describe('--userns auto', () => {
  it('picks the lowest aligned free range from 100000', () => {
    expect(pickFreeRange([])).toBe(100000);
    expect(pickFreeRange([{ hostID: 100000, size: 65536 }])).toBe(165536);
    expect(pickFreeRange([{ hostID: 1000, size: 1000 }, { hostID: 150000, size: 1 }])).toBe(165536);
  });
  it('maps uids and gids alike from that range', () => {
    const spec = usernsFromFlags({ userns: 'auto', uidmap: [], gidmap: [] }, () => [{ hostID: 100000, size: 65536 }]);
    expect(spec?.uidMappings).toEqual([{ containerID: 0, hostID: 165536, size: 65536 }]);
    expect(spec?.gidMappings).toEqual(spec?.uidMappings);
  });
  it('refuses unknown modes and maps given with it', () => {
    expect(userError(() => usernsFromFlags({ userns: 'keep-id', uidmap: [], gidmap: [] }))).toMatch(/^--userns keep-id: expected host or auto/);
    expect(userError(() => usernsFromFlags({ userns: 'auto', uidmap: ['0:1:1'], gidmap: [] }))).toMatch(/^--userns auto: picks its own range/);
    expect(userError(() => usernsFromFlags({ userns: 'host', uidmap: [], gidmap: ['0:1:1'] }))).toMatch(/^--userns host: cannot be combined/);
  });
  it('counts as used what other user namespaces map (from /proc) and /etc/subuid, not the identity map', () => {
    const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-proc-'));
    try {
      fs.mkdirSync(path.join(proc, '1'));
      fs.writeFileSync(path.join(proc, '1', 'uid_map'), '         0          0 4294967295\n');
      fs.writeFileSync(path.join(proc, '1', 'gid_map'), '         0          0 4294967295\n');
      fs.mkdirSync(path.join(proc, '42'));
      fs.writeFileSync(path.join(proc, '42', 'uid_map'), '         0     100000      65536\n');
      fs.writeFileSync(path.join(proc, '42', 'gid_map'), '         0     100000      65536\n');
      fs.mkdirSync(path.join(proc, 'self'));
      fs.writeFileSync(path.join(proc, 'subuid'), 'alice:165536:65536\n# comment\n');
      const used = usedHostRanges(proc, [path.join(proc, 'subuid'), path.join(proc, 'missing')]);
      expect(used).toEqual([{ hostID: 100000, size: 65536 }, { hostID: 165536, size: 65536 }]);
      expect(pickFreeRange(used)).toBe(231072);
      expect(used.some((u) => u.hostID === 0)).toBe(false);
    } finally {
      fs.rmSync(proc, { recursive: true });
    }
  });
  it('reads /proc map text', () => {
    expect(parseIdMapText('         0       1000       1000\n')).toEqual([{ containerID: 0, hostID: 1000, size: 1000 }]);
  });
});

describe('configy.json userns section', () => {
  it('reads containy\'s own bundle: container 0 is host 1000, 1000 ids', () => {
    const json = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { userns: unknown };
    expect(parseConfigyUserns(json.userns)).toEqual({
      uidMappings: [{ containerID: 0, hostID: 1000, size: 1000 }],
      gidMappings: [{ containerID: 0, hostID: 1000, size: 1000 }],
      user: { uid: 0, gid: 0 },
    });
  });
  it('takes a list of mappings too (the OCI shape)', () => {
    const spec = parseConfigyUserns({ uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65535 }], gidMappings: { containerID: 0, hostID: 1000, size: 65536 } });
    expect(spec.uidMappings).toHaveLength(2);
  });
  it.each([
    [{ gidMappings: { containerID: 0, hostID: 1, size: 1 } }, /^configy.json: userns.uidMappings: missing/],
    [{ uidMappings: { containerID: 0, hostID: 1000, size: 0 }, gidMappings: { containerID: 0, hostID: 1000, size: 1 } }, /^configy.json: userns.uidMappings: size 0/],
    [{ uidMappings: { containerID: 0, hostID: '1000', size: 1 }, gidMappings: { containerID: 0, hostID: 1000, size: 1 } }, /^configy.json: userns.uidMappings.hostID: expected a whole number/],
    [{ uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 5, hostID: 5000, size: 1 }], gidMappings: { containerID: 0, hostID: 1000, size: 1 } }, /^configy.json: userns.uidMappings\[1\]: container ids 5-5 overlap entry 0/],
    [{ uidMappings: { containerID: 0, hostID: 1000, size: 10 }, gidMappings: { containerID: 0, hostID: 1000, size: 10 }, user: { uid: 20, gid: 0 } }, /^configy.json: userns.user: uid 20 is not mapped/],
    [{ uidMappings: { containerID: 0, hostID: 1000, size: 10 }, gidMappings: { containerID: 0, hostID: 1000, size: 10 }, user: { uid: -1 } }, /^configy.json: userns.user.uid: expected a whole number/],
    ['0 1000 1000', /^configy.json: userns: expected an object/],
  ])('refuses %j, naming the field', (section, message) => {
    expect(userError(() => parseConfigyUserns(section))).toMatch(message);
  });
});

describe('setgroups', () => {
  it('is "deny" only for a writer without CAP_SETGID in the parent namespace', () => {
    expect(setgroupsFor(true)).toBe('allow');
    expect(setgroupsFor(false)).toBe('deny');
  });
});
