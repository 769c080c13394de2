// The actions that start something: a container (start, run, chroot), a
// command in one (exec), a process on the host (host-process), and stop.
// Each hands the runtime a ContainerSpec; a refusal is the step's `error`.
import path from 'node:path';
import { demoBinds } from '../../demos.js';
import { describeError } from '../../runtime/errors.js';
import { NAMESPACES } from '../../runtime/namespaces.js';
import type { Container, ContainerSpec, NamespaceName, RunResult } from '../../runtime/index.js';
import { securitySpecFrom, type SecuritySpec } from '../../runtime/security/options.js';
import { explainRefusals } from '../../runtime/security/explain.js';
import type { StageSecurity } from '../../runtime/security/compile.js';
import { argvOf, bool, command, CONTAINER_PARAMS, handleName, hostPort, IN_PARAM, limitControllers, MAIN, toCgroupLimits, toUser, toUserns, workdirPath, type StepSecurity } from '../params.js';
import type { Need } from '../types.js';
import { formatTrace } from '../../runtime/trace.js';
import { loadOciBundle } from '../../runtime/oci.js';
import { detectLayout } from '../../runtime/cgroups/layout.js';
import { STOP_GRACE_MS, type ActionContext, type ActionDef, type ActionOutcome } from './types.js';

/**
 * How long a `start` waits for what a check reads: until the command exits, or
 * its script has reached its last program (`exec sleep infinity`: the first
 * process runs another program) and the output has been quiet a moment. The cap
 * is for a command that never does either; it is generous because a slow machine
 * (the emulated v2 guest) takes seconds per command.
 */
const START_OUTPUT_WAIT_MS = 10_000;
const START_OUTPUT_QUIET_MS = 300;

function containerCrossCheck(p: Record<string, unknown>): string | undefined {
  if (p.rootfs === 'host') {
    const extra = ['overlay', 'pivot', 'bindRootFirst'].filter((k) => p[k] !== undefined && p[k] !== false);
    if (extra.length) return `rootfs: host keeps the host's files, so ${extra.join(' and ')} cannot apply: remove ${extra.length > 1 ? 'them' : 'it'}`;
  }
  if (p.publish !== undefined && p.network !== 'bridge') return 'publish needs network: bridge (a port is published to the container\'s bridge address)';
  if (p.hostname !== undefined && Array.isArray(p.namespaces) && !p.namespaces.includes('uts')) {
    return 'hostname needs the uts namespace (without it the host\'s hostname would change): add uts to namespaces';
  }
  return undefined;
}

function containerNeeds(p: Record<string, unknown>): Need[] {
  const needs: Need[] = ['root'];
  if (p.rootfs !== 'host' && p.overlay !== false) needs.push('overlay');
  if (p.limits !== undefined) needs.push('cgroups');
  return needs;
}

/** A path given relative to the work directory (or absolute, once ${...} was filled in). */
export function inWorkdir(ctx: ActionContext, p: string): string {
  return path.isAbsolute(p) ? p : path.join(ctx.workdir(), p);
}

/** A step's `security:` as docker's flags would say it; none = docker's defaults. */
function securityOf(ctx: ActionContext, s: StepSecurity | undefined): SecuritySpec {
  const securityOpt: string[] = [];
  if (s?.seccomp !== undefined && s.seccomp !== 'default') securityOpt.push(`seccomp=${s.seccomp === 'unconfined' ? 'unconfined' : inWorkdir(ctx, s.seccomp)}`);
  if (s?.noNewPrivileges) securityOpt.push('no-new-privileges');
  if (s?.systemPaths === 'unconfined') securityOpt.push('systempaths=unconfined');
  return securitySpecFrom({ privileged: s?.privileged, capAdd: s?.capAdd, capDrop: s?.capDrop, securityOpt, readOnly: s?.readOnly });
}

