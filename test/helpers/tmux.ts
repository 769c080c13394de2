// The workshop in a real terminal: a tmux server of our own (-L), so the
// learner's or CI's tmux is never touched, one window sized as asked.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { CLI } from './host.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TmuxWindow {
  readonly socket = `containy-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly window = 'workshop';

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /**
   * `containy-learn ARGS` in a clean environment (Ink draws nothing at all when it
   * believes it runs in CI); its exit status lands in `exitFile`, its stderr in `stderrFile`.
   */
  start(args: string, opts: { columns: number; rows: number; env: string[]; exitFile: string; stderrFile: string }): void {
    const env = [`PATH=${process.env.PATH}`, 'TERM=screen-256color', ...opts.env];
    const command = `env -i ${env.map((e) => `'${e}'`).join(' ')} ${process.execPath} ${CLI} ${args} 2>${opts.stderrFile}; echo $? > ${opts.exitFile}`;
    this.tmux('new-session', '-d', '-s', this.window, '-x', String(opts.columns), '-y', String(opts.rows), command);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.window);
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.window, ...keys);
  }

  async waitForScreen(what: string, test: (text: string) => boolean, timeoutMs = 20_000, everyMs = 50): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${text}`);
      await sleep(everyMs);
    }
  }

  async waitForExit(exitFile: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!fs.existsSync(exitFile) || !fs.readFileSync(exitFile, 'utf8').trim()) {
      if (Date.now() > deadline) throw new Error(`the workshop did not exit; the screen:\n${this.screen()}`);
      await sleep(50);
    }
    return fs.readFileSync(exitFile, 'utf8').trim();
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // the server ended with its only window
    }
  }
}
