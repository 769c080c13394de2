// Helpers for the real cgroup tests (v1 on this host, v2 in the qemu guest).
// A demo runs as a plain child process: it starts, waits for a line on stdin,
// we move it into the cgroup, then we send the line and it execs the demo, so
// every byte it allocates and every fork it makes is under the limits.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerCgroup } from '../../src/runtime/cgroups/index.js';
import { CGROUPS_EXAMPLE } from '../../src/demos.js';

/** The real interpreter: the python3 on PATH may be a pyenv shim script. */
export const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

export const demo = (name: string) => path.join(CGROUPS_EXAMPLE, name);

export interface RunResult {
  /** As a shell reports it: the exit code, or 128 + signal number for a kill. */
  status: number;
  stdout: string;
  stderr: string;
}

const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6 };

// Says it is up (fd 3), waits for the go line, then execs the program in place: same PID, so
// it stays in the cgroup. Joining only once it is up keeps the wrapper's own start (slow under
// emulation) out of a CPU-limited cgroup; the demo's interpreter start is inside, as in a container.
const WAIT_THEN_EXEC = 'import os, sys; os.write(3, b"up"); os.close(3); sys.stdin.readline(); os.execv(sys.argv[1], sys.argv[1:])';

/** Run `argv` inside `cgroup`, joined before it starts. */
export function runIn(cgroup: ContainerCgroup, argv: string[], timeoutMs = 60_000): Promise<RunResult> {
  const child = spawn(PYTHON, ['-S', '-c', WAIT_THEN_EXEC, ...argv], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${argv.join(' ')} ran over ${timeoutMs} ms\n${stdout}${stderr}`)); }, timeoutMs);
    child.on('error', reject);
    child.stdio[3]!.once('data', () => {
      try {
        cgroup.join(child.pid!);
      } catch (err) {
        child.kill('SIGKILL');
        reject(err);
        return;
      }
      child.stdin.end('go\n');
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? 128 + (SIGNALS[signal ?? ''] ?? 0), stdout, stderr });
    });
  });
}

/** Start a long-lived process inside `cgroup` (for destroy/sweep tests); resolves once it has joined. */
export function startIn(cgroup: ContainerCgroup, argv: string[]): { pid: number; exited: Promise<RunResult> } {
  const child = spawn(PYTHON, ['-S', '-c', WAIT_THEN_EXEC, ...argv], { stdio: ['pipe', 'ignore', 'ignore', 'pipe'] });
  if (child.pid === undefined) throw new Error(`cannot start ${PYTHON}`);
  cgroup.join(child.pid);
  child.stdin!.end('go\n');
  const exited = new Promise<RunResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ status: code ?? 128 + (SIGNALS[signal ?? ''] ?? 0), stdout: '', stderr: '' }));
  });
  return { pid: child.pid, exited };
}

/** Our cgroup tree, compared before and after each test. */
export { containyCgroups as containyCgroupTree } from '../helpers/host.js';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const readTrim = (file: string) => fs.readFileSync(file, 'utf8').trim();
