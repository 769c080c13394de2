// The instructor's rehearsal, run as part of the test suite: a lesson that
// stops working on this machine turns CI red.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { cli, hostState, isRoot, tempStateDir, warnIfNotRoot } from '../helpers/host.js';
import { defaultRootfs } from '../../src/runtime/paths.js';

warnIfNotRoot('check-all over every lesson');

describe.skipIf(!isRoot)('containy-learn check-all', () => {
  it('passes every step of every lesson and leaves the host as it found it', async () => {
    const before = hostState();
    const state = tempStateDir('check-all');
    try {
      const r = await cli(['check-all'], { env: { CONTAINY_STATE_DIR: state }, timeoutMs: 600_000 });
      // The table is the evidence: show it when a step fails.
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      const summary = /(\d+) of (\d+) steps passed/.exec(r.stdout);
      expect(summary, r.stdout).not.toBeNull();
      // The count per base and Node line, for the test matrix's log.
      console.log(`check-all on ${defaultRootfs()} under Node ${process.version}: ${summary![0]}`);
      expect(Number(summary![1])).toBe(Number(summary![2]));
      // Every lesson took part: 0 to 5 each appear in the table.
      for (const lesson of [0, 1, 2, 3, 4, 5]) expect(r.stdout).toMatch(new RegExp(`^\\s+${lesson}\\s+1\\s`, 'm'));
      expect(fs.readdirSync(state).flatMap((d) => fs.readdirSync(`${state}/${d}`))).toEqual([]);
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
