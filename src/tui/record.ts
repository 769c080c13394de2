// `--record FILE.cast`: the session as an asciicast v2 recording
// (https://docs.asciinema.org/manual/asciicast/v2/): a header line, then one
// JSON line per event, `[seconds, "o", text]` for what the workshop wrote to
// the terminal and `[seconds, "m", label]` a marker at each step run, so a
// player can jump from step to step. Written as it goes, synchronously: a
// killed workshop leaves a recording that plays up to its end.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Where a step run is marked; set while a recording runs (the lesson view calls it). */
export const stepMarks: { mark?: (label: string) => void } = {};

export class CastRecorder {
  private readonly started = performance.now();
  private readonly decoder = new StringDecoder('utf8');
  private closed = false;

  /** `fd`: the recording, opened for writing by the caller (which says why it cannot be). */
  constructor(private readonly fd: number, width: number, height: number, env: Record<string, string | undefined> = process.env) {
    const header = { version: 2, width, height, timestamp: Math.floor(Date.now() / 1000), env: { TERM: env.TERM ?? 'xterm', SHELL: env.SHELL ?? '/bin/sh' } };
    fs.writeSync(fd, JSON.stringify(header) + '\n');
  }

  private event(code: 'o' | 'm', data: string): void {
    if (this.closed || data === '') return;
    const seconds = Math.round(performance.now() - this.started) / 1000;
    fs.writeSync(this.fd, JSON.stringify([seconds, code, data]) + '\n');
  }

  output(chunk: string | Uint8Array): void {
    this.event('o', typeof chunk === 'string' ? chunk : this.decoder.write(Buffer.from(chunk)));
  }

  marker(label: string): void {
    this.event('m', label);
  }

  close(): void {
    if (this.closed) return;
    this.event('o', this.decoder.end());
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

/** Records everything written to stdout, and the step markers, until the returned stop(). */
export function recordStdout(fd: number): () => void {
  const recorder = new CastRecorder(fd, process.stdout.columns ?? 80, process.stdout.rows ?? 24);
  const write = process.stdout.write;
  process.stdout.write = function (this: NodeJS.WriteStream, ...args: Parameters<typeof write>) {
    recorder.output(args[0] as string | Uint8Array);
    return write.apply(this, args);
  } as typeof write;
  stepMarks.mark = (label) => recorder.marker(label);
  return () => {
    process.stdout.write = write;
    stepMarks.mark = undefined;
    recorder.close();
  };
}
