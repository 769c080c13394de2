// A fast command can print before whoever started it has attached its
// 'stdout'/'stderr' listeners (they can only attach once the start resolves).
// Output is held back until the first listener comes, then replayed in order.
import { EventEmitter } from 'node:events';

export type OutputStream = 'stdout' | 'stderr';

export class HeldOutputEmitter extends EventEmitter {
  private held: Array<[OutputStream, Buffer]> = [];

  constructor() {
    super();
    this.on('newListener', (event: string) => {
      // 'newListener' fires before the listener is added: replay once it is in place.
      if ((event === 'stdout' || event === 'stderr') && this.held.length) queueMicrotask(() => this.replay());
    });
  }

  protected emitOutput(stream: OutputStream, chunk: Buffer): void {
    if (this.listenerCount('stdout') + this.listenerCount('stderr') === 0) {
      this.held.push([stream, chunk]);
      return;
    }
    this.replay(); // what was held goes first
    this.emit(stream, chunk);
  }

  private replay(): void {
    const held = this.held;
    this.held = [];
    for (const [stream, chunk] of held) this.emit(stream, chunk);
  }
}
