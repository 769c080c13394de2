// The workshop's own figures, measured the way a learner meets them: in a real
// terminal (tmux), from the outside. Launch to the menu's first frame; a step's
// result to the frame that shows it; CPU while idle on a live container.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../runtime/paths.js';

const CLI = path.join(PACKAGE_ROOT, 'bin', 'containy-learn.js');
const FIRST_FRAME_RUNS = Number(process.env.BENCH_TUI_RUNS ?? 10);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** CPU time (user + system) of a process, in clock ticks, from /proc/PID/stat. */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

class TmuxWorkshop {
  private readonly session = `containy-bench-${process.pid}`;
  readonly stderrFile: string;

  constructor(dir: string, args: string[], env: Record<string, string>) {
    this.stderrFile = path.join(dir, `stderr-${Date.now()}`);
    // tmux starts its commands with its server's environment, not ours: pass what matters.
    const state = process.env.CONTAINY_STATE_DIR ? { CONTAINY_STATE_DIR: process.env.CONTAINY_STATE_DIR } : {};
    const vars = Object.entries({ ...state, ...env, CONTAINY_PROGRESS_FILE: path.join(dir, 'progress.json') }).map(([k, v]) => `${k}=${v}`).join(' ');
    execFileSync('tmux', ['new-session', '-d', '-s', this.session, '-x', '120', '-y', '40', `exec env ${vars} ${process.execPath} ${CLI} ${args.join(' ')} 2>${this.stderrFile}`]);
  }

  get pid(): number {
    return Number(execFileSync('tmux', ['display-message', '-p', '-t', this.session, '#{pane_pid}'], { encoding: 'utf8' }).trim());
  }

  keys(...keys: string[]): void {
    execFileSync('tmux', ['send-keys', '-t', this.session, ...keys]);
  }

  stderr(): string {
    try {
      return fs.readFileSync(this.stderrFile, 'utf8');
    } catch {
      return '';
    }
  }

  screen(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-t', this.session], { encoding: 'utf8' });
  }

  async quit(): Promise<void> {
    try {
      this.keys('q');
      await sleep(300);
      this.keys('q');
      await waitFor(() => (spawnSync('tmux', ['has-session', '-t', this.session]).status === 0 ? undefined : true), 10_000, 'the workshop to quit');
    } finally {
      spawnSync('tmux', ['kill-session', '-t', this.session]);
    }
  }
}

/** Lines for the benchmark's report; measures nothing (and says why) without tmux. */
export async function tuiBenchmarks(): Promise<string[]> {
  if (spawnSync('tmux', ['-V']).status !== 0) return ['workshop: tmux is not installed (apt-get install tmux): TUI figures not measured'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-bench-tui-'));
  const out: string[] = [];
  try {
    // 1. Launch to the menu's first full frame.
    const firstFrames: number[] = [];
    for (let i = 0; i < FIRST_FRAME_RUNS; i++) {
      const t = new TmuxWorkshop(dir, [], { CONTAINY_FIRST_FRAME_MARK: 'exit' });
      const ms = await waitFor(() => /first-frame-ms ([\d.]+)/.exec(t.stderr())?.[1], 20_000, 'the first frame');
      firstFrames.push(Number(ms));
      await t.quit().catch(() => {});
    }
    out.push(`workshop: launch to the menu's first frame: median ${median(firstFrames).toFixed(0)} ms over ${FIRST_FRAME_RUNS} launches (target <= 300 ms; Node's own start is ~60 ms)`);

    // 2. Step result to the frame showing it, over lesson 2's first steps; 3. idle CPU with its container alive.
    const t = new TmuxWorkshop(dir, ['lesson', '2', '--step', '1'], { CONTAINY_TUI_TIMING: '1' });
    try {
      await waitFor(() => (/step 1 of/i.test(t.screen()) ? true : undefined), 20_000, 'lesson 2');
      const timings: Array<{ frame: number; action: number }> = [];
      for (let step = 0; step < 5; step++) {
        if (step > 0) t.keys('n');
        t.keys('Enter');
        const lines = await waitFor(() => {
          const found = [...t.stderr().matchAll(/step-to-frame-ms ([\d.]+) action-ms ([\d.]+)/g)];
          return found.length > step ? found : undefined;
        }, 60_000, `step ${step + 1}'s result`);
        const [, frame, action] = lines[step];
        timings.push({ frame: Number(frame), action: Number(action) });
      }
      out.push(`workshop: a step's result to the frame showing it: median ${median(timings.map((x) => x.frame)).toFixed(1)} ms beyond the action (actions: median ${median(timings.map((x) => x.action)).toFixed(0)} ms), lesson 2 steps 1-5 (target <= 100 ms)`);

      // Step 5 leaves a container running; sit still and count the workshop's CPU.
      // Wait out the one-off work a step sets off (the next warm stage booting,
      // the panes' faster polling right after a change) before calling it idle.
      await sleep(5000);
      const pid = t.pid;
      const before = cpuTicks(pid);
      await sleep(IDLE_SECONDS * 1000);
      const used = (cpuTicks(pid) - before) / CLOCK_TICKS;
      out.push(`workshop: CPU while idle on a lesson with a live container: ${((used / IDLE_SECONDS) * 100).toFixed(2)}% of one core over ${IDLE_SECONDS} s (target < 1%)`);
    } finally {
      await t.quit();
    }
  } catch (err) {
    out.push(`workshop: measuring failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
