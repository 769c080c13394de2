// Warm stages: a stage started ahead of time skips Node's start-up (~70 ms,
// docs/architecture.md, fact 9) when the next container asks for the same
// namespaces and stdio. The pool only decides when to start, keep, hand out and
// discard stages; what a stage is comes from the factory it is given.

/** What the pool needs of a stage. */
export interface WarmStage {
  /** False once it has died (killed, or its thread failed): it cannot be handed out. */
  readonly running: boolean;
  /** Resolves once it waits for its order; rejects if it never will. */
  readonly ready: Promise<unknown>;
  /** Kill it and release what was made for it. */
  discard(): Promise<void>;
  /** The same, for process exit, where nothing may be awaited. */
  discardSync(): void;
}

/** Which stages can stand in for each other: the namespaces the spawner unshares, and stdio. */
export interface StageShape {
  unshareFlags: number;
  stdio: 'inherit' | 'pipe' | 'ignore';
}

export type StageFactory<S extends WarmStage> = (shape: StageShape) => S;

/** How long a container runs before the stage that will follow it starts booting (refillAfter). */
export const REFILL_DELAY_MS = 200;

const keyOf = (shape: StageShape) => `${shape.unshareFlags}:${shape.stdio}`;

export class WarmStagePool<S extends WarmStage> {
  private readonly stages = new Map<string, S>();
  private keepWarm = false;
  private holders = 0;

  constructor(private readonly startStage: StageFactory<S>) {}

  /** Keep one stage ready for the next container; off discards the ones waiting. */
  async keepStagesWarm(on = true): Promise<void> {
    this.keepWarm = on;
    if (!on) await Promise.all([...this.stages.keys()].map((key) => this.discard(key)));
  }

  /**
   * Keep a stage of this shape warm for as long as anything holds the pool (each
   * open lesson session does); the returned release stops keeping stages warm
   * once nobody holds it. Releasing twice is harmless.
   */
  hold(shape: StageShape): () => Promise<void> {
    this.holders++;
    this.keepWarm = true;
    void this.prewarm(shape);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (--this.holders === 0) await this.keepStagesWarm(false);
    };
  }

  /** Start a stage of this shape unless one waits already; resolves once it is ready (a failed one is discarded). */
  prewarm(shape: StageShape): Promise<void> {
    const key = keyOf(shape);
    let stage = this.stages.get(key);
    if (!stage) {
      stage = this.startStage(shape);
      this.stages.set(key, stage);
    }
    const started = stage;
    return started.ready.then(
      () => {},
      // A stage that will never be ready is dropped (unless take() has already handed it out).
      () => (this.stages.get(key) === started ? this.discard(key) : undefined),
    );
  }

  /**
   * The warm stage of this shape if one is alive, else undefined (the caller
   * starts one cold). Starts nothing: the caller refills later (refillAfter), so
   * that the next stage's Node boot does not compete for the CPU with the start
   * it is taken for (on two cores it added ~12 ms to a warm start).
   */
  take(shape: StageShape): S | undefined {
    const key = keyOf(shape);
    const warm = this.stages.get(key);
    this.stages.delete(key);
    if (warm?.running) return warm;
    if (warm) void warm.discard();
    return undefined;
  }

  /**
   * While stages are kept warm, start the next one for the shape just asked
   * (consecutive starts tend to ask alike) unless one waits, and keep only that
   * one: each is a Node process of ~40 MiB.
   */
  refill(shape: StageShape): void {
    if (!this.keepWarm) return;
    const key = keyOf(shape);
    for (const other of [...this.stages.keys()]) if (other !== key) void this.discard(other);
    if (!this.stages.has(key)) this.stages.set(key, this.startStage(shape));
  }

  /**
   * refill, once `settled` (the container started from the stage just taken)
   * resolves or after `delayMs`, whichever comes first, and on the turn after:
   * the next stage's Node boot takes a core for ~70 ms, and on two cores it
   * slowed the container it was taken for through its start and first moments
   * (a /bin/true run by ~3 ms, its cleanup included). A start that comes in the
   * meantime finds no warm stage and starts its own, as it would have while the
   * refill booted.
   */
  refillAfter(shape: StageShape, settled: Promise<unknown>, delayMs = REFILL_DELAY_MS): void {
    let done = false;
    const refill = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      setImmediate(() => this.refill(shape));
    };
    const timer = setTimeout(refill, delayMs);
    timer.unref();
    settled.then(refill, refill);
  }

  /** How many stages wait (for tests and the benchmark). */
  get size(): number {
    return this.stages.size;
  }

  /** At process exit: kill every waiting stage without awaiting anything. */
  discardAllSync(): void {
    for (const stage of this.stages.values()) stage.discardSync();
    this.stages.clear();
  }

  private async discard(key: string): Promise<void> {
    const stage = this.stages.get(key);
    this.stages.delete(key);
    if (stage) await stage.discard();
  }
}
