// Real cgroups, on whatever this host has: v1/hybrid here, v2 in the qemu guest
// (test/vm runs this same file there). Each test makes its own cgroup under a
// parent of its own, runs the cgroups_example demos in it, and removes it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCgroup, describeLimitEnd, detectLayout, parseLimitFlags, sweepCgroups } from '../../src/runtime/cgroups/index.js';
import { UserError } from '../../src/runtime/errors.js';
import type { CgroupLimits, ContainerCgroup } from '../../src/runtime/cgroups/index.js';
import { containyCgroupTree, demo, isAlive, PYTHON, readTrim, runIn, startIn } from './cgroups-harness.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('cgroups integration tests skipped: they create real cgroups and need root');

// Our own parent, so a test run never touches the cgroups of containers someone is running.
const PARENT = `containy-learn-test-${process.pid}`;

describe.skipIf(!root)(`cgroups for real (${root ? detectLayout() : 'not root'})`, () => {
  const layout = root ? detectLayout() : 'v1';
  const v2 = layout === 'v2';
  let before: string[];
  const made: ContainerCgroup[] = [];
  const create = (name: string, limits: CgroupLimits) => {
    const cg = createCgroup(name, limits);
    made.push(cg);
    return cg;
  };

  beforeAll(() => {
    process.env.CONTAINY_CGROUP_PARENT = PARENT;
    before = containyCgroupTree();
    console.log(`cgroup layout: ${layout}; python: ${PYTHON}`);
  });

  afterAll(() => {
    for (const cg of made) cg.destroy(); // a failed test's cgroup; a no-op for the others
    delete process.env.CONTAINY_CGROUP_PARENT;
    expect(containyCgroupTree()).toEqual(before);
  });

  /** Where the file for a controller lives for this container, on this host's layout. */
  function fileOf(cg: ContainerCgroup, controller: string, file: string): string {
    const dir = v2 ? cg.paths[0] : cg.paths.find((p) => p.split('/').includes(controller) || p.split('/').some((part) => part.split(',').includes(controller)));
    if (!dir) throw new Error(`no ${controller} dir in ${cg.paths.join(', ')}`);
    return path.join(dir, file);
  }

  it('writes each limit to the file that holds it, before anything joins', () => {
    const limits = parseLimitFlags({ memory: '512m', pidsLimit: '10', cpus: '0.2', cpuShares: '512' });
    const cg = create('limits', limits);
    expect(cg.pids()).toEqual([]);
    const expected: [string, string, string][] = v2
      ? [
          ['memory', 'memory.max', '536870912'],
          ['memory', 'memory.swap.max', '0'],
          ['pids', 'pids.max', '10'],
          ['cpu', 'cpu.max', '20000 100000'],
          // runc: 1 + ((512 - 2) * 9999) / 262142
          ['cpu', 'cpu.weight', '20'],
        ]
      : [
          ['memory', 'memory.limit_in_bytes', '536870912'],
          ['memory', 'memory.memsw.limit_in_bytes', '536870912'],
          ['pids', 'pids.max', '10'],
          ['cpu', 'cpu.cfs_period_us', '100000'],
          ['cpu', 'cpu.cfs_quota_us', '20000'],
          ['cpu', 'cpu.shares', '512'],
        ];
    for (const [controller, file, value] of expected) expect([file, readTrim(fileOf(cg, controller, file))]).toEqual([file, value]);

    // read() reports the same values, each with the real file it came from.
    const report = cg.read();
    const limit = (id: string) => report.limits.find((v) => v.id === id);
    expect(limit('memory.limit')).toMatchObject({ value: 536870912, file: fileOf(cg, 'memory', v2 ? 'memory.max' : 'memory.limit_in_bytes') });
    expect(limit('pids.limit')).toMatchObject({ value: 10, raw: '10', file: fileOf(cg, 'pids', 'pids.max') });
    expect(limit('cpu.quota')).toMatchObject({ value: 20000 });
    expect(limit('cpu.period')).toMatchObject({ value: 100000 });
    for (const v of [...report.limits, ...report.usage, ...report.events]) expect(fs.existsSync(v.file), v.file).toBe(true);
    expect(cg.events()).toMatchObject({ oomKills: 0, pidsLimitHits: 0, throttledPeriods: 0 });
    cg.destroy();
    for (const p of cg.paths) expect(fs.existsSync(p)).toBe(false);
  });

  it('applies the IO weight, or refuses before creating anything when the host has no weight file', () => {
    const treeBefore = containyCgroupTree();
    let cg: ContainerCgroup;
    try {
      cg = create('io', parseLimitFlags({ blkioWeight: '300' }));
    } catch (err) {
      // Hosts whose IO schedulers offer no weights (no BFQ, no iocost) must say so, and leave nothing.
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(/IO weight cannot be applied|controller '(io|blkio)'/);
      expect(containyCgroupTree()).toEqual(treeBefore);
      console.warn(`IO weight not offered here: ${(err as Error).message}`);
      return;
    }
    const weight = cg.read().limits.find((v) => v.id === 'io.weight');
    expect(weight).toBeDefined();
    // blkio.weight / blkio.bfq.weight / io.bfq.weight take docker's 10..1000 as is; io.weight is converted.
    const file = path.basename(weight!.file);
    expect(weight!.value).toBe(file === 'io.weight' ? 1 + Math.floor(((300 - 10) * 9999) / 990) : 300);
    cg.destroy();
  });

  it('refuses forks at pids.max: proc.py gets 9 children, then EAGAIN, and pids.events counts it', async () => {
    const limits = parseLimitFlags({ pidsLimit: '10' });
    const cg = create('pids', limits);
    const run = await runIn(cg, [PYTHON, demo('proc.py')]);
    const forked = run.stdout.split('\n').filter((l) => l.includes('new process with PID'));
    // The parent is process 1 of 10.
    expect(forked).toHaveLength(9);
    expect(run.stdout).toContain('fork refused: [Errno 11] Resource temporarily unavailable');
    expect(run.status).toBe(1);
    const events = cg.events();
    expect(events.pidsLimitHits).toBeGreaterThanOrEqual(1);
    expect(cg.read().events.find((v) => v.id === 'events.pids_max')?.raw).toMatch(/^max [1-9]/);
    expect(describeLimitEnd(events, limits, run.status)).toContain(
      `fork refused ${events.pidsLimitHits === 1 ? 'once' : `${events.pidsLimitHits} times`}: pids limit 10 reached`,
    );
    cg.destroy();
  });

  it('OOM-kills mem.py on its 6th 100 MiB allocation under a 512 MiB limit, and the OOM counter moves', async () => {
    const limits = parseLimitFlags({ memory: '512M' });
    const cg = create('mem', limits);
    const started = Date.now();
    const run = await runIn(cg, [PYTHON, demo('mem.py')]);
    console.log(`mem.py under 512 MiB: ${Date.now() - started} ms, status ${run.status}`);
    const allocations = run.stdout.split('\n').filter((l) => l.includes('100 MiB was allocated'));
    expect(allocations).toHaveLength(5);
    expect(allocations[4]).toContain('(500 MiB in total)');
    expect(run.status).toBe(137);
    const events = cg.events();
    expect(events.oomKills).toBeGreaterThanOrEqual(1);
    const peak = cg.read().usage.find((v) => v.id === 'memory.peak');
    if (peak) expect(peak.value).toBeGreaterThan(500 * 1024 * 1024);
    expect(describeLimitEnd(events, limits, run.status)[0]).toBe('the container was OOM-killed (memory limit 512 MiB)');
    cg.destroy();
  });

  it('throttles cpu.py to about 20% of a core under --cpus 0.2', async () => {
    const limits = parseLimitFlags({ cpus: '0.2' });
    const cg = create('cpu', limits);
    const run = await runIn(cg, [PYTHON, demo('cpu.py'), '2']);
    expect(run.status).toBe(0);
    const percent = Number(/(\d+)% of one core/.exec(run.stdout)?.[1]);
    console.log(`cpu.py under 0.2 CPUs: ${run.stdout.trim()}`);
    expect(percent).toBeGreaterThanOrEqual(10);
    expect(percent).toBeLessThanOrEqual(35);
    const events = cg.events();
    expect(events.throttledPeriods).toBeGreaterThan(5);
    const used = cg.read().usage.find((v) => v.id === 'cpu.usage');
    expect(used?.value).toBeGreaterThan(100_000); // at least 0.1 s of CPU, in µs
    expect(describeLimitEnd(events, limits, run.status)).toEqual([expect.stringMatching(/^CPU throttled in \d+ periods \(limit 0.2 CPUs/)]);
    cg.destroy();
  });

  it('update() changes limits on a live cgroup, raising or lowering memory in either order', () => {
    const cg = create('update', parseLimitFlags({ memory: '256m' }));
    const memoryFile = fileOf(cg, 'memory', v2 ? 'memory.max' : 'memory.limit_in_bytes');
    cg.update(parseLimitFlags({ memory: '512m' }));
    expect(readTrim(memoryFile)).toBe(String(512 * 1024 * 1024));
    if (!v2) expect(readTrim(fileOf(cg, 'memory', 'memory.memsw.limit_in_bytes'))).toBe(String(512 * 1024 * 1024));
    cg.update(parseLimitFlags({ memory: '128m' }));
    expect(readTrim(memoryFile)).toBe(String(128 * 1024 * 1024));
    cg.update(parseLimitFlags({ cpus: '0.5', pidsLimit: '20' }));
    expect(cg.read().limits.find((v) => v.id === 'cpu.quota')?.value).toBe(50000);
    expect(readTrim(fileOf(cg, 'pids', 'pids.max'))).toBe('20');
    cg.destroy();
  });

  it('a multithreaded process (a Node stage) joins past pids.max: its threads count, and only new tasks are refused', async () => {
    const cg = create('threads', {});
    const node = startIn(cg, [process.execPath, '-e', 'setTimeout(() => {}, 600000)']);
    // Wait for the exec'd node to start its threads (V8 platform workers, libuv pool on demand).
    const deadline = Date.now() + 20_000;
    const tasks = () => cg.read().usage.find((v) => v.id === 'pids.current')?.value ?? 0;
    while (tasks() < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    cg.update({ pids: 2 });
    expect(tasks()).toBeGreaterThan(2);
    expect(readTrim(fileOf(cg, 'pids', 'pids.max'))).toBe('2');
    cg.destroy();
    expect((await node.exited).status).toBe(137);
  });

  it('destroy() kills what is left inside and removes every dir; a second destroy() does nothing', async () => {
    const cg = create('destroy', {});
    const a = startIn(cg, ['/bin/sleep', '600']);
    const b = startIn(cg, ['/bin/sleep', '600']);
    expect(cg.pids()).toEqual([a.pid, b.pid].sort((x, y) => x - y));
    expect(cg.read().usage.find((v) => v.id === 'pids.current')?.value).toBe(2);
    cg.destroy();
    expect((await a.exited).status).toBe(137);
    expect((await b.exited).status).toBe(137);
    for (const p of cg.paths) expect(fs.existsSync(p)).toBe(false);
    cg.destroy();
    expect(containyCgroupTree().filter((p) => p.includes(PARENT))).toEqual([]);
  });

  it('sweepCgroups() removes a leftover cgroup (runtime killed with -9), kills what is in it, and keeps live ones', async () => {
    const leftover = create('leftover', { pids: 5 });
    const live = create('alive', {});
    const orphan = startIn(leftover, ['/bin/sleep', '600']);
    const removed = sweepCgroups(new Set(['alive']));
    expect(removed.sort()).toEqual([...leftover.paths].sort());
    expect((await orphan.exited).status).toBe(137);
    expect(isAlive(orphan.pid)).toBe(false);
    for (const p of live.paths) expect(fs.existsSync(p)).toBe(true);
    live.destroy();
    // Nothing of ours left: the parent dirs went with the last container.
    expect(containyCgroupTree().filter((p) => p.includes(PARENT))).toEqual([]);
    expect(sweepCgroups(new Set())).toEqual([]);
  });

  it('refuses a name in use, and a name that cannot be a cgroup dir', () => {
    const first = create('twice', {});
    expect(() => createCgroup('twice', {})).toThrow(/a cgroup named 'twice' already exists/);
    for (const p of first.paths) expect(fs.existsSync(p)).toBe(true);
    first.destroy();
    expect(() => createCgroup('../escape', {})).toThrow(UserError);
    expect(() => createCgroup('', {})).toThrow(UserError);
  });

  it('join() of a process that does not exist says so', () => {
    const cg = create('nojoin', {});
    expect(() => cg.join(2 ** 22 + 1)).toThrow(/cannot move PID 4194305 into .*cgroup.procs: no such process/);
    cg.destroy();
  });

  it('says cgroups are not mounted when the cgroup root is not a cgroup filesystem', () => {
    const notCgroup = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-nocgroup-'));
    process.env.CONTAINY_CGROUP_ROOT = notCgroup;
    try {
      expect(() => detectLayout()).toThrow(new UserError(`cgroups are not mounted at ${notCgroup}: mount cgroup2 there (mount -t cgroup2 none ${notCgroup}) or boot a kernel with cgroups enabled; resource limits need them`));
      expect(() => createCgroup('nomount', { memory: 64 << 20 })).toThrow(/cgroups are not mounted/);
      expect(fs.readdirSync(notCgroup)).toEqual([]);
      expect(sweepCgroups(new Set())).toEqual([]);
    } finally {
      delete process.env.CONTAINY_CGROUP_ROOT;
      fs.rmdirSync(notCgroup);
    }
  });
});
