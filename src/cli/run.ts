// `containy-learn run` and `containy-learn exec`: a container attached to this terminal.
import path from 'node:path';
import { parseArgs, one, flag, type OptionSpec, type Parsed } from './args.js';
import fs from 'node:fs';
import { isatty } from 'node:tty';
import { SyscallError, UserError } from '../runtime/errors.js';
import { getpgrp, holdsTerminal, setpgid, takeTerminal } from '../runtime/libc.js';
import { startContainer, execInContainer, NAMESPACES, type ContainerSpec, type NamespaceName } from '../runtime/container.js';
import { loadBundle } from '../runtime/configy.js';
import { specFromImage } from '../images/run-defaults.js';
import { loadOciBundle } from '../runtime/oci.js';
import { detectLayout } from '../runtime/cgroups/layout.js';
import { parseNetworkMode } from '../runtime/network.js';
import { parsePublishList } from '../runtime/net/publish.js';
import { parseLimitFlags } from '../runtime/cgroups/limits.js';
import { securitySpecFrom } from '../runtime/security/options.js';
import { parseUserFlag, usernsFromFlags, validateUserns } from '../runtime/userns/idmap.js';
import type { BindMount } from '../runtime/start/protocol.js';
import type { StageProcess } from '../runtime/start/stage-process.js';
import type { Container } from '../runtime/container.js';
import { formatTrace } from '../runtime/trace.js';
import { demoBinds } from '../demos.js';
import type { ProcessSignals } from './signals.js';

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
  { name: 'network', value: true },
  { name: 'publish', short: 'p', value: true, repeat: true },
  { name: 'volume', short: 'v', value: true, repeat: true },
  { name: 'bundle', value: true },
  { name: 'image', value: true },
  { name: 'trace' },
  { name: 'memory', value: true },
  { name: 'memory-swap', value: true },
  { name: 'pids-limit', value: true },
  { name: 'cpus', value: true },
  { name: 'cpu-shares', value: true },
  { name: 'blkio-weight', value: true },
  { name: 'privileged' },
  { name: 'cap-add', value: true, repeat: true },
  { name: 'cap-drop', value: true, repeat: true },
  { name: 'security-opt', value: true, repeat: true },
  { name: 'read-only' },
  { name: 'userns', value: true },
  { name: 'uidmap', value: true, repeat: true },
  { name: 'gidmap', value: true, repeat: true },
  { name: 'user', short: 'u', value: true },
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

/** docker's -v/--volume SRC:DST[:ro|rw], host paths only (no named volumes). */
function parseVolumes(p: Parsed): BindMount[] {
  return (p.options.get('volume') ?? []).map((text) => {
    const [source, target, mode, ...extra] = text.split(':');
    if (!source || !target || extra.length || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
      throw new UserError(`--volume: '${text}' is not SRC:DST[:ro]: give a host path and a path inside, e.g. -v /srv/data:/data:ro`);
    }
    if (!path.isAbsolute(target)) throw new UserError(`--volume: the target '${target}' is not absolute: give a path inside the container, e.g. /data`);
    const resolved = path.resolve(source);
    if (!fs.existsSync(resolved)) throw new UserError(`--volume: the source ${resolved} does not exist: give an existing host path`);
    return { source: resolved, target, readonly: mode === 'ro' };
  });
}

