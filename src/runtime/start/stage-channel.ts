// The launcher's own ends of the fds of a stage that a worker thread spawns: the
// control socket (the stage's fd 3) and, with stdio 'pipe', its stdin, stdout
// and stderr. fds belong to the process, not to a thread, so the worker only
// enters the namespaces and spawns the stage onto the child's ends; the order,
// the reports, the end of fd 3 (the execve) and the output then pass between the
// stage and this thread directly. Relayed through the worker's event loop, each
// was one more thread to wake on a busy machine: ~2-3 ms of a warm start of
// about 20 on two cores (docs/architecture.md, "The files of a start").
import net from 'node:net';
import fs from 'node:fs';
import * as libc from '../libc.js';
import type { StageStreams } from './spawn.js';
import type { StdioMode, StageWorkerData } from './protocol.js';

export class StageChannel {
  private constructor(
    /** What the worker passes to spawn as the stage's fds 0-3. */
    readonly childFds: NonNullable<StageWorkerData['fds']>,
    /** The child's ends, which this process must close once the stage holds them. */
    private readonly childEnds: number[],
    readonly streams: StageStreams & { control: net.Socket; stdin?: net.Socket; stdout?: net.Socket; stderr?: net.Socket },
  ) {}

  static open(stdio: StdioMode): StageChannel {
    const made: number[] = [];
    try {
      const [control, controlChild] = libc.socketPair();
      made.push(control, controlChild);
      if (stdio !== 'pipe') {
        return new StageChannel([stdio, stdio, stdio, controlChild], [controlChild], { control: new net.Socket({ fd: control, readable: true, writable: true }) });
      }
      const [stdinChild, stdin] = libc.pipe();
      made.push(stdinChild, stdin);
      const [stdout, stdoutChild] = libc.pipe();
      made.push(stdout, stdoutChild);
      const [stderr, stderrChild] = libc.pipe();
      made.push(stderr, stderrChild);
      return new StageChannel([stdinChild, stdoutChild, stderrChild, controlChild], [stdinChild, stdoutChild, stderrChild, controlChild], {
        control: new net.Socket({ fd: control, readable: true, writable: true }),
        stdin: new net.Socket({ fd: stdin, readable: false, writable: true }),
        stdout: new net.Socket({ fd: stdout, readable: true, writable: false }),
        stderr: new net.Socket({ fd: stderr, readable: true, writable: false }),
      });
    } catch (err) {
      for (const fd of made) fs.closeSync(fd);
      throw err;
    }
  }

  /** Once the stage is spawned (it has its copies) or will never be: else its fds would never see end-of-file. */
  closeChildEnds(): void {
    for (const fd of this.childEnds.splice(0)) fs.closeSync(fd);
  }

  /** After the stage has exited, or never started: the stdin and control sockets would keep this process alive. */
  close(): void {
    this.closeChildEnds();
    for (const socket of [this.streams.control, this.streams.stdin]) socket?.destroy();
  }
}
