// `run`'s arguments to a ContainerSpec: -v/--volume and the workshop's default
// bind of /cgroups_example. Nothing is created; no root needed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { specFromRunArgs } from '../../src/cli/run.js';
import { CGROUPS_EXAMPLE } from '../../src/demos.js';
import { userError } from '../helpers/user-error.js';

const DEMOS = { source: CGROUPS_EXAMPLE, target: '/cgroups_example', readonly: true };

describe('run --volume', () => {
  it('binds /cgroups_example read-only by default, as the runtime used to do by itself', () => {
    expect(specFromRunArgs(['--', 'true']).binds).toEqual([DEMOS]);
  });

  it('takes docker\'s SRC:DST[:ro|rw], repeated, before the demos', () => {
    const spec = specFromRunArgs(['-v', '/etc:/hostetc:ro', '--volume', '/tmp:/scratch', '--volume=/usr:/u:rw', '--', 'true']);
    expect(spec.binds).toEqual([
      { source: '/etc', target: '/hostetc', readonly: true },
      { source: '/tmp', target: '/scratch', readonly: false },
      { source: '/usr', target: '/u', readonly: false },
      DEMOS,
    ]);
  });

  it('lets a volume take the demos\' place', () => {
    expect(specFromRunArgs(['-v', '/tmp:/cgroups_example', '--', 'true']).binds).toEqual([{ source: '/tmp', target: '/cgroups_example', readonly: false }]);
  });

  it('binds nothing by default without the mnt namespace', () => {
    expect(specFromRunArgs(['--ns', 'uts,pid', '--', 'true']).binds).toEqual([]);
  });

  it.each([
    [['-v', '/etc'], /--volume: '\/etc' is not SRC:DST\[:ro\]/],
    [['-v', '/etc:/x:rx'], /is not SRC:DST/],
    [['-v', '/etc:relative'], /target 'relative' is not absolute/],
    [['-v', '/no-such-containy-dir:/x'], /source \/no-such-containy-dir does not exist/],
  ])('refuses %j in one sentence naming --volume', (args, message) => {
    expect(() => specFromRunArgs([...args, '--', 'true'])).toThrow(message);
  });
});

describe('run --network and -p', () => {
  it('passes docker\'s modes and -p values on to the spec, and leaves the default (none) to the runtime', () => {
    expect(specFromRunArgs(['--', 'true']).network).toBeUndefined();
    const spec = specFromRunArgs(['--network', 'bridge', '-p', '8080:80', '--publish', '127.0.0.1:8443:443/tcp', '--', 'true']);
    expect(spec).toMatchObject({ network: 'bridge', publish: ['8080:80', '127.0.0.1:8443:443/tcp'] });
    expect(specFromRunArgs(['--network', 'container:web', '--', 'true']).network).toBe('container:web');
    expect(specFromRunArgs(['--network=host', '--', 'true']).network).toBe('host');
  });

  it.each([
    [['--network', 'wifi'], /--network: unknown network mode 'wifi': use none, bridge, host or container:NAME/],
    [['--network', 'container:'], /unknown network mode 'container:'/],
    [['-p', '80'], /-p 80: give the host port too/],
    [['-p', '0:80'], /host port 0 is out of range/],
    [['-p', '8080:80/udp'], /only TCP ports/],
    [['-p', '8080:80', '-p', '8080:81'], /host port 8080 is published twice/],
  ])('refuses %j in one sentence naming the flag', (args, message) => {
    expect(userError(() => specFromRunArgs([...args, '--', 'true']))).toMatch(message);
  });
});

describe('run: user namespaces and --user', () => {
  const FIXTURE_USERNS = { uidMappings: { containerID: 0, hostID: 1000, size: 1000 }, gidMappings: { containerID: 0, hostID: 1000, size: 1000 } };
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-run-args-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bundle = (json: object) => {
    fs.writeFileSync(path.join(dir, 'configy.json'), JSON.stringify(json));
    return dir;
  };

  it('makes none by default; --uidmap alone serves gids too; --user goes with it', () => {
    expect(specFromRunArgs(['--', 'true']).userns).toBeUndefined();
    const spec = specFromRunArgs(['--uidmap', '0:100000:65536', '--user', '1000', '--', 'id']);
    expect(spec.userns).toEqual({
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      user: { uid: 1000, gid: 0 },
    });
  });

  it('--user alone runs as that user without a user namespace', () => {
    const spec = specFromRunArgs(['-u', '1000:1000', '--', 'id']);
    expect(spec.userns).toBeUndefined();
    expect(spec.user).toEqual({ uid: 1000, gid: 1000 });
  });

  it('takes a bundle\'s "user" namespace and userns section; --userns host drops it', () => {
    const b = bundle({ cmd: { command: '/bin/sh' }, isolation: { namespaces: ['user', 'pid', 'mount'] }, userns: FIXTURE_USERNS });
    const spec = specFromRunArgs(['--bundle', b]);
    expect(spec.namespaces).toEqual(['pid', 'mnt']);
    expect(spec.userns?.uidMappings).toEqual([{ containerID: 0, hostID: 1000, size: 1000 }]);
    expect(specFromRunArgs(['--bundle', b, '--userns', 'host']).userns).toBeUndefined();
  });

  it.each([
    [{ isolation: { namespaces: ['user'] } }, /configy\.json: userns: expected an object/],
    [{ isolation: { namespaces: ['user'] }, userns: { ...FIXTURE_USERNS, gidMappings: { containerID: 0, hostID: 1000 } } }, /configy\.json: userns\.gidMappings\.size: expected a whole number/],
    [{ isolation: { namespaces: ['user', 7] }, userns: FIXTURE_USERNS }, /configy\.json: isolation\.namespaces\[1\]: expected a string/],
  ])('refuses a bad bundle naming the field: %j', (json, message) => {
    expect(() => specFromRunArgs(['--bundle', bundle({ cmd: { command: '/bin/sh' }, ...json })])).toThrow(message);
  });

  it('refuses --user outside a bundle\'s map, naming --user', () => {
    const b = bundle({ cmd: { command: '/bin/sh' }, isolation: { namespaces: ['user'] }, userns: FIXTURE_USERNS });
    expect(() => specFromRunArgs(['--bundle', b, '--user', '5000'])).toThrow(/--user: uid 5000 is not mapped by configy\.json: userns\.uidMappings/);
  });
});
