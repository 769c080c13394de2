// `run`'s arguments to a ContainerSpec: -v/--volume and the workshop's default
// bind of /cgroups_example. Nothing is created; no root needed.
import { describe, expect, it } from 'vitest';
import { specFromRunArgs } from '../../src/cli/run.js';
import { CGROUPS_EXAMPLE } from '../../src/demos.js';

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