/** What a process on the host has: root's, not a container's (chroot(1), a host program). */
const HOST_PROCESS_SECURITY = { privileged: true };

/** The runtime's ContainerSpec for a start/run step. */
function containerSpec(ctx: ActionContext, p: Record<string, unknown>, argv: string[]): ContainerSpec {
  const spec: ContainerSpec = { argv, stdio: 'pipe' };
  if (p.namespaces !== undefined) spec.namespaces = p.namespaces as NamespaceName[];
  if (p.hostname !== undefined) spec.hostname = p.hostname as string;
  if (p.rootfs === 'host') spec.rootfs = null;
  else if (p.rootfs !== undefined && p.rootfs !== 'base') spec.rootfs = inWorkdir(ctx, p.rootfs as string);
  // An image's layers, bottom first; a missing image is the runtime's one sentence about its layer.
  if (p.image !== undefined) spec.rootfs = ctx.runtime.images?.find(p.image as string)?.layerDirs ?? [`<no image ${p.image as string}: load it first>`];
  for (const key of ['overlay', 'pivot', 'specialFilesystems'] as const) {
    if (p[key] !== undefined) spec[key] = p[key] as boolean;
  }
  // Lesson 3's refusal: pivot_root on a directory that is not a mount point.
  if (p.bindRootFirst === false) spec.rootMountPoint = 'as-given';
  // The demos (mem.py, proc.py) are the workshop's, bound where a container has a root of its own.
  if (p.rootfs !== 'host' && (spec.namespaces ?? NAMESPACES).includes('mnt')) spec.binds = demoBinds();
  if (p.limits !== undefined) spec.limits = toCgroupLimits(p.limits);
  if (p.env !== undefined) spec.env = p.env as Record<string, string>;
  if (p.cwd !== undefined) spec.cwd = p.cwd as string;
  if (p.tmpfs !== undefined) spec.tmpfs = p.tmpfs as string[];
  if (p.uidmap !== undefined) spec.userns = toUserns(p.uidmap, p.user);
  else if (p.user !== undefined) spec.user = toUser(p.user);
  if (p.trace === true) spec.trace = true;
  spec.security = securityOf(ctx, p.security as StepSecurity | undefined);
  if (p.network !== undefined) spec.network = p.network as string;
  if (p.publish !== undefined) spec.publish = p.publish as string[];
  return spec;
}

/** A refused command keeps its status too, as docker reports it: 127 not found, 126 cannot execute, 125 the runtime refused. */
function fromRun(r: RunResult, security: SecuritySpec | StageSecurity | undefined): ActionOutcome {
  const outcome: ActionOutcome = { stdout: r.stdout, stderr: r.stderr, exit: r.status, error: r.error, limitMessages: r.limitMessages };
  // With trace: true, the start's libc calls come first in the output, as strace -f would interleave them.
  if (r.trace) outcome.output = formatTrace(r.trace) + r.stdout + r.stderr;
  const notes = security ? explainRefusals(r.stdout + r.stderr, knownOf(security)) : [];
  if (notes.length) outcome.securityNotes = notes;
  return outcome;
}

function knownOf(s: SecuritySpec | StageSecurity): Parameters<typeof explainRefusals>[1] {
  const seccomp = typeof s.seccomp === 'object' ? s.seccomp.kind : s.seccomp;
  return { capabilities: s.capabilities, seccomp, readonlyPaths: s.readonlyPaths, maskedPaths: s.maskedPaths };
}

export function notRunning(ctx: ActionContext, handle: string): ActionOutcome {
  const which = handle === MAIN ? 'the lesson\'s container' : handle;
  return { error: `${which} is not running${ctx.runFirst(handle)}` };
}

