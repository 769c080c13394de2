// The warm-stage pool with a fake stage factory: which stage is handed out,
// started, kept and discarded. No root, no processes.
import { describe, expect, it, vi } from 'vitest';
import { WarmStagePool, type StageShape, type WarmStage } from '../../src/runtime/start/warm-pool.js';

class FakeStage implements WarmStage {
  running = true;
  discarded = 0;
  discardedSync = 0;
  readonly ready: Promise<void>;
  fail!: (err: Error) => void;
  constructor(readonly shape: StageShape, readonly id: number) {
    this.ready = new Promise((resolve, reject) => {
      this.fail = reject;
      queueMicrotask(resolve);
    });
    this.ready.catch(() => {});
  }
  async discard(): Promise<void> {
    this.running = false;
    this.discarded++;
  }
  discardSync(): void {
    this.running = false;
    this.discardedSync++;
  }
}

function fakePool() {
  const made: FakeStage[] = [];
  const pool = new WarmStagePool((shape) => {
    const stage = new FakeStage(shape, made.length);
    made.push(stage);
    return stage;
  });
  return { pool, made };
}

const ALL: StageShape = { unshareFlags: 0x6c000000, stdio: 'pipe' };
const UTS_ONLY: StageShape = { unshareFlags: 0x04000000, stdio: 'pipe' };

describe('WarmStagePool', () => {
  it('hands out nothing when nothing was prepared, and starts nothing unless asked to keep stages warm', () => {
    const { pool, made } = fakePool();
    expect(pool.take(ALL)).toBeUndefined();
    expect(made).toHaveLength(0);
  });

  it('hands out a prepared stage of the same shape once, and not one of another shape', async () => {
    const { pool, made } = fakePool();
    await pool.prewarm(ALL);
    expect(pool.take(UTS_ONLY)).toBeUndefined();
    expect(pool.take({ ...ALL, stdio: 'inherit' })).toBeUndefined();
    expect(pool.take(ALL)).toBe(made[0]);
    expect(pool.take(ALL)).toBeUndefined();
  });

  it('prepares one stage per shape, however often it is asked', async () => {
    const { pool, made } = fakePool();
    await Promise.all([pool.prewarm(ALL), pool.prewarm(ALL)]);
    expect(made).toHaveLength(1);
  });

  it('while kept warm, refills (after the start, not in take) with one stage for the shape just asked, and keeps only that one', async () => {
    const { pool, made } = fakePool();
    await pool.keepStagesWarm(true);
    await pool.prewarm(UTS_ONLY);
    expect(pool.take(ALL)).toBeUndefined(); // none of this shape yet: the caller starts one cold
    expect(made).toHaveLength(1); // take starts nothing: its Node boot would compete with the start
    pool.refill(ALL);
    expect(made.map((s) => s.shape)).toEqual([UTS_ONLY, ALL]);
    expect(made[0].discarded).toBe(1); // the other shape's stage is not kept
    expect(pool.size).toBe(1);
    pool.refill(ALL); // one waits already
    expect(made).toHaveLength(2);
    expect(pool.take(ALL)).toBe(made[1]);
    expect(pool.size).toBe(0);
    pool.refill(ALL);
    expect(made[2].shape).toEqual(ALL);
    expect(pool.size).toBe(1);
  });

  it('refills after the container has ended, on the turn after, or after the delay while it runs', async () => {
    vi.useFakeTimers();
    try {
      const { pool, made } = fakePool();
      await pool.keepStagesWarm(true);
      let end!: () => void;
      pool.refillAfter(ALL, new Promise<void>((resolve) => (end = resolve)), 200);
      await vi.advanceTimersByTimeAsync(150);
      expect(made).toHaveLength(0); // still running, not long enough: nothing boots beside it
      end();
      await Promise.resolve();
      expect(made).toHaveLength(0); // whoever awaited the exit goes first
      await vi.advanceTimersByTimeAsync(1);
      expect(made).toHaveLength(1);

      pool.take(ALL);
      pool.refillAfter(ALL, new Promise<void>(() => {}), 200); // a container that keeps running
      await vi.advanceTimersByTimeAsync(199);
      expect(made).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(2);
      expect(made).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1000);
      expect(made).toHaveLength(2); // once
    } finally {
      vi.useRealTimers();
    }
  });

  it('refills nothing unless stages are kept warm', () => {
    const { pool, made } = fakePool();
    pool.refill(ALL);
    expect(made).toHaveLength(0);
  });

  it('does not hand out a stage that has died, and discards it', async () => {
    const { pool, made } = fakePool();
    await pool.prewarm(ALL);
    made[0].running = false;
    expect(pool.take(ALL)).toBeUndefined();
    expect(made[0].discarded).toBe(1);
  });

  it('drops a stage that will never be ready', async () => {
    const made: FakeStage[] = [];
    const pool = new WarmStagePool((shape) => {
      const stage = new FakeStage(shape, made.length);
      stage.fail(new Error('worker failed'));
      made.push(stage);
      return stage;
    });
    await pool.prewarm(ALL);
    expect(made[0].discarded).toBe(1);
    expect(pool.size).toBe(0);
  });

  it('holds stages warm until the last holder releases, then discards them', async () => {
    const { pool, made } = fakePool();
    const first = pool.hold(ALL);
    const second = pool.hold(ALL);
    await made[0].ready;
    expect(made).toHaveLength(1);
    await first();
    await first(); // twice is harmless
    expect(made[0].discarded).toBe(0);
    expect(pool.size).toBe(1);
    await second();
    expect(made[0].discarded).toBe(1);
    expect(pool.size).toBe(0);
    expect(pool.take(ALL)).toBeUndefined();
    expect(made).toHaveLength(1); // no longer kept warm: nothing new is started
  });

  it('kills every waiting stage at process exit without awaiting', async () => {
    const { pool, made } = fakePool();
    await pool.prewarm(ALL);
    await pool.prewarm(UTS_ONLY);
    pool.discardAllSync();
    expect(made.map((s) => s.discardedSync)).toEqual([1, 1]);
    expect(pool.size).toBe(0);
  });
});
