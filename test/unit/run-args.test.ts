// `run`'s arguments to a ContainerSpec: -v/--volume and the workshop's default
// bind of /cgroups_example. Nothing is created; no root needed.
import { describe, expect, it } from 'vitest';
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