/** Turn `run`'s arguments into a container spec; nothing is created here. */
export function specFromRunArgs(argv: string[]): ContainerSpec {
  const p = parseArgs('run', argv, RUN_OPTIONS);
  const limits = parseLimitFlags({
    memory: one(p, 'memory'), memorySwap: one(p, 'memory-swap'), pidsLimit: one(p, 'pids-limit'),
    cpus: one(p, 'cpus'), cpuShares: one(p, 'cpu-shares'), blkioWeight: one(p, 'blkio-weight'),
  });
  const bundle = one(p, 'bundle');
  const image = one(p, 'image');
  if (bundle !== undefined && p.rest.length) throw new UserError('run: give either --bundle DIR or a command, not both');
  if (bundle !== undefined && image !== undefined) throw new UserError('run: give either --bundle DIR or --image NAME, not both');
  const bundleDir = path.resolve(bundle ?? '.');
  // An OCI bundle (config.json, as runc runs it) or containy's own (configy.json).
  const oci = image === undefined && !p.rest.length && fs.existsSync(path.join(bundleDir, 'config.json'));
  const base: ContainerSpec = image !== undefined ? specFromImage(image, p.rest)
    : p.rest.length ? { argv: p.rest }
    : oci ? loadOciBundle(bundleDir, { stdinIsTerminal: process.stdin.isTTY === true, cgroupV2: detectLayout() === 'v2', warn: (m) => process.stderr.write(`containy-learn: warning: config.json: ${m}\n`) })
    : loadBundle(bundleDir);
  const flagLimits = Object.keys(limits).length ? limits : undefined;
  const namespaces = one(p, 'ns') !== undefined ? parseNamespaceList(one(p, 'ns')!) : base.namespaces;
  const volumes = parseVolumes(p);
  // Docker's defaults unless a flag says otherwise; a bad name or profile stops here, before anything exists.
  // docker also takes --cap-add A,B: split on commas.
  const list = (name: string) => (p.options.get(name) ?? []).flatMap((v) => v.split(',')).filter(Boolean);
  const fromFlags = securitySpecFrom({
    privileged: flag(p, 'privileged'),
    capAdd: list('cap-add'),
    capDrop: list('cap-drop'),
    securityOpt: p.options.get('security-opt') ?? [],
    readOnly: flag(p, 'read-only'),
  });
  // An OCI bundle's config.json says its security (process.capabilities, linux.maskedPaths,
  // linux.readonlyPaths, no linux.seccomp: no filter), as runc reads it: docker's flags would
  // replace it, so they are refused; --read-only can only add to root.readonly.
  if (base.security) {
    const given = ['privileged', 'cap-add', 'cap-drop', 'security-opt'].find((f) => p.options.has(f));
    if (given) throw new UserError(`run --bundle: --${given} does not apply to an OCI bundle, whose config.json says the container's security: change process.capabilities, linux.maskedPaths or linux.readonlyPaths there`);
  }
  const security = base.security ? { ...base.security, readonlyRoot: fromFlags.readonlyRoot || base.security.readonlyRoot } : fromFlags;
  const { userns, user } = usersFromFlags(p, base);
  const network = one(p, 'network');
  if (network !== undefined) parseNetworkMode(network);
  const publish = p.options.get('publish') ?? [];
  parsePublishList(publish); // refused here, before the base rootfs is looked at
  // The workshop's demos, as learners have always had them, wherever a bind can go.
  // Not in an OCI bundle: its mounts are exactly what config.json lists, as with runc.
  const mnt = !oci && (namespaces === undefined || namespaces.includes('mnt'));
  const demos = mnt ? demoBinds().filter((d) => !volumes.some((v) => v.target === d.target)) : [];
  return {
    ...base,
    name: one(p, 'name') ?? base.name,
    hostname: one(p, 'hostname') ?? base.hostname,
    remove: flag(p, 'rm'),
    rootfs: one(p, 'rootfs') !== undefined ? path.resolve(one(p, 'rootfs')!) : base.rootfs,
    namespaces,
    pivot: !flag(p, 'no-pivot'),
    limits: flagLimits ?? base.limits,
    env: { ...base.env, ...parseEnv(p) },
    cwd: one(p, 'workdir') ?? base.cwd,
    binds: [...(base.binds ?? []), ...volumes, ...demos],
    stdio: 'inherit',
    userns,
    user,
    trace: flag(p, 'trace'),
    security,
    ...(network !== undefined ? { network } : {}),
    ...(publish.length ? { publish } : {}),
  };
}

interface LentTerminal {
  /** Join the command's process group, now the terminal's foreground one. */
  join(pid: number): void;
  /** Back to our own group, and take the terminal back; once. */
  reclaim(): void;
}

/**
 * The container's command takes our terminal when we hold it (the stage's
 * `terminal` step). We join its group, so that Ctrl-C and a hangup still reach
 * us from the terminal (three Ctrl-Cs kill it, a hangup stops it). When it is
 * done we go home and take the terminal back: else we and the shell after us
 * would be a background group of a terminal whose foreground group is gone
 * (SIGTTIN, SIGTTOU, or EIO). Reclaimed when the container ends (after a stop
 * by signal too), and at exit.
 */
function lendTerminal(signals: ProcessSignals): LentTerminal {
  if (!isatty(0) || !holdsTerminal(0)) return { join() {}, reclaim() {} };
  const home = getpgrp();
  let releaseStops: (() => void) | undefined;
  let lent = true;
  const refusedIsFine = (call: () => void) => {
    try {
      call();
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
    }
  };
  const reclaim = (): void => {
    if (!lent) return;
    lent = false;
    process.off('exit', reclaim);
    releaseStops?.();
    // Home is our own group or one with members left (the shell that ran us): it can be rejoined.
    refusedIsFine(() => setpgid(0, home));
    refusedIsFine(() => takeTerminal(0)); // refused: the terminal is gone (a hangup)
  };
  process.on('exit', reclaim);
  return {
    join(pid) {
      releaseStops = signals.ignoreStops();
      refusedIsFine(() => setpgid(0, pid)); // refused: it has already exited
    },
    reclaim,
  };
}

