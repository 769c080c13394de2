// Warm starts in-process, as a lesson session makes them: a stage started ahead
// of time with the overlay directories its container will take, the stage's fds
// held by the launcher's thread (stage-channel.ts), and nothing left once the
// stages are no longer kept warm.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { buildBase, hostState, isRoot, removeStateDir, tempStateDir, warnIfNotRoot } from '../helpers/host.js';
import { defaultRootfs } from '../../src/runtime/paths.js';
import { keepStagesWarm, prewarm, runOnce, startContainer, stopAll } from '../../src/runtime/container.js';

warnIfNotRoot('warm start tests');

describe.skipIf(!isRoot)('a warm start', () => {
  let state: string;
  let before: ReturnType<typeof hostState>;
  const rootfs = defaultRootfs();
  const scratch = () => (fs.existsSync(path.join(state, 'scratch')) ? fs.readdirSync(path.join(state, 'scratch')).sort() : []);

  beforeAll(buildBase);
  beforeEach(async () => {
    state = tempStateDir('warm');
    process.env.CONTAINY_STATE_DIR = state;
    before = hostState();
    await keepStagesWarm(true);
  });
  afterEach(async () => {
    await stopAll();
    expect(scratch(), 'a warm stage left its overlay directories').toEqual([]);
    expect(removeStateDir(state)).toEqual({ records: [], scratch: [] });
    expect(hostState()).toEqual(before);
    delete process.env.CONTAINY_STATE_DIR;
  });

  it('gives an unnamed container the overlay directories made ahead of time, and removes them when it ends', async () => {
    await prewarm(undefined, 'pipe');
    const [warm] = scratch();
    expect(warm).toMatch(/^warm-[0-9a-f]+$/);
    expect(fs.readdirSync(path.join(state, 'scratch', warm)).sort()).toEqual(['merged', 'upper', 'work']);
    const c = await startContainer({ argv: ['sh', '-c', 'echo hi > /written; cat'], rootfs, stdio: 'pipe' });
    expect(scratch()).toEqual([c.name]); // renamed, not made again
    c.endInput();
    const exit = await c.exited;
    expect(exit.status).toBe(0);
    expect(scratch().filter((n) => !n.startsWith('warm-'))).toEqual([]); // its own went, written file and all
  });

  it('leaves no warm directories behind a named container, which keeps its own', async () => {
    await prewarm(undefined, 'pipe');
    const r = await runOnce({ argv: ['true'], rootfs, name: 'warm-named', remove: true });
    expect(r.status).toBe(0);
    await keepStagesWarm(false); // the refill's stage and directories go too
    expect(scratch()).toEqual([]);
  });

  it('passes the order, stdin, both outputs and the exit status between the launcher and a worker-spawned stage', async () => {
    await prewarm(undefined, 'pipe');
    const c = await startContainer({ argv: ['sh', '-c', 'read line; echo "out:$line"; echo "err:$line" >&2; exit 7'], rootfs, stdio: 'pipe' });
    const out: string[] = [];
    const err: string[] = [];
    c.on('stdout', (b: Buffer) => out.push(b.toString()));
    c.on('stderr', (b: Buffer) => err.push(b.toString()));
    c.write('through the channel\n');
    const exit = await c.exited;
    expect(exit.status).toBe(7);
    expect(out.join('')).toBe('out:through the channel\n');
    expect(err.join('')).toBe('err:through the channel\n');
  });

  it('loses no output written just before the command exits', async () => {
    await prewarm(undefined, 'pipe');
    const r = await runOnce({ argv: ['sh', '-c', 'seq 1 20000; echo done >&2'], rootfs });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(20000);
    expect(r.stderr).toContain('done');
  });
});