export function runningContainer(ctx: ActionContext, handle: string): Container | undefined {
  const h = ctx.handle(handle);
  return h?.kind === 'container' && h.container.running ? h.container : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once the first process has exec'd another program and the output has been quiet START_OUTPUT_QUIET_MS, or at START_OUTPUT_WAIT_MS. */
async function outputSettled(output: () => string, container: Container): Promise<void> {
  const deadline = Date.now() + START_OUTPUT_WAIT_MS;
  const startedAs = container.program?.();
  let seen = output();
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    await sleep(50);
    const now = output();
    if (now !== seen) {
      seen = now;
      quietSince = Date.now();
      continue;
    }
    const moved = container.program === undefined || container.program() !== startedAs;
    if (moved && Date.now() - quietSince >= START_OUTPUT_QUIET_MS) return;
  }
}

export const start: ActionDef = {
  name: 'start',
  summary: 'start (or replace) the lesson\'s long-lived container; a refusal is the step\'s error',
  params: {
    ...CONTAINER_PARAMS,
    command: { describe: 'what it runs (default: sleep infinity)', validate: command },
    as: { describe: 'keep it under this name beside the lesson\'s container (default: the lesson\'s container)', validate: handleName },
  },
  crossCheck: containerCrossCheck,
  needs: containerNeeds,
  controllers: (p) => limitControllers(p.limits),
  defines: (p) => (p.as as string | undefined) ?? MAIN,
  async run(ctx, p) {
    const handle = (p.as as string | undefined) ?? MAIN;
    const previous = ctx.handle(handle);
    if (previous?.container.running) await previous.container.stop(STOP_GRACE_MS);
    let spec: ContainerSpec;
    try {
      spec = containerSpec(ctx, p, p.command === undefined ? ['sleep', 'infinity'] : argvOf(p.command));
    } catch (err) {
      return { error: describeError(err), focus: handle };
    }
    spec.name = ctx.containerName((p.name as string | undefined) ?? (handle === MAIN ? undefined : handle));
    if (p.name !== undefined) ctx.rememberStored(spec.name);
    else spec.remove = true;
    let container: Container;
    try {
      container = await ctx.runtime.startContainer(spec);
    } catch (err) {
      return { error: describeError(err), focus: handle };
    }
    const kept = ctx.keep(handle, 'container', container);
    const outcome: ActionOutcome = { focus: handle };
    if (ctx.wantsOutput) {
      const exit = await Promise.race([container.exited, outputSettled(kept.output, container).then(() => undefined)]);
      if (exit) {
        outcome.exit = exit.status;
        outcome.limitMessages = exit.limitMessages;
      }
    }
    outcome.output = kept.output();
    const notes = container.security ? explainRefusals(outcome.output, knownOf(container.security)) : [];
    if (notes.length) outcome.securityNotes = notes;
    return outcome;
  },
};

export const exec: ActionDef = {
  name: 'exec',
  summary: 'run a command inside the running container, joining its namespaces (as nsenter does) and its cgroup (as runc exec does)',
  params: {
    command: { describe: 'the command (text runs with sh -c)', required: true, validate: command },
    in: IN_PARAM,
    env: CONTAINER_PARAMS.env,
    cwd: CONTAINER_PARAMS.cwd,
  },
  needs: () => ['root'],
  uses: (p) => (p.in as string | undefined) ?? MAIN,
  async run(ctx, p) {
    const handle = (p.in as string | undefined) ?? MAIN;
    const container = runningContainer(ctx, handle);
    if (!container) return notRunning(ctx, handle);
    const opts: { env?: Record<string, string>; cwd?: string } = {};
    if (p.env !== undefined) opts.env = p.env as Record<string, string>;
    if (p.cwd !== undefined) opts.cwd = p.cwd as string;
    try {
      return { ...fromRun(await container.run(argvOf(p.command), opts), container.security), focus: handle };
    } catch (err) {
      return { error: describeError(err), focus: handle };
    }
  },
};

/**
 * A bundle's container, as `run --bundle` reads config.json. What the CLI prints as
 * warnings (where runc too carries on) comes first on stderr, so stdout is the command's alone.
 */