/** --userns/--uidmap/--gidmap/--user over the bundle's userns section; --userns host drops it. */
function usersFromFlags(p: Parsed, base: ContainerSpec): Pick<ContainerSpec, 'userns' | 'user'> {
  const flags = { userns: one(p, 'userns'), uidmap: p.options.get('uidmap') ?? [], gidmap: p.options.get('gidmap') ?? [], user: one(p, 'user') };
  const fromFlags = usernsFromFlags(flags);
  const requested = flags.user === undefined ? undefined : parseUserFlag(flags.user);
  const user = requested && { uid: requested.uid, gid: requested.gid ?? 0 };
  if (fromFlags || flags.userns === 'host') return { userns: fromFlags, user };
  if (!base.userns) return { user };
  const userns = user ? { ...base.userns, user } : base.userns;
  validateUserns(userns, { uidMappings: 'configy.json: userns.uidMappings', gidMappings: 'configy.json: userns.gidMappings', user: '--user' });
  return { userns };
}

/**
 * Signals while a container runs in the foreground. Ctrl-C reaches the container
 * straight from the terminal (we share its process group); we pass on what came
 * from elsewhere. Three SIGINTs in a row, or SIGTERM or SIGHUP, stop it for good.
 */
function forwardSignals(signals: ProcessSignals, target: { signal(s: NodeJS.Signals): void }, stop: () => void): () => void {
  let interrupts = 0;
  return signals.forwardTo((signal) => {
    if (signal === 'SIGQUIT') return target.signal('SIGQUIT');
    if (signal !== 'SIGINT') return stop();
    interrupts++;
    if (!process.stdin.isTTY) target.signal('SIGINT');
    if (interrupts === 2) process.stderr.write('\ncontainy-learn: press Ctrl-C once more to kill the container\n');
    if (interrupts >= 3) target.signal('SIGKILL');
  });
}

export async function runCommand(argv: string[], signals: ProcessSignals): Promise<number> {
  const spec = specFromRunArgs(argv);
  // Loaded only when needed: the builder is large, and `run` should start fast.
  if (spec.rootfs === undefined) await (await import('./rootfs.js')).ensureBaseRootfs();
  // As docker says nothing, but a learner should know what they turned off.
  if (spec.security?.privileged) process.stderr.write('containy-learn: note: --privileged: every capability, no seccomp filter, nothing masked, every device: root inside is root on the host\n');
  const terminal = lendTerminal(signals);
  try {
    // The launcher's own calls (unshare on this thread) and the stage's, in one timeline.
    const libc = spec.trace ? await import('../runtime/libc.js') : undefined;
    libc?.setTracing(true);
    // This process starts one container and then only waits for it: its own thread can enter the namespaces.
    const container: Container = await startContainer(spec, { onThisThread: true });
    terminal.join(container.pid);
    if (libc) {
      libc.setTracing(false);
      process.stderr.write(formatTrace([...libc.takeTrace(), ...container.stageTrace]));
    }
    // What the host could not limit as asked (for example swap without swap accounting).
    for (const note of container.cgroup?.notes ?? []) process.stderr.write(`containy-learn: note: ${note}\n`);
    const release = forwardSignals(signals, container, () => void container.stop(3000));
    try {
      const exit = await container.exited;
      terminal.reclaim();
      for (const line of exit.limitMessages) process.stderr.write(`containy-learn: ${line}\n`);
      return exit.status;
    } finally {
      release();
    }
  } finally {
    terminal.reclaim();
  }
}

export async function execCommand(argv: string[], signals: ProcessSignals): Promise<number> {
  const p = parseArgs('exec', argv, ENV_OPTIONS);
  const [name, ...command] = p.rest[0] === '--' ? p.rest.slice(1) : p.rest;
  if (!name) throw new UserError('exec: name the container: containy-learn exec NAME -- COMMAND');
  const cmd = command[0] === '--' ? command.slice(1) : command;
  const terminal = lendTerminal(signals);
  try {
    const proc: StageProcess = await execInContainer(name, cmd, { stdio: 'inherit', env: parseEnv(p), cwd: one(p, 'workdir'), onThisThread: true });
    terminal.join(proc.pid);
    const release = forwardSignals(signals, proc, () => proc.signal('SIGTERM'));
    try {
      return (await proc.exited).status;
    } finally {
      release();
    }
  } finally {
    terminal.reclaim();
  }
}
