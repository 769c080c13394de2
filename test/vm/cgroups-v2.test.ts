// cgroup v2 for real: this host is cgroup v1, so boot a guest kernel with cgroup v1
// disabled (test/vm/run-v2.sh) and run the cgroup integration tests inside it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('cgroup v2 guest test skipped: qemu needs root here to share / and to install its packages');

describe.skipIf(!root)('cgroup v2 in a qemu guest', () => {
  it('runs test/integration/cgroups.test.ts on a cgroup v2 kernel, and every test passes', () => {
    const started = Date.now();
    const run = spawnSync('bash', [path.join(PACKAGE_ROOT, 'test/vm/run-v2.sh'), 'test/integration/cgroups.test.ts'], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
      timeout: 280_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const output = `${run.stdout}${run.stderr}`;
    const summary = output.split('\n').filter((l) => /^guest: |^host: |Tests {2}|Duration/.test(l.trim()));
    console.log(`${summary.join('\n')}\nwhole run: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (run.status !== 0) console.error(output);
    expect(run.error).toBeUndefined();
    // The guest really was cgroup v2, and ran the file's tests, all passing.
    expect(output).toContain('cgroups for real (v2)');
    expect(output).toMatch(/Tests {2}\d+ passed \(\d+\)/);
    expect(output).not.toMatch(/Tests {2}.*failed/);
    expect(run.status).toBe(0);
  }, 300_000);
});
