// `containy-learn run` and `containy-learn exec`: a container attached to this terminal.
import path from 'node:path';
import { parseArgs, one, flag, type OptionSpec, type Parsed } from './args.js';
import { UserError } from '../runtime/errors.js';
import { startContainer, execInContainer, runNextStageOnThisThread, NAMESPACES, type ContainerSpec, type NamespaceName } from '../runtime/container.js';
import { loadBundle } from '../runtime/configy.js';
import { parseLimitFlags } from '../runtime/cgroups/limits.js';
import type { StageProcess } from '../runtime/stage-process.js';
import type { Container } from '../runtime/container.js';

const ENV_OPTIONS: OptionSpec[] = [
  { name: 'env', short: 'e', value: true, repeat: true },
  { name: 'workdir', short: 'w', value: true },
];

const RUN_OPTIONS: OptionSpec[] = [
  { name: 'name', value: true },
  { name: 'hostname', value: true },
  { name: 'rm' },
  { name: 'rootfs', value: true },
  { name: 'ns', value: true },
  { name: 'no-pivot' },
  { name: 'bundle', value: true },
  { name: 'memory', value: true },
  { name: 'memory-swap', value: true },
  { name: 'pids-limit', value: true },
  { name: 'cpus', value: true },
  { name: 'cpu-shares', value: true },
  { name: 'blkio-weight', value: true },
  ...ENV_OPTIONS,
];

function parseEnv(p: Parsed): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of p.options.get('env') ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UserError(`--env: '${kv}' is not KEY=VALUE`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

function parseNamespaceList(list: string): NamespaceName[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!NAMESPACES.includes(n as NamespaceName)) throw new UserError(`--ns: unknown namespace '${n}': use some of ${NAMESPACES.join(',')}`);
  }
  return names as NamespaceName[];
}

/** Turn `run`'s arguments into a container spec; nothing is created here. */
export function specFromRunArgs(argv: string[]): ContainerSpec {
  const p = parseArgs('run', argv, RUN_OPTIONS);
  const limits = parseLimitFlags({
    memory: one(p, 'memory'), memorySwap: one(p, 'memory-swap'), pidsLimit: one(p, 'pids-limit'),
    cpus: one(p, 'cpus'), cpuShares: one(p, 'cpu-shares'), blkioWeight: one(p, 'blkio-weight'),
  });
  const bundle = one(p, 'bundle');
  if (bundle !== undefined && p.rest.length) throw new UserError('run: give either --bundle DIR or a command, not both');
  const base: ContainerSpec = p.rest.length ? { argv: p.rest } : loadBundle(path.resolve(bundle ?? '.'));
  const flagLimits = Object.keys(limits).length ? limits : undefined;
  return {
    ...base,
    name: one(p, 'name') ?? base.name,
    hostname: one(p, 'hostname') ?? base.hostname,
    remove: flag(p, 'rm'),
    rootfs: one(p, 'rootfs') !== undefined ? path.resolve(one(p, 'rootfs')!) : base.rootfs,
    namespaces: one(p, 'ns') !== undefined ? parseNamespaceList(one(p, 'ns')!) : base.namespaces,
    pivot: !flag(p, 'no-pivot'),
    limits: flagLimits ?? base.limits,
    env: parseEnv(p),
    cwd: one(p, 'workdir'),
    stdio: 'inherit',
  };
}

/**
 * Signals while a container runs in the foreground. Ctrl-C reaches the container
 * straight from the terminal (same process group); we pass on what came from
 * elsewhere. Three SIGINTs in a row, or SIGTERM, stop it for good.
 */
function forwardSignals(target: { signal(s: NodeJS.Signals): void }, stop: () => void): () => void {
  let interrupts = 0;
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGINT', () => {
      interrupts++;
      if (!process.stdin.isTTY) target.signal('SIGINT');
      if (interrupts === 2) process.stderr.write('\ncontainy-learn: press Ctrl-C once more to kill the container\n');
      if (interrupts >= 3) target.signal('SIGKILL');
    }],
    ['SIGTERM', stop],
    ['SIGHUP', stop],
    ['SIGQUIT', () => target.signal('SIGQUIT')],
  ];
  for (const [sig, h] of handlers) process.on(sig, h);
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

export async function runCommand(argv: string[]): Promise<number> {
  const spec = specFromRunArgs(argv);
  // Loaded only when needed: the builder is large, and `run` should start fast.
  if (spec.rootfs === undefined) await (await import('./rootfs.js')).ensureBaseRootfs();
  runNextStageOnThisThread(); // this process starts one container and then only waits for it
  const container: Container = await startContainer(spec);
  // What the host could not limit as asked (for example swap without swap accounting).
  for (const note of container.cgroup?.notes ?? []) process.stderr.write(`containy-learn: note: ${note}\n`);
  const release = forwardSignals(container, () => void container.stop(3000));
  try {
    const exit = await container.exited;
    for (const line of exit.limitMessages) process.stderr.write(`containy-learn: ${line}\n`);
    return exit.status;
  } finally {
    release();
  }
}

export async function execCommand(argv: string[]): Promise<number> {
  const p = parseArgs('exec', argv, ENV_OPTIONS);
  const [name, ...command] = p.rest[0] === '--' ? p.rest.slice(1) : p.rest;
  if (!name) throw new UserError('exec: name the container: containy-learn exec NAME -- COMMAND');
  const cmd = command[0] === '--' ? command.slice(1) : command;
  runNextStageOnThisThread();
  const proc: StageProcess = await execInContainer(name, cmd, { stdio: 'inherit', env: parseEnv(p), cwd: one(p, 'workdir') });
  const release = forwardSignals(proc, () => proc.signal('SIGTERM'));
  try {
    return (await proc.exited).status;
  } finally {
    release();
  }
}
