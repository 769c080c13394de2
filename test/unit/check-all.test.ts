// check-all's report with a fake runtime: the machine's facts first, steps
// that depend on a failed one skipped (not failed), the sentence that says why
// a step cannot run here, and every line within 80 columns.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { checkAll } from '../../src/lessons/check-all.js';
import type { HostSupport } from '../../src/lessons/engine.js';
import { overlayProblem } from '../../src/lessons/host-support.js';
import { hostFactLines, UserError, type HostFacts } from '../../src/runtime/index.js';
import { fakeRuntime, type FakeRuntime } from './lessons-fake-runtime.js';

class Collect extends Writable {
  text = '';
  _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

const FACTS: HostFacts = {
  kernel: { release: '6.1.0-27-amd64', arch: 'x86_64' },
  cgroup: { layout: 'v2', root: '/sys/fs/cgroup', systemd: true, pid1: 'systemd' },
  overlay: 'loadable',
  userns: { supported: true, maxUserNamespaces: 63704, unprivilegedClone: null, apparmorRestrict: 1 },
  node: 'v26.1.0',
  base: { path: '/srv/containy-learn/rootfs/base', kind: 'built', tools: 'host', python: '/usr/bin/python3.13', sizeBytes: 41e6 },
};
const supported: HostSupport = { overlay: () => undefined, cgroups: () => undefined };

let tmp: string;
let rt: FakeRuntime;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-check-all-test-'));
  rt = fakeRuntime(tmp);
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Lesson 9 of the given step blocks, alone in a lessons directory. */
function lessonsDir(steps: string[][], frontMatter = ''): string {
  const dir = path.join(tmp, 'lessons');
  fs.mkdirSync(dir, { recursive: true });
  const body = steps.map((lines, i) => `## Step ${i + 1} of a lesson whose titles are rather long, really\n\nProse.\n\n\`\`\`step\n${lines.join('\n')}\n\`\`\`\n`).join('\n');
  fs.writeFileSync(path.join(dir, '09-test.md'), `---\nid: 9\ntitle: Test\nsummary: A test lesson.\n${frontMatter}---\n\nIntro.\n\n${body}`);
  return dir;
}

async function run(dir: string, hostSupport = supported): Promise<{ code: number; text: string }> {
  const out = new Collect();
  const code = await checkAll({ out, color: false, lessonsDir: dir, facts: FACTS, session: { runtime: rt, isRoot: true, workdir: path.join(tmp, 'work'), hostSupport } });
  return { code, text: out.text };
}

const START = ['action: start', 'rootfs: host', 'namespaces: [uts]', 'check: running == true'];
const EXEC = ['action: exec', 'command: hostname', 'check: exit == 0'];
const ONCE = ['action: run', 'rootfs: host', 'command: hostname', 'check: exit == 0'];

describe('check-all', () => {
  it('--except leaves a lesson out, says so, and refuses a number that is no lesson', async () => {
    const dir = lessonsDir([ONCE]);
    const out = new Collect();
    const opts = { out, color: false, lessonsDir: dir, facts: FACTS, session: { runtime: rt, isRoot: true, workdir: path.join(tmp, 'work'), hostSupport: supported } };
    expect(await checkAll({ ...opts, except: [9] })).toBe(0);
    expect(out.text).toContain('left out (--except): lesson 9');
    expect(out.text).not.toContain('lesson 9 step');
    await expect(checkAll({ ...opts, except: [3] })).rejects.toThrow(/there is no lesson 3/);
  });

  it('opens with the machine, one line per fact, before any step runs', async () => {
    const { text } = await run(lessonsDir([ONCE]));
    const [head] = text.split('\nlesson 9 step 1/1');
    expect(head).toBe(`This machine:\n${hostFactLines(FACTS, 78).map((l) => `  ${l}`).join('\n')}\n`);
    expect(head).toMatch(/^ {2}base {5}host tools/m);
    expect(head).toMatch(/^ {2}overlay {2}not loaded, but a module of this kernel: `sudo modprobe overlay`$/m);
  });

  it('skips the steps that use what a failed step did not make, runs the rest, and exits 1', async () => {
    rt.refuseNextStart = new UserError('pivot_root failed with EINVAL: the new root is not a mount point');
    const { code, text } = await run(lessonsDir([START, EXEC, ONCE, START, EXEC]));
    expect(code).toBe(1);
    expect(text).toMatch(/^lesson 9 step 1\/5: .* \.\.\. FAIL \(\d+ ms\)\n {4}error: pivot_root failed with EINVAL/m);
    expect(text).toMatch(/^lesson 9 step 2\/5: .* \.\.\. skipped \(step 1 failed\)$/m);
    expect(text).toMatch(/^lesson 9 step 3\/5: .* \.\.\. pass/m);
    // A later start makes the container again: what uses it runs.
    expect(text).toMatch(/^lesson 9 step 5\/5: .* \.\.\. pass/m);
    expect(text).toMatch(/^ {5}9 {5}2 {2}skipped {15}Step 2 .*\n {8}skipped \(step 1 failed\)$/m);
    expect(text).toMatch(/3 of 5 steps passed \(1 skipped\) in/);
    // The skipped step asked nothing of the runtime: one exec ran, in the second container.
    expect(rt.started).toHaveLength(1);
    expect(rt.started[0].runs).toEqual([['sh', '-c', 'hostname']]);
  });

  it('still runs the next steps when a step failed a check but made its container', async () => {
    const { code, text } = await run(lessonsDir([[...START, 'check: container.hostname == "nope"'], EXEC]));
    expect(code).toBe(1);
    expect(text).toMatch(/step 1\/2: .* FAIL/);
    expect(text).toMatch(/step 2\/2: .* pass/);
    expect(text).not.toContain('skipped');
  });

  it('shows why a step cannot run and the fix, and skips what depends on it', async () => {
    const noOverlay: HostSupport = { overlay: () => overlayProblem('loadable'), cgroups: () => undefined };
    const { code, text } = await run(lessonsDir([['action: start', 'check: running == true'], EXEC]), noOverlay);
    expect(code).toBe(1);
    const table = text.slice(text.indexOf('lesson  step  result'));
    expect(table.replace(/\n {8}/g, ' ')).toContain(`cannot run  0 ms      Step 1 of a lesson whose titles are rather … ${overlayProblem('loadable')}`);
    expect(table).toMatch(/skipped \(step 1 could not run here\)/);
    expect(text).toMatch(/0 of 2 steps passed \(1 skipped, 1 cannot run\)/);
  });

  it('fits every line in 80 columns', async () => {
    rt.refuseNextStart = new UserError(`the rootfs ${'/very/long/path'.repeat(10)} does not exist: give a directory holding a root filesystem (with bin/sh)`);
    const { text } = await run(lessonsDir([START, EXEC, ONCE]));
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });
});
