// The workshop's own figures, measured the way a learner meets them: in a real
// terminal, from the outside. Launch to the menu's first frame, against a bare
// `node -e 0` in the same pty (script(1)) in alternation; a step's result to
// the frame that shows it and CPU while idle on a live container (in tmux,
// which can type keys). Only figures are printed: every tool's own output is
// captured and parsed. Run alone (no root needed for the first frame):
// node dist/bench/tui-bench.js [--first-frame]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../runtime/paths.js';

const CLI = path.join(PACKAGE_ROOT, 'bin', 'containy-learn.js');
const FIRST_FRAME_RUNS = Math.max(10, Number(process.env.BENCH_TUI_RUNS ?? 15));
/** Launch to the menu's first frame may take at most this many times a bare `node -e 0`. */
export const FIRST_FRAME_TARGET_RATIO = 2.5;
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

/** What the shell spawned by script(1) is given: the variable, single-quoted. */
function shellAssign([name, value]: [string, string]): string {
  return `${name}='${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs `argv` on a new pty (script(1): a C program, the same wrapper for both
 * subjects; the pty keeps its default size, so the menu draws at 80x24) and
 * resolves with the ms from spawn until `until` shows in what the pty printed,
 * or until exit without `until`.
 */
function timeOnPty(argv: string[], env: Record<string, string>, until?: RegExp): Promise<number> {
  const command = ['exec', 'env', ...Object.entries(env).map(shellAssign), ...argv].join(' ');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // SHELL: script runs the command through $SHELL -c; the same small shell for both subjects.
    const child = spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SHELL: '/bin/sh' },
    });
    let screen = '';
    let seenAt: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      if (seenAt !== undefined || !until) return;
      screen += chunk.toString('utf8');
      if (until.test(screen)) seenAt = performance.now() - started;
    });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = until ? seenAt : performance.now() - started;
      if (code === 0 && ms !== undefined) resolve(ms);
      else reject(new Error(`${argv.join(' ')} on a pty: exit ${code}${ms === undefined ? `, never printed ${until}` : ''}: ${(errors || screen).trim().slice(-300)}`));
    });
  });
}

/**
 * Launch to the menu's first frame, and a bare `node -e 0`, both through a pty
 * and in alternation (the machine's mood hits both alike): medians and ratio.
 */
export async function firstFrameBenchmark(rounds = FIRST_FRAME_RUNS): Promise<string[]> {
  if (spawnSync('script', ['--version']).status !== 0) return ['workshop: script(1) is not installed (apt-get install bsdutils): first frame not measured'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-bench-frame-'));
  try {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? dir,
      TERM: 'xterm-256color',
      CONTAINY_FIRST_FRAME_MARK: 'exit',
      CONTAINY_PROGRESS_FILE: path.join(dir, 'progress.json'),
      CONTAINY_STATE_DIR: process.env.CONTAINY_STATE_DIR ?? path.join(dir, 'state'),
    };
    const bare: number[] = [];
    const menu: number[] = [];
    // One untimed round of each: the page cache (and a compile cache) warm for both alike.
    await timeOnPty([process.execPath, '-e', '0'], env);
    await timeOnPty([process.execPath, CLI], env, /first-frame-ms [\d.]+/);
    for (let round = 0; round < rounds; round++) {
      bare.push(await timeOnPty([process.execPath, '-e', '0'], env));
      menu.push(await timeOnPty([process.execPath, CLI], env, /first-frame-ms [\d.]+/));
    }
    const ratio = median(menu) / median(bare);
    return [
      `workshop: launch to the menu's first frame, ${rounds} rounds through a pty in alternation with \`node -e 0\` (${process.version}):`,
      `  node -e 0 median ${median(bare).toFixed(0)} ms; menu first frame median ${median(menu).toFixed(0)} ms (min ${Math.min(...menu).toFixed(0)} ms)`,
      `  ratio ${ratio.toFixed(2)}x (target <= ${FIRST_FRAME_TARGET_RATIO}x: ${ratio <= FIRST_FRAME_TARGET_RATIO ? 'met' : 'NOT met'})`,
    ];
  } catch (err) {
    return [`workshop: measuring the first frame failed: ${err instanceof Error ? err.message : String(err)}`];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** tmux, its stdout returned and its stderr kept out of the report (a failure carries it). */
function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

class TmuxWorkshop {
  private readonly session = `containy-bench-${process.pid}`;
  readonly stderrFile: string;

  constructor(dir: string, args: string[], env: Record<string, string>) {
    this.stderrFile = path.join(dir, `stderr-${Date.now()}`);
    // tmux starts its commands with its server's environment, not ours: pass what matters.
    const state = process.env.CONTAINY_STATE_DIR ? { CONTAINY_STATE_DIR: process.env.CONTAINY_STATE_DIR } : {};
    const vars = Object.entries({ ...state, ...env, CONTAINY_PROGRESS_FILE: path.join(dir, 'progress.json') }).map(([k, v]) => `${k}=${v}`).join(' ');
    tmux('new-session', '-d', '-s', this.session, '-x', '120', '-y', '40', `exec env ${vars} ${process.execPath} ${CLI} ${args.join(' ')} 2>${this.stderrFile}`);
  }

  get pid(): number {
    return Number(tmux('display-message', '-p', '-t', this.session, '#{pane_pid}').trim());
  }

  keys(...keys: string[]): void {
    tmux('send-keys', '-t', this.session, ...keys);
  }

  stderr(): string {
    try {
      return fs.readFileSync(this.stderrFile, 'utf8');
    } catch {
      return '';
    }
  }

  screen(): string {
    return tmux('capture-pane', '-p', '-t', this.session);
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

/** Lines for the benchmark's report: the first frame, then what needs tmux (and root: lesson 2 starts containers). */
export async function tuiBenchmarks(): Promise<string[]> {
  const out = await firstFrameBenchmark();
  if (spawnSync('tmux', ['-V']).status !== 0) return [...out, 'workshop: tmux is not installed (apt-get install tmux): step and idle figures not measured'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-bench-tui-'));
  try {
    // A step's result to the frame showing it, over lesson 2's first steps; then idle CPU with its container alive.
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
    out.push(...(await liveOneShotBenchmark(dir)));
  } catch (err) {
    out.push(`workshop: measuring failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const LIVE_RUNS = Math.max(1, Number(process.env.BENCH_LIVE_RUNS ?? 3));
/** The frame showing a step's result, at most this long after the engine's answer. */
export const STEP_TO_FRAME_TARGET_MS = 50;

/**
 * Lesson 5's mem.py step (a one-shot container, OOM-killed after ~1.5 s), run
 * LIVE_RUNS times: the frames the live panes drew while it ran, the workshop
 * process's CPU over the step, and the result's step-to-frame latency.
 */
async function liveOneShotBenchmark(dir: string): Promise<string[]> {
  const t = new TmuxWorkshop(dir, ['lesson', '5', '--step', '6'], { CONTAINY_TUI_TIMING: '1' });
  try {
    await waitFor(() => (/step 6 of/i.test(t.screen()) ? true : undefined), 20_000, 'lesson 5 step 6');
    await sleep(2000); // the warm stage the session holds has booted
    const runs: Array<{ frames: number; frameMs: number; actionMs: number; cpuMs: number; wallMs: number }> = [];
    for (let run = 0; run < LIVE_RUNS; run++) {
      const pid = t.pid;
      const ticks = cpuTicks(pid);
      const started = performance.now();
      t.keys('Enter');
      const lines = await waitFor(() => {
        const found = [...t.stderr().matchAll(/step-to-frame-ms ([\d.]+) action-ms ([\d.]+) frames-while-running (\d+)/g)];
        return found.length > run ? found : undefined;
      }, 60_000, `mem.py run ${run + 1}`);
      const wallMs = performance.now() - started;
      const [, frameMs, actionMs, frames] = lines[run];
      runs.push({ frames: Number(frames), frameMs: Number(frameMs), actionMs: Number(actionMs), cpuMs: ((cpuTicks(pid) - ticks) / CLOCK_TICKS) * 1000, wallMs });
      await sleep(2000); // the next warm stage boots before the next run
    }
    const m = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f));
    const frameMs = m((r) => r.frameMs);
    return [
      `workshop: lesson 5 mem.py (a one-shot, OOM-killed), ${LIVE_RUNS} runs, medians: ${m((r) => r.frames)} frames drawn while it ran (${m((r) => r.actionMs).toFixed(0)} ms)`,
      `  CPU of the workshop process over the step: ${m((r) => r.cpuMs).toFixed(0)} ms in ${m((r) => r.wallMs).toFixed(0)} ms (${((m((r) => r.cpuMs) / m((r) => r.wallMs)) * 100).toFixed(0)}% of one core, starting the container included)`,
      `  step-to-frame ${frameMs.toFixed(1)} ms beyond the action (target <= ${STEP_TO_FRAME_TARGET_MS} ms: ${frameMs <= STEP_TO_FRAME_TARGET_MS ? 'met' : 'NOT met'})`,
    ];
  } finally {
    await t.quit();
  }
}

// Run alone: `node dist/bench/tui-bench.js` (everything; lessons 2 and 5 need root), `--first-frame` (no root)
// or `--live` (lesson 5's mem.py alone).
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const only = async (): Promise<string[]> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-bench-live-'));
    try {
      return await liveOneShotBenchmark(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const lines = process.argv.includes('--first-frame') ? await firstFrameBenchmark() : process.argv.includes('--live') ? await only() : await tuiBenchmarks();
  process.stdout.write(lines.join('\n') + '\n');
}
