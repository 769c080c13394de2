// `npm run bench`: the same work through our runtime and through the reference
// tools, in alternation, so that the machine's mood hits all of them alike.
// Prints medians, ratios to runc (given docker's defences, as our default
// container has them; and once with runc spec's own), and peak memory. Needs root.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT, defaultRootfs } from '../runtime/paths.js';
import { keepStagesWarm, prewarm, runOnce, startContainer, stopAll } from '../runtime/container.js';
import { rootfsStatus } from '../rootfs/rootfs.js';
import { tuiBenchmarks } from './tui-bench.js';
import { compileSecurity } from '../runtime/security/compile.js';
import { defaultSecuritySpec, securitySpecFrom } from '../runtime/security/options.js';
import { DOCKER_DEFAULT_SECCOMP } from '../runtime/security/default-profile.js';
import { resolveProfile } from '../runtime/security/profile.js';
import { ociSecurityFields, ociSeccomp } from '../runtime/oci.js';

const PRIVILEGED = securitySpecFrom({ privileged: true });

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const CLI = path.join(PACKAGE_ROOT, 'bin', 'containy-learn.js');

interface Subject {
  name: string;
  /** What bounds the figure, for the reader. */
  note: string;
  run(): Promise<void>;
  /** Untimed work to do before each timed run (e.g. wait for a warm stage). */
  prepare?(): Promise<void>;
}

