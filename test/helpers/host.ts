// What the tests compare before and after: the host must be left as found.
import { afterEach, beforeEach, expect } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const isRoot = process.getuid?.() === 0;

/** Say why a root-only suite is skipped (it never is in CI, which runs as root). */
export function warnIfNotRoot(suite: string): void {
  if (!isRoot) console.warn(`skipping ${suite}: it creates real containers, which needs root (run the tests with sudo)`);
}

export const PACKAGE_ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(PACKAGE_ROOT, 'bin', 'containy-learn.js');

/**
 * Why a user other than root cannot run the CLI from this checkout (a directory above
 * it that others may not search), or null when it can.
 */
export function unreachableByOthers(): string | null {
  for (let dir = PACKAGE_ROOT; ; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) return `${dir} is not searchable by other users (mode ${(fs.statSync(dir).mode & 0o777).toString(8)}), so an unprivileged user cannot reach ${CLI}`;
    if (dir === '/') return null;
  }
}

/** The host's mount table without the per-mount ids, which a remount may renumber. */
export function mountTable(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ').slice(3).join(' '))
    .sort();
}

/** Every cgroup directory whose path mentions containy: ours, and anything another run left. */
export function containyCgroups(): string[] {
  const root = process.env.CONTAINY_CGROUP_ROOT ?? '/sys/fs/cgroup';
  const out = execFileSync('find', [root, '-path', '*containy*', '-type', 'd'], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).sort();
}

/** Network devices that look like ours. */
export function containyLinks(): string[] {
  return fs.readdirSync('/sys/class/net').filter((n) => /containy|veth/.test(n));
}

/** `ip -o link`, one line per link: state, flags, master and peer of every link on the host. */
export function linkTable(): string[] {
  return ipLines(['-o', 'link']);
}

/** `ip -o addr`, without lifetimes (they count down for addresses that have one). */
export function addressTable(): string[] {
  return ipLines(['-o', 'addr']).map((l) => l.replace(/\\?\s*valid_lft \S+ preferred_lft \S+/, ''));
}

/** Every route of every table, IPv4 and IPv6 (a bridge's subnet route, a local address's entry). */
export function routeTable(): string[] {
  return [...ipLines(['-4', 'route', 'show', 'table', 'all']), ...ipLines(['-6', 'route', 'show', 'table', 'all'])];
}

function ipLines(args: string[]): string[] {
  return execFileSync('ip', args, { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

export function hostState(): { mounts: string[]; cgroups: string[]; links: string[]; linkTable: string[]; addresses: string[]; routes: string[] } {
  return { mounts: mountTable(), cgroups: containyCgroups(), links: containyLinks(), linkTable: linkTable(), addresses: addressTable(), routes: routeTable() };
}

/** A state directory of the test's own (CONTAINY_STATE_DIR), removed by the caller. */
export function tempStateDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `containy-test-${label}-`));
  // mkdtemp makes it 0700; root inside a user-namespace container is another uid on the host and must search it.
  fs.chmodSync(dir, 0o711);
  return dir;
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI as a user would, with the given environment additions. */
export function cli(args: string[], opts: { env?: Record<string, string>; input?: string; uid?: number; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      uid: opts.uid,
      gid: opts.uid,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal === 'SIGKILL' ? 137 : 128), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * After a test of `containy-learn run`: the host's mount table, our cgroups and
 * links are exactly as `before`, and no run record or scratch layer is left in
 * `state`, which is then removed. Uses vitest's expect.
 */
export async function expectNothingLeft(state: string, before: ReturnType<typeof hostState>): Promise<void> {
  const { expect } = await import('vitest');
  const after = hostState();
  expect(removeStateDir(state)).toEqual({ records: [], scratch: [] });
  expect(after).toEqual(before);
}
/** A suite's beforeAll: the CLI's base rootfs is built (rootfs/base, or CONTAINY_ROOTFS). */
export async function buildBase(): Promise<void> {
  const built = await cli(['rootfs', 'build']);
  if (built.status !== 0) throw new Error(`rootfs build failed (${built.status}): ${built.stderr}`);
}

/**
 * Remove a test's state directory, returning what a finished run must not
 * leave in it: run records and scratch directories.
 */
export function removeStateDir(state: string): { records: string[]; scratch: string[] } {
  const list = (dir: string) => (fs.existsSync(path.join(state, dir)) ? fs.readdirSync(path.join(state, dir)) : []);
  const left = { records: list('run'), scratch: list('scratch') };
  fs.rmSync(state, { recursive: true, force: true });
  return left;
}

/**
 * Give each test of a CLI suite its own state directory (CONTAINY_STATE_DIR,
 * in `ctx.env`), and after each check that the host's mount table, our
 * cgroups and links are exactly as before, and that no run record or
 * scratch directory is left. `mode`: for containers whose root inside is
 * not the host's root, which must search the directory (0o711).
 */
export function useStateDir(label: string, opts: { mode?: number } = {}): { state: string; env: Record<string, string> } {
  const ctx = { state: '', env: {} as Record<string, string> };
  let before: ReturnType<typeof hostState>;
  beforeEach(() => {
    ctx.state = tempStateDir(label);
    if (opts.mode !== undefined) fs.chmodSync(ctx.state, opts.mode);
    ctx.env = { CONTAINY_STATE_DIR: ctx.state };
    before = hostState();
  });
  afterEach(() => {
    const after = hostState();
    expect(removeStateDir(ctx.state)).toEqual({ records: [], scratch: [] });
    expect(after).toEqual(before);
  });
  return ctx;
}
