// cgroup v2 for real: this host is cgroup v1, so boot a guest kernel with cgroup v1
// disabled (test/vm/run-v2.sh) and run there the cgroup integration tests and the
// rehearsal (check-all) of the two lessons about cgroups, as a learner on a v2 machine would.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('cgroup v2 guest test skipped: qemu needs root here to share / and to install its packages');

const PARTS = ['vitest:test/integration/cgroups.test.ts', 'lesson:0', 'lesson:5'];

describe.skipIf(!root)('cgroup v2 in a qemu guest', () => {
  it('runs the cgroup integration tests and lessons 0 and 5 on a cgroup v2 kernel, and all pass', () => {
    const started = Date.now();
    const run = spawnSync('bash', [path.join(PACKAGE_ROOT, 'test/vm/run-v2.sh'), ...PARTS], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
      timeout: 280_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const output = `${run.stdout}${run.stderr}`;
    const summary = output.split('\n').filter((l) => /^guest: |^host: |Tests {2}|Duration|steps passed/.test(l.trim()));
    console.log(`${summary.join('\n')}\nwhole run: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (run.status !== 0) console.error(output);
    expect(run.error).toBeUndefined();
    // Every part ran in the guest and exited 0 (run-v2.sh prints one line per part).
    const exits = Object.fromEntries([...output.matchAll(/^host: part (\S+) exit (\d+) in /gm)].map((m) => [m[1], Number(m[2])]));
    expect(exits).toEqual(Object.fromEntries(PARTS.map((p) => [p, 0])));
    // The guest really was cgroup v2, and the file's tests ran and passed.
    expect(output).toContain('cgroups for real (v2)');
    expect(output).toMatch(/Tests {2}\d+ passed \(\d+\)/);
    expect(output).not.toMatch(/Tests {2}.*failed/);
    // Each lesson's rehearsal ran all of its steps (check-all's last line).
    expect(output.match(/^(\d+) of \1 steps passed in /gm)).toHaveLength(2);
    expect(run.status).toBe(0);
  }, 300_000);
});