function exec(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * An OCI bundle for runc over the same rootfs, read-only, with the same
 * namespaces. `defences: 'docker'` gives it what our default container gets
 * (docker's capabilities, masked and read-only paths, and its seccomp filter
 * for those capabilities), so that runc does the same work; else runc spec's
 * own (three capabilities, its masked and read-only paths, no filter).
 */
function runcBundle(rootfs: string, defences: 'docker' | 'runc-spec'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-bench-runc-'));
  const r = spawnSync('runc', ['spec'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`runc spec failed: ${r.stderr}`);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/bin/true'];
  config.root = { path: rootfs, readonly: true };
  config.hostname = 'bench';
  if (defences === 'docker') {
    const security = defaultSecuritySpec();
    const fields = ociSecurityFields(security);
    Object.assign(config.process, fields.process);
    Object.assign(config.linux, fields.linux);
    config.linux.seccomp = ociSeccomp(resolveProfile(DOCKER_DEFAULT_SECCOMP, { capabilities: security.capabilities }));
  }
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: containers need root: run it as root (sudo npm run bench)\n');
    return 1;
  }
  const rootfs = defaultRootfs();
  if (!rootfsStatus(rootfs).complete) {
    process.stderr.write('bench: building the base rootfs first\n');
    await exec(process.execPath, [CLI, 'rootfs', 'build']);
  }
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-bench-state-'));
  const cliEnv = { ...process.env, CONTAINY_STATE_DIR: state };
  process.env.CONTAINY_STATE_DIR = state;

  /** setupBridgeNetwork's own time in each bridge run: the netlink setup's share. */
  const bridgeSetupMs: number[] = [];
  const bridgeTeardownMs: number[] = [];
  const subjects: Subject[] = [
    {
      name: 'containy-learn run (CLI)',
      note: 'two Node start-ups: the CLI and the stage (~60-70 ms each here)',
      run: () => exec(process.execPath, [CLI, 'run', '--rm', '--', '/bin/true'], cliEnv),
    },
    {
      name: 'runtime in-process (warm)',
      note: 'the stage was started ahead of time; this is the mounts, pivot_root, execve and cgroup work',
      prepare: () => prewarm(undefined, 'pipe'),
      run: async () => {
        const r = await runOnce({ argv: ['/bin/true'], rootfs });
        if (r.status !== 0) throw new Error(`in-process run failed: ${r.error ?? r.stderr}`);
      },
    },
    {
      name: 'in-process, --privileged',
      note: 'the same without docker\'s defences: the difference is their cost',
      prepare: () => prewarm(undefined, 'pipe'),
      run: async () => {
        const r = await runOnce({ argv: ['/bin/true'], rootfs, security: PRIVILEGED });
        if (r.status !== 0) throw new Error(`in-process run failed: ${r.error ?? r.stderr}`);
      },
    },
    {
      name: 'in-process --network bridge',
      note: 'warm, plus the bridge, a veth pair, addresses and a route by rtnetlink, removed at exit',
      prepare: () => prewarm(undefined, 'pipe'),
      run: async () => {
        const c = await startContainer({ argv: ['/bin/true'], rootfs, stdio: 'pipe', network: 'bridge' });
        const exit = await c.exited;
        if (exit.status !== 0) throw new Error(`in-process bridge run exited ${exit.status}`);
        bridgeSetupMs.push(c.network?.setupMs ?? NaN);
        bridgeTeardownMs.push(c.network?.teardownMs ?? NaN);
      },
    },
  ];
  const bundles: string[] = [];
  if (which('runc')) {
    let n = 0;
    const runcRun = (bundle: string) => () => exec('runc', ['run', '--bundle', bundle, `containy-bench-${process.pid}-${n++}`]);
    bundles.push(runcBundle(rootfs, 'docker'), runcBundle(rootfs, 'runc-spec'));
    subjects.push({ name: 'runc run', note: "the reference: Go, one process re-exec (runc init); docker's defences, as our default", run: runcRun(bundles[0]) });
    subjects.push({ name: 'runc run, runc spec', note: "runc spec's own defences: 3 capabilities, no seccomp filter", run: runcRun(bundles[1]) });
  } else {
    process.stderr.write('bench: runc is not installed (apt-get install runc): no reference figure\n');
  }
  subjects.push({
    name: 'unshare + chroot',
    note: 'the floor: util-linux in C, no overlay, no cgroup',
    run: () => exec('unshare', ['--fork', '--pid', '--mount', '--uts', '--ipc', '--net', '--mount-proc', 'chroot', rootfs, '/bin/true']),
  });

  keepStagesWarm(true);
  const times = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  // One untimed round warms the page cache for every subject alike.
  for (const s of subjects) {
    await s.prepare?.();
    await s.run();
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of subjects) {
      await s.prepare?.();
      const t0 = performance.now();
      await s.run();
      times.get(s.name)!.push(performance.now() - t0);
    }
    process.stderr.write(`\rbench: round ${round + 1}/${ROUNDS}`);
  }
  process.stderr.write('\r\x1b[2K');
  await stopAll();

  const runcMedian = times.has('runc run') ? median(times.get('runc run')!) : undefined;
  const out: string[] = [];
  out.push(`container start and exit of /bin/true, ${ROUNDS} rounds in alternation (${os.cpus().length} CPUs, ${os.release()})`);
  out.push('');
  out.push(`${'subject'.padEnd(28)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)} ${'vs runc'.padStart(8)}  bound by`);
  for (const s of subjects) {
    const t = times.get(s.name)!;
    const m = median(t);
    const ratio = runcMedian ? `${(m / runcMedian).toFixed(2)}x` : '-';
    out.push(`${s.name.padEnd(28)} ${m.toFixed(1).padStart(10)} ${Math.min(...t).toFixed(1).padStart(8)} ${ratio.padStart(8)}  ${s.note}`);
  }
  const bridge = median(times.get('in-process --network bridge')!);
  const [setup, teardown] = [median(bridgeSetupMs.slice(-ROUNDS)), median(bridgeTeardownMs.slice(-ROUNDS))];
  const share = (ms: number) => `${ms.toFixed(1)} ms (${((ms / bridge) * 100).toFixed(0)}%)`;
  out.push(`--network bridge, medians: netlink setup (bridge, veth pair, addresses, route) ${share(setup)}, `
    + `teardown (veth, bridge) ${share(teardown)}; ${(bridge - median(times.get('runtime in-process (warm)')!)).toFixed(1)} ms over the warm start`);
  out.push('');
  out.push(`peak RSS of this Node process with the runtime in-process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  const cliRss = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, 'run', '--rm', '--', '/bin/true'], { env: cliEnv, encoding: 'utf8' });
  if (cliRss.status === 0) out.push(`peak RSS of the CLI process for one run: ${(Number(cliRss.stderr.trim().split('\n').pop()) / 1024).toFixed(0)} MiB`);
  if (runcMedian) {
    const inProcess = median(times.get('runtime in-process (warm)')!) / runcMedian;
    const whole = median(times.get('containy-learn run (CLI)')!) / runcMedian;
    out.push(`targets: in-process <= 0.5x runc: ${inProcess <= 0.5 ? 'met' : 'NOT met'} (${inProcess.toFixed(2)}x); CLI <= 4x runc: ${whole <= 4 ? 'met' : 'NOT met'} (${whole.toFixed(2)}x)`);
    // runc compiles its filter with libseccomp at every start; we keep the BPF (compile.ts). Against a runc that installs none:
    const bare = times.get('runc run, runc spec');
    if (bare) out.push(`  against runc spec's defaults (no filter, 3 capabilities): in-process ${(median(times.get('runtime in-process (warm)')!) / median(bare)).toFixed(2)}x, --privileged ${(median(times.get('in-process, --privileged')!) / median(bare)).toFixed(2)}x`);
  }
  // Masked and read-only paths (about nine mounts), the bounding-set drops, capset and the filter.
  const defences = median(times.get('runtime in-process (warm)')!) - median(times.get('in-process, --privileged')!);
  out.push(`docker's defences cost ${defences.toFixed(1)} ms a start (in-process default minus --privileged, medians)`);
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) compileSecurity(defaultSecuritySpec());
  out.push(`compileSecurity(docker's defaults), kept filter: ${((performance.now() - t0) / 20).toFixed(2)} ms (launcher, while the stage boots)`);
  process.stdout.write(out.join('\n') + '\n\n');

  // Let the last rounds' writeback (overlay dirs removed by the hundred) settle before timing the workshop.
  spawnSync('sync');
  await new Promise((r) => setTimeout(r, 2000));
  process.stdout.write((await tuiBenchmarks()).join('\n') + '\n');

  for (const bundle of bundles) fs.rmSync(bundle, { recursive: true, force: true });
  fs.rmSync(state, { recursive: true, force: true });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
