// The instructor's rehearsal, run as part of the test suite: a lesson that
// stops working on this machine turns CI red.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import { cli, hostState, isRoot, tempStateDir, warnIfNotRoot } from '../helpers/host.js';
import { defaultRootfs } from '../../src/runtime/paths.js';

warnIfNotRoot('check-all over every lesson');

describe.skipIf(!isRoot)('containy-learn check-all', () => {
  it('passes every step of every lesson and leaves the host as it found it', async () => {
    const before = hostState();
    const state = tempStateDir('check-all');
    try {
      const r = await cli(['check-all'], { env: { CONTAINY_STATE_DIR: state }, timeoutMs: 600_000 });
      // It opens with the machine: one line per fact, this host's own values.
      const header = r.stdout.slice(0, r.stdout.indexOf('\n\n'));
      expect(header).toMatch(/^This machine:\n/);
      for (const label of ['kernel', 'cgroup', 'overlay', 'userns', 'node', 'base']) expect(header).toMatch(new RegExp(`^  ${label} +\\S`, 'm'));
      expect(header).toContain(`kernel   ${fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()} ${os.machine()}`);
      expect(header).toContain(`node     ${process.version}`);
      expect(header).toMatch(/^  base     (busybox|host tools|imported)/m);
      for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
      // The table is the evidence: show it when a step fails.
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      const summary = /(\d+) of (\d+) steps passed/.exec(r.stdout);
      expect(summary, r.stdout).not.toBeNull();
      // The count per base and Node line, for the test matrix's log.
      console.log(`check-all on ${defaultRootfs()} under Node ${process.version}: ${summary![0]}`);
      expect(Number(summary![1])).toBe(Number(summary![2]));
      // Every lesson took part: each appears in the table.
      for (const lesson of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) expect(r.stdout).toMatch(new RegExp(`^\\s+${lesson}\\s+1\\s`, 'm'));
      // Nothing of the lessons is left; seccomp/ is the compiled-filter cache, kept on purpose (security/compile.ts).
      expect(fs.readdirSync(state).filter((d) => d !== 'seccomp').flatMap((d) => fs.readdirSync(`${state}/${d}`))).toEqual([]);
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
    expect(hostState()).toEqual(before);
  }, 600_000);

  it('refuses an unknown lesson with 125', async () => {
    const r = await cli(['check-all', '--lesson', '99']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/lesson 99/);
  });
});