function bundleSpec(ctx: ActionContext, bundle: string): { spec: ContainerSpec; warnings: string } {
  const warnings: string[] = [];
  const spec = loadOciBundle(inWorkdir(ctx, bundle), { stdinIsTerminal: false, cgroupV2: detectLayout() === 'v2', warn: (m) => warnings.push(`warning: config.json: ${m}\n`) });
  return { spec: { ...spec, stdio: 'pipe' }, warnings: warnings.join('') };
}

export const run: ActionDef = {
  name: 'run',
  summary: 'a one-shot container: start, wait for the command, collect its output, exit status and limit messages',
  params: {
    ...CONTAINER_PARAMS,
    command: { describe: 'the command (text runs with sh -c); required unless bundle gives it', validate: command },
    bundle: { describe: 'an OCI bundle in the work directory (rootfs/ and config.json): its config.json is the whole container, as run --bundle reads it', validate: workdirPath },
    trace: { describe: 'put the stage\'s libc calls (unshare, mount, pivot_root ... execve) before the output', validate: bool },
  },
  crossCheck(p) {
    if (p.bundle === undefined) return p.command === undefined ? 'needs command: what the container runs (or bundle: an OCI bundle whose config.json says it)' : containerCrossCheck(p);
    const extra = Object.keys(p).filter((k) => k !== 'bundle' && k !== 'trace');
    return extra.length ? `bundle: its config.json says the whole container (process.args included), so ${extra.join(' and ')} cannot apply: remove ${extra.length > 1 ? 'them' : 'it'}` : undefined;
  },
  needs: (p) => (p.bundle === undefined ? containerNeeds(p) : ['root']),
  controllers: (p) => limitControllers(p.limits),
  async run(ctx, p) {
    try {
      if (p.bundle !== undefined) {
        const { spec, warnings } = bundleSpec(ctx, p.bundle as string);
        if (p.trace === true) spec.trace = true;
        const outcome = fromRun(await ctx.runtime.runOnce(spec, (c) => ctx.showWhileRunning(c)), spec.security);
        return warnings ? { ...outcome, stderr: warnings + (outcome.stderr ?? ''), ...(outcome.output !== undefined ? { output: warnings + outcome.output } : {}) } : outcome;
      }
      const spec = containerSpec(ctx, p, argvOf(p.command));
      if (p.name !== undefined) {
        spec.name = ctx.containerName(p.name as string);
        ctx.rememberStored(spec.name);
      }
      return fromRun(await ctx.runtime.runOnce(spec, (c) => ctx.showWhileRunning(c)), spec.security);
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

export const stop: ActionDef = {
  name: 'stop',
  summary: 'stop the container (SIGTERM, then SIGKILL), removing its cgroup and, unless named, its changes',
  params: { in: IN_PARAM },
  needs: () => ['root'],
  uses: (p) => (p.in as string | undefined) ?? MAIN,
  async run(ctx, p) {
    const handle = (p.in as string | undefined) ?? MAIN;
    const h = ctx.handle(handle);
    if (!h) return notRunning(ctx, handle);
    const wasRunning = h.container.running;
    const exit = await h.container.stop(STOP_GRACE_MS);
    const how = exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.status}`;
    return {
      output: wasRunning ? `stopped ${h.container.name} (${how})\n` : `${h.container.name} had already ended (${how})\n`,
      exit: exit.status,
      limitMessages: exit.limitMessages,
      focus: handle,
    };
  },
};

export const chroot: ActionDef = {
  name: 'chroot',
  summary: 'run a command chrooted into a directory of the work directory: no namespaces, no overlay, as chroot(1) does',
  params: {
    root: { describe: 'the directory in the work directory (default jail)', validate: workdirPath, default: 'jail' },
    command: { describe: 'the command (text runs with sh -c)', required: true, validate: command },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    const root = inWorkdir(ctx, (p.root as string | undefined) ?? 'jail');
    try {
      return fromRun(await ctx.runtime.runOnce({ argv: argvOf(p.command), rootfs: root, overlay: false, pivot: false, namespaces: [], stdio: 'pipe', security: securityOf(ctx, HOST_PROCESS_SECURITY) }), undefined);
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

export const hostProcess: ActionDef = {
  name: 'host-process',
  summary: 'start a process on the host (no namespaces, no new root), known to later steps as ${<as>.pid}; killed on reset',
  params: {
    command: { describe: 'what it runs, e.g. ["sleep", "1000"]', required: true, validate: command },
    as: { describe: 'its name for later steps, e.g. victim', required: true, validate: handleName },
  },
  needs: () => ['root'],
  defines: (p) => p.as as string,
  async run(ctx, p) {
    const handle = p.as as string;
    const previous = ctx.handle(handle);
    if (previous?.container.running) await previous.container.stop(STOP_GRACE_MS);
    try {
      const container = await ctx.runtime.startContainer({
        argv: argvOf(p.command), rootfs: null, namespaces: [], stdio: 'pipe', name: ctx.containerName(handle), remove: true,
        security: securityOf(ctx, HOST_PROCESS_SECURITY),
      });
      ctx.keep(handle, 'host-process', container);
      return { output: `started ${argvOf(p.command).join(' ')} on the host as ${handle}: PID ${container.pid}\n` };
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

export const hostRun: ActionDef = {
  name: 'host-run',
  summary: 'run a command on the host and wait for it (no namespaces, no new root, root\'s capabilities, as sudo runs it): its output and exit status; with as:, kept for later checks',
  params: {
    command: { describe: 'the command (text runs with sh -c), found on the host\'s PATH; name the programs it needs in needs-host', required: true, validate: command },
    as: { describe: 'keep its stdout, stderr, output and exit for later steps\' checks, e.g. ${runc.stdout}', validate: handleName },
  },
  needs: () => ['root'],
  defines: (p) => p.as as string | undefined,
  async run(ctx, p) {
    try {
      const r = await ctx.runtime.runOnce({ argv: argvOf(p.command), rootfs: null, namespaces: [], stdio: 'pipe', security: securityOf(ctx, HOST_PROCESS_SECURITY) }, (c) => ctx.showWhileRunning(c));
      const outcome = fromRun(r, undefined);
      if (p.as !== undefined && !outcome.error) ctx.keepResult(p.as as string, { stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr, exit: r.status });
      return outcome;
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

/** How long `reach` keeps trying while nothing listens yet: a server still starting (python3 takes seconds in the emulated v2 guest). */
const REACH_WAIT_MS = 20_000;

export const reach: ActionDef = {
  name: 'reach',
  summary: 'a TCP connect from the host to ADDRESS:PORT, answered by the kernel: exit 0 when the handshake completes, 1 when not, and why',
  params: { address: { describe: 'where to connect, e.g. ${web.address}:8000 or 127.0.0.1:48080', required: true, validate: hostPort } },
  needs: () => ['root'],
  async run(ctx, p) {
    const target = p.address as string;
    const colon = target.lastIndexOf(':');
    const [host, port] = [target.slice(0, colon), Number(target.slice(colon + 1))];
    const deadline = Date.now() + REACH_WAIT_MS;
    let r = await ctx.runtime.tcpReachable(host, port);
    // Refused means the address answered and nothing listens yet: a server that is starting gets a moment.
    while (!r.reachable && r.reason?.startsWith('ECONNREFUSED') && Date.now() < deadline) {
      await sleep(100);
      r = await ctx.runtime.tcpReachable(host, port);
    }
    return { output: r.reachable ? `the host reaches ${target} (handshake in ${r.ms} ms)\n` : `the host does not reach ${target}: ${r.reason}\n`, exit: r.reachable ? 0 : 1 };
  },
};
