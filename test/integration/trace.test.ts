// run --trace: the libc calls of a start, the launcher's and the stage's, in order (root).
import fs from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli, hostState, isRoot, tempStateDir, warnIfNotRoot } from '../helpers/host.js';

warnIfNotRoot('the trace integration test');

describe.skipIf(!isRoot)('run --trace', () => {
  let state: string;
  let before: ReturnType<typeof hostState>;
  beforeAll(async () => expect((await cli(['rootfs', 'build'])).status).toBe(0));
  beforeEach(() => {
    state = tempStateDir('trace');
    before = hostState();
  });
  afterEach(() => {
    fs.rmSync(state, { recursive: true, force: true });
    expect(hostState()).toEqual(before);
  });

  it('shows unshare, mount, pivot_root and execve in order, each with its result', async () => {
    const r = await cli(['run', '--rm', '--trace', '--', 'echo', 'traced'], { env: { CONTAINY_STATE_DIR: state } });
    expect(r.stdout).toBe('traced\n');
    expect(r.status).toBe(0);
    const calls = r.stderr.split('\n').filter(Boolean).map((l) => /^\s*[\d.]+ ms {2}\[(\d+)\] (\w+)\((.*)\) = (\S+)/.exec(l));
    expect(calls.every(Boolean), r.stderr).toBe(true);
    const names = calls.map((m) => m![2]);
    const order = ['unshare', 'mount', 'pivot_root', 'execve'].map((n) => names.indexOf(n));
    expect(order.every((i) => i >= 0), names.join(' ')).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The launcher's unshare of pid/uts/ipc/net comes from this side; the stage is PID 1 inside.
    expect(calls[0]![1]).not.toBe('1');
    expect(calls.find((m) => m![2] === 'pivot_root')![1]).toBe('1');
    expect(calls.filter((m) => m![2] !== 'execve').every((m) => m![4] === '0' || m![4] === '1')).toBe(true);
    expect(calls.at(-1)![3]).toMatch(/^"\/[\w/]*\/echo", \["echo", "traced"\]$/); // wherever the base keeps echo
  });

  it('prints nothing extra without --trace', async () => {
    const r = await cli(['run', '--rm', '--', 'echo', 'plain'], { env: { CONTAINY_STATE_DIR: state } });
    expect([r.stdout, r.stderr, r.status]).toEqual(['plain\n', '', 0]);
  });
});
