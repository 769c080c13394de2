// `node dist/bench/userns-bench.js` (root): what the single-threaded
// user-namespace helper adds to a container's start. The same program is
// spawned directly and through helpers/nsexec.py, in alternation, and timed
// from spawn to exit. Prints medians.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { defaultRootfs } from '../runtime/paths.js';
import { attachIdmappedBase } from '../runtime/userns/idmapped-mount.js';
import { CLONE } from '../runtime/linux.js';
import { findHelperPython, spawnInUserNamespace } from '../runtime/userns/helper.js';
import type { UsernsSpec } from '../runtime/userns/idmap.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
const SPEC: UsernsSpec = { uidMappings: MAP, gidMappings: MAP, user: { uid: 0, gid: 0 } };
// What a `run` container asks for; the cgroup namespace comes later, from the stage.
const CONTAINER = CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWNS;
const NODE_STAGE = [process.execPath, '-e', '0'];

function direct(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // The helper's environment too: NODE_EXTRA_CA_CERTS and the like slow Node's start.
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: process.env.PATH ?? '' } });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')}: exit ${code}`))));
  });
}

async function viaHelper(argv: string[], unshareFlags: number): Promise<void> {
  const p = spawnInUserNamespace({ spec: SPEC, unshareFlags, program: argv, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => p.child.on('exit', (code) => resolve(code)));
  await p.execd;
  const code = await exited;
  if (code !== 0) throw new Error(`${argv.join(' ')} through the helper: exit ${code}`);
}

const python = findHelperPython();
const subjects: Array<[string, () => Promise<void>]> = [
  ['node -e 0, spawned directly', () => direct(NODE_STAGE)],
  ['node -e 0, through the helper', () => viaHelper(NODE_STAGE, CONTAINER)],
  ['/bin/true, spawned directly', () => direct(['/bin/true'])],
  ['/bin/true, helper, user ns only', () => viaHelper(['/bin/true'], 0)],
  ['/bin/true, helper, user+pid+uts+ipc+net+mnt', () => viaHelper(['/bin/true'], CONTAINER)],
  ['python3 -I -S, import ctypes', () => direct([python ?? 'python3', '-I', '-S', '-c', 'import ctypes'])],
];

const times = new Map<string, number[]>(subjects.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [name, run] of subjects) {
    const t0 = performance.now();
    await run();
    if (round > 0) times.get(name)!.push(performance.now() - t0); // round 0 warms caches
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${'subject'.padEnd(46)} ${'median ms'.padStart(9)}   (${ROUNDS} rounds, python: ${python})`);
for (const [name, t] of times) console.log(`${name.padEnd(46)} ${median(t).toFixed(1).padStart(9)}`);
const added = median(times.get('node -e 0, through the helper')!) - median(times.get('node -e 0, spawned directly')!);
console.log(`the helper adds ${added.toFixed(1)} ms to a start of the Node stage`);

// The idmapped lower layer: open_tree + mount_setattr + move_mount into a
// waiting helper's mount namespace (the mounts go with that namespace).
const base = fs.existsSync(defaultRootfs()) ? defaultRootfs() : '/usr';
const waiting = spawnInUserNamespace({ spec: SPEC, unshareFlags: CLONE.NEWNS, program: ['/bin/sh', '-c', 'read x'], env: {}, stdio: ['pipe', 'ignore', 'inherit'] });
const pid = await waiting.pid;
await waiting.execd;
const attach: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const t0 = performance.now();
  attachIdmappedBase(base, pid, '/mnt');
  attach.push(performance.now() - t0);
}
waiting.child.stdin?.end();
console.log(`idmapped ${base} attached in the container: ${median(attach).toFixed(2)} ms`);
