// A container's life from outside: exec into it, stop it with signals, kill -9
// its owner and clean up after, and use an interactive shell in a real terminal.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, PACKAGE_ROOT, cli, hostState, isRoot, tempStateDir, warnIfNotRoot } from '../helpers/host.js';

warnIfNotRoot('container lifecycle tests');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe.skipIf(!isRoot)('container lifecycle', () => {
  let state: string;
  let env: Record<string, string>;
  let before: ReturnType<typeof hostState>;
  const started: ChildProcess[] = [];

  /** Start `run` in the background and wait until its command has been exec'd. */
  async function startBackground(name: string, argv: string[]): Promise<{ child: ChildProcess; pid: number; exit: Promise<number> }> {
    const child = spawn(process.execPath, [CLI, 'run', '--rm', '--name', name, '--', ...argv], { env: { ...process.env, ...env }, stdio: 'ignore' });
    started.push(child);
    const exit = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 128))));
    const record = path.join(state, 'run', `${name}.json`);
    const pid = await waitFor(`${name} to start`, () => {
      try {
        const r = JSON.parse(fs.readFileSync(record, 'utf8')) as { pid?: number };
        // Started once its PID 1 runs the command, not the stage any more.
        return r.pid && fs.readFileSync(`/proc/${r.pid}/cmdline`, 'utf8').startsWith(argv[0]) ? r.pid : undefined;
      } catch {
        return undefined;
      }
    });
    return { child, pid, exit };
  }

  beforeAll(async () => {
    expect((await cli(['rootfs', 'build'])).status).toBe(0);
  });

  beforeEach(() => {
    state = tempStateDir('life');
    env = { CONTAINY_STATE_DIR: state };
    before = hostState();
  });

  afterEach(async () => {
    for (const c of started.splice(0)) c.kill('SIGKILL');
    await sleep(50);
    await cli(['cleanup'], { env });
    const after = hostState();
    fs.rmSync(state, { recursive: true, force: true });
    expect(after).toEqual(before);
  });

  it('exec joins a running container, as nsenter does', async () => {
    const { pid, exit } = await startBackground('joinme', ['sleep', '60']);
    const r = await cli(['exec', 'joinme', '--', 'sh', '-c', 'hostname; ps -o pid,args; readlink /proc/self/ns/pid; cat /proc/self/cgroup | grep pids'], { env });
    expect(r.status, r.stderr).toBe(0);
    const [hostname, ...rest] = r.stdout.trim().split('\n');
    expect(hostname).toBe('joinme');
    expect(rest.join('\n')).toMatch(/^\s*1\s+sleep 60$/m); // its PID 1 is the container's command
    expect(r.stdout).toContain(fs.readlinkSync(`/proc/${pid}/ns/pid`));
    expect(r.stdout).toMatch(/pids:\/$/m); // in the container's cgroup, which is its cgroup namespace's root
    const missing = await cli(['exec', 'joinme', '--', 'no-such-tool'], { env });
    expect(missing.status).toBe(127);
    const unknown = await cli(['exec', 'nobody-here', '--', 'true'], { env });
    expect(unknown.status).toBe(125);
    expect(unknown.stderr).toMatch(/no running container named 'nobody-here'/);
    process.kill(pid, 'SIGKILL');
    expect(await exit).toBe(137);
  });

  it.each(['SIGTERM', 'SIGHUP'] as const)('%s to containy-learn stops the container and leaves nothing', async (signal) => {
    const { child, pid, exit } = await startBackground('stopme', ['sleep', '60']);
    child.kill(signal);
    // sleep as PID 1 ignores SIGTERM, so the grace period ends in SIGKILL.
    expect(await exit).toBe(137);
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
    expect(fs.readdirSync(path.join(state, 'run'))).toEqual([]);
    expect(fs.readdirSync(path.join(state, 'scratch'))).toEqual([]);
  });

  it('a shell that handles SIGTERM exits with its own status', async () => {
    const { child, exit } = await startBackground('polite', ['sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.1; done']);
    child.kill('SIGTERM');
    expect(await exit).toBe(42);
  });

  it('kill -9 of containy-learn: the container dies with it, and cleanup removes the rest', async () => {
    const { child, pid, exit } = await startBackground('orphan', ['sleep', '60']);
    child.kill('SIGKILL');
    await exit;
    // The parent-death signal took the container down with its owner.
    await waitFor('the container to die', () => (fs.existsSync(`/proc/${pid}`) ? undefined : true));
    // What only a live owner could remove is still there...
    expect(fs.readdirSync(path.join(state, 'run'))).toEqual(['orphan.json']);
    expect(fs.readdirSync(path.join(state, 'scratch'))).toEqual(['orphan']);
    expect(hostState().cgroups.some((c) => c.endsWith('/orphan'))).toBe(true);
    // ...until cleanup.
    const r = await cli(['cleanup'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/orphan/);
    expect(fs.readdirSync(path.join(state, 'run'))).toEqual([]);
    expect(fs.readdirSync(path.join(state, 'scratch'))).toEqual([]);
    expect(hostState()).toEqual(before);
    const again = await cli(['cleanup'], { env });
    expect(again.stdout).toMatch(/nothing to clean up/);
  });

  it('a name whose run was killed -9 can be used again at once, without cleanup', async () => {
    const first = await startBackground('reborn', ['sleep', '60']);
    first.child.kill('SIGKILL');
    await first.exit;
    await waitFor('the container to die', () => (fs.existsSync(`/proc/${first.pid}`) ? undefined : true));
    const again = await cli(['run', '--rm', '--name', 'reborn', '--', 'hostname'], { env });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('reborn');
  });

  it('cleanup keeps running containers', async () => {
    const { pid, exit } = await startBackground('stays', ['sleep', '60']);
    const r = await cli(['cleanup'], { env });
    expect(r.status).toBe(0);
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
    const ps = await cli(['ps'], { env });
    expect(ps.stdout).toMatch(new RegExp(`stays\\s+running\\s+${pid}`));
    process.kill(pid, 'SIGKILL');
    await exit;
  });

  it('refuses a second container with a running name', async () => {
    const { pid, exit } = await startBackground('twice', ['sleep', '60']);
    const r = await cli(['run', '--name', 'twice', '--', 'true'], { env });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/already running/);
    process.kill(pid, 'SIGKILL');
    await exit;
  });
});

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!isRoot || !hasTmux)('an interactive shell in a real terminal', () => {
  let state: string;
  const session = `containy-test-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
  const screen = () => tmux('capture-pane', '-p', '-t', session);
  const keys = (...k: string[]) => tmux('send-keys', '-t', session, ...k);
  const base = process.env.CONTAINY_ROOTFS ?? path.join(PACKAGE_ROOT, 'rootfs', 'base');
  const cliIn = () => `CONTAINY_STATE_DIR=${state} ${process.execPath} ${CLI}`;

  /**
   * Run `args` of the CLI in a tmux pane, then, in the same pane, record its
   * status and read one line from the terminal: that read only works if the
   * terminal came back to the pane's process group (else SIGTTIN or EIO).
   */
  function inPane(args: string): { status: () => string | undefined; after: () => string | undefined } {
    const statusFile = path.join(state, 'status');
    const afterFile = path.join(state, 'after');
    const command = `${cliIn()} ${args}; echo "exit=$?" > ${statusFile}; read line; echo "read=$line" > ${afterFile}; sleep 30`;
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', command);
    const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() || undefined : undefined);
    return { status: () => read(statusFile), after: () => read(afterFile) };
  }

  async function exitsWith7AndGivesTheTerminalBack(pane: ReturnType<typeof inPane>): Promise<void> {
    keys('exit 7', 'Enter');
    expect(await waitFor('the exit status', pane.status)).toBe('exit=7');
    keys('next-command', 'Enter');
    expect(await waitFor('the pane to read the next line', pane.after)).toBe('read=next-command');
  }

  beforeEach(() => {
    state = tempStateDir('tty');
  });

  afterEach(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      // already gone
    }
    fs.rmSync(state, { recursive: true, force: true });
  });

  it('gives sh the terminal, and its exit status becomes ours', async () => {
    const before = hostState();
    const pane = inPane('run --rm --hostname ttybox -- sh');
    await waitFor('the prompt', () => (/#\s*$/m.test(screen()) ? true : undefined));
    keys('hostname; echo pid=$$; [ -t 0 ] && echo stdin-is-a-terminal', 'Enter');
    await waitFor('the answers', () => (/pid=1/.test(screen()) ? true : undefined));
    const shown = screen();
    expect(shown).toMatch(/^ttybox$/m);
    expect(shown).toMatch(/^stdin-is-a-terminal$/m); // the real terminal, not a pipe
    // Its own process group, the terminal's foreground one (fields 5 and 8 of stat: pgrp, tpgid).
    keys('echo fg=$(cut -d" " -f5,8 /proc/self/stat)', 'Enter');
    await waitFor('the groups', () => (/^fg=\d+ \d+$/m.test(screen()) ? true : undefined));
    const [pgrp, tpgid] = screen().match(/^fg=(\d+) (\d+)$/m)!.slice(1);
    expect(Number(pgrp)).toBeGreaterThan(0); // 0: a group outside the PID namespace
    expect(tpgid).toBe(pgrp);
    // Ctrl-Z and Ctrl-C at the prompt stop nothing, and Ctrl-C interrupts a command.
    keys('C-z');
    keys('C-c');
    keys('sleep 30', 'Enter');
    await sleep(300);
    keys('C-c');
    keys('echo still-here', 'Enter');
    await waitFor('the shell after Ctrl-Z and Ctrl-C', () => (/^still-here$/m.test(screen()) ? true : undefined), 5000);
    await exitsWith7AndGivesTheTerminalBack(pane);
    expect(hostState()).toEqual(before);
  });

  it('three Ctrl-Cs from the terminal kill a command that ignores them (PID 1), and the pane gets the terminal back', async () => {
    const pane = inPane('run --rm -- sleep 30');
    await waitFor('the container', () => (fs.existsSync(path.join(state, 'run')) && fs.readdirSync(path.join(state, 'run')).length ? true : undefined));
    await sleep(500);
    keys('C-z'); // stops nothing: the CLI ignores it while the container has the terminal
    for (let i = 0; i < 3; i++) {
      keys('C-c');
      await sleep(200);
    }
    expect(await waitFor('the exit status', pane.status, 5000)).toBe('exit=137');
    keys('next-command', 'Enter');
    expect(await waitFor('the pane to read the next line', pane.after)).toBe('read=next-command');
  });

  it('a hangup of the terminal stops the container', async () => {
    const before = hostState();
    const pane = inPane('run --rm -- sleep 30');
    await waitFor('the container', () => (fs.existsSync(path.join(state, 'run')) && fs.readdirSync(path.join(state, 'run')).length ? true : undefined));
    await sleep(500);
    tmux('kill-session', '-t', session);
    await waitFor('the container to be gone', () => (fs.readdirSync(path.join(state, 'run')).length === 0 ? true : undefined), 8000);
    void pane;
    expect(hostState()).toEqual(before);
  });

  it.skipIf(!fs.existsSync(path.join(base, 'bin', 'bash')))('gives bash the terminal too', async () => {
    const pane = inPane('run --rm --hostname ttybox -- bash');
    await waitFor('the prompt', () => (/#\s*$/m.test(screen()) ? true : undefined));
    keys('echo pid=$$', 'Enter');
    await waitFor('the answer', () => (/pid=1/.test(screen()) ? true : undefined));
    await exitsWith7AndGivesTheTerminalBack(pane);
  });

  it('gives the terminal to a shell exec\'d into a running container', async () => {
    const background = spawn(process.execPath, [CLI, 'run', '--rm', '--name', 'ttyjoin', '--', 'sleep', '60'], { env: { ...process.env, CONTAINY_STATE_DIR: state }, stdio: 'ignore' });
    const exited = new Promise((resolve) => background.on('exit', resolve));
    try {
      await waitFor('the container', () => (fs.existsSync(path.join(state, 'run', 'ttyjoin.json')) ? true : undefined));
      await sleep(300);
      const pane = inPane('exec ttyjoin -- sh');
      await waitFor('the prompt', () => (/#\s*$/m.test(screen()) ? true : undefined));
      keys('hostname; [ -t 0 ] && echo stdin-is-a-terminal', 'Enter');
      await waitFor('the answers', () => (/^stdin-is-a-terminal$/m.test(screen()) ? true : undefined));
      expect(screen()).toMatch(/^ttyjoin$/m);
      await exitsWith7AndGivesTheTerminalBack(pane);
    } finally {
      background.kill('SIGTERM');
      await exited;
    }
  });
});
