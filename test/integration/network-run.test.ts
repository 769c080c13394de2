// `run --network` and `-p` as a user runs them (root, real containers): two
// bridge containers talk, a published port answers on the host's 127.0.0.1,
// host mode sees the host's links, container:NAME shares a netns, killed runs
// leave nothing after `cleanup`, and bad input is refused with nothing made.
// `ip -o link`, `ip -o addr` and every route are compared before and after.
// Traffic only goes to addresses the runs create.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI, cli, hostState, isRoot, tempStateDir, warnIfNotRoot } from '../helpers/host.js';
import { tcpReachable } from '../../src/runtime/net/reachability.js';

warnIfNotRoot('run --network integration tests');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A run record, or undefined while it is absent or being rewritten. */
function readRecord(file: string): { pid?: number; network?: { address: string } } | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
const FETCH = (url: string) => ['python3', '-c', `import urllib.request; print(urllib.request.urlopen(${JSON.stringify(url)}, timeout=5).status)`];

describe.skipIf(!isRoot)('containy-learn run --network', () => {
  let state: string;
  let env: Record<string, string>;
  let before: ReturnType<typeof hostState>;
  const background: ChildProcess[] = [];
  const run = (args: string[]) => cli(['run', ...args], { env });

  /** A named container serving HTTP on 8000, in the background; resolves once the host reaches it. */
  async function server(name: string, extra: string[] = []): Promise<{ child: ChildProcess; address: string; pid: number }> {
    const child = spawn(process.execPath, [CLI, 'run', '--rm', '--name', name, '--network', 'bridge', ...extra, '--', 'python3', '-m', 'http.server', '8000'], {
      env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'inherit'],
    });
    background.push(child);
    const file = path.join(state, 'run', `${name}.json`);
    for (let i = 0; i < 300; i++) {
      const record = readRecord(file);
      if (record?.network?.address && (await tcpReachable(record.network.address, 8000, 200)).reachable) {
        return { child, address: record.network.address, pid: record.pid! };
      }
      await sleep(50);
    }
    throw new Error(`${name} never answered on port 8000`);
  }

  /** Ctrl-C, as a user would: python's KeyboardInterrupt ends it, the run tears the network down. */
  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise((r) => child.once('close', r));
    child.kill('SIGINT');
    await closed;
  }

  beforeAll(async () => {
    const built = await cli(['rootfs', 'build']);
    expect(built.status, built.stderr).toBe(0);
  });

  beforeEach(() => {
    state = tempStateDir('network');
    env = { CONTAINY_STATE_DIR: state };
    before = hostState();
  });

  afterEach(async () => {
    await Promise.all(background.splice(0).map(stop));
    const after = hostState();
    const leases = path.join(state, 'net', 'containy0');
    const left = {
      records: fs.existsSync(path.join(state, 'run')) ? fs.readdirSync(path.join(state, 'run')) : [],
      leases: fs.existsSync(leases) ? fs.readdirSync(leases) : [],
    };
    fs.rmSync(state, { recursive: true, force: true });
    expect(after).toEqual(before);
    expect(left).toEqual({ records: [], leases: [] });
  });

  afterAll(() => Promise.all(background.map(stop)));

  it('puts two bridge containers on containy0, and they reach each other', async () => {
    const web = await server('web');
    expect(web.address).toMatch(/^10\.\d+\.0\.2$/);
    const r = await run(['--rm', '--network', 'bridge', '--', ...FETCH(`http://${web.address}:8000/`)]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('200');
    // The kernel's view inside: eth0 up with the next address, a veth whose peer is on the host.
    const inside = await run(['--rm', '--network', 'bridge', '--', 'sh', '-c', 'cat /sys/class/net/eth0/operstate; cat /sys/class/net/eth0/iflink; grep -c . /etc/hosts']);
    expect(inside.status, inside.stderr).toBe(0);
    const [operstate, iflink] = inside.stdout.trim().split('\n');
    expect(operstate).toBe('up');
    expect(Number(iflink)).toBeGreaterThan(1);
  });

  it('publishes a port that the host reaches on 127.0.0.1', async () => {
    const port = 18000 + (process.pid % 1000);
    await server('pub', ['-p', `${port}:8000`]);
    const r = await tcpReachable('127.0.0.1', port, 2000);
    expect(r.reachable, r.reason).toBe(true);
    const got = execFileSync('python3', FETCH(`http://127.0.0.1:${port}/`).slice(1), { encoding: 'utf8' });
    expect(got.trim()).toBe('200');
  });

  it('SIGTERM to containy-learn stops the container and removes its veth, the bridge and the published port', async () => {
    const port = 19000 + (process.pid % 1000);
    const web = await server('term', ['-p', `127.0.0.1:${port}:8000`]);
    const closed = new Promise<number | null>((r) => web.child.once('close', (code) => r(code)));
    web.child.kill('SIGTERM');
    expect(await closed).toBe(137); // python as PID 1 has no SIGTERM handler: killed after the grace period
    expect((await tcpReachable('127.0.0.1', port, 500)).reachable).toBe(false);
    // afterEach: links, addresses and routes as before, no record, no lease.
  });

  it('--network host sees the host\'s links', async () => {
    const r = await run(['--rm', '--network', 'host', '--', 'ls', '/sys/class/net']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split(/\s+/).sort()).toEqual(fs.readdirSync('/sys/class/net').sort());
  });

  it('--network container:NAME shares that container\'s network namespace', async () => {
    const web = await server('shared');
    const r = await run(['--rm', '--network', 'container:shared', '--', 'sh', '-c', 'readlink /proc/self/ns/net; cat /sys/class/net/eth0/address']);
    expect(r.status, r.stderr).toBe(0);
    const [ns] = r.stdout.trim().split('\n');
    expect(ns).toBe(fs.readlinkSync(`/proc/${web.pid}/ns/net`));
    // It answers on its partner's localhost: one netns, one lo.
    const local = await run(['--rm', '--network', 'container:shared', '--', ...FETCH('http://127.0.0.1:8000/')]);
    expect(local.stdout.trim(), local.stderr).toBe('200');
  });

  it('leaves no link, address, route or bridge after 30 bridge runs, 5 of them SIGKILLed, and cleanup', async () => {
    const killed: Promise<number>[] = [];
    for (let batch = 0; batch < 5; batch++) {
      // One run per batch is killed with SIGKILL once its container is on the bridge.
      const victim = spawn(process.execPath, [CLI, 'run', '--name', `victim${batch}`, '--network', 'bridge', '--', 'sleep', '60'], { env: { ...process.env, ...env }, stdio: 'ignore' });
      const file = path.join(state, 'run', `victim${batch}.json`);
      const quick = Array.from({ length: 5 }, () => run(['--rm', '--network', 'bridge', '--', 'cat', '/sys/class/net/eth0/operstate']));
      for (const r of await Promise.all(quick)) {
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe('up');
      }
      for (let i = 0; i < 200 && !readRecord(file)?.network; i++) await sleep(25);
      killed.push(new Promise((r) => victim.once('close', (code, signal) => r(signal === 'SIGKILL' ? 137 : (code ?? 0)))));
      victim.kill('SIGKILL');
    }
    expect(await Promise.all(killed)).toEqual([137, 137, 137, 137, 137]);
    expect(fs.existsSync('/sys/class/net/containy0')).toBe(true); // the kill -9s left it, with their leases
    const cleaned = await cli(['cleanup'], { env });
    expect(cleaned.status, cleaned.stderr).toBe(0);
    expect(cleaned.stdout).toContain('link containy0');
  }, 120_000);

  describe('refuses bad input with exit 125, one sentence, nothing created', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['an unknown network mode', ['--network', 'wifi'], /unknown network mode 'wifi'/],
      ['a port out of range', ['--network', 'bridge', '-p', '70000:80'], /out of range/],
      ['-p without bridge', ['-p', '8080:80'], /-p needs --network bridge/],
      ['a container:NAME that does not run', ['--network', 'container:ghost'], /no running container named 'ghost'/],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const r = await run(['--rm', ...args, '--', 'true']);
        expect(r.status).toBe(125);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(message);
      });
    }

    it('a port already taken', async () => {
      const taken = net.createServer();
      await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
      const port = (taken.address() as net.AddressInfo).port;
      try {
        const r = await run(['--rm', '--network', 'bridge', '-p', `127.0.0.1:${port}:80`, '--', 'true']);
        expect(r.status).toBe(125);
        expect(r.stderr.trim()).toMatch(new RegExp(`port ${port} is already in use`));
      } finally {
        taken.close();
      }
    });

    it('no free range for the bridge', async () => {
      // Every candidate range (10.88-10.99/16, 172.30-31/16) taken by addresses on a link of the test's own.
      const dummy = `containyX${process.pid % 10000}`;
      execFileSync('ip', ['link', 'add', dummy, 'type', 'bridge']); // a bridge of the test's own: this kernel has no dummy module
      try {
        for (const a of ['10.88.0.1/13', '10.96.0.1/14', '172.30.0.1/15']) execFileSync('ip', ['addr', 'add', a, 'dev', dummy]);
        const r = await run(['--rm', '--network', 'bridge', '--', 'true']);
        expect(r.status).toBe(125);
        expect(r.stderr.trim()).toMatch(/no free range for the bridge/);
        expect(fs.existsSync('/sys/class/net/containy0')).toBe(false);
      } finally {
        execFileSync('ip', ['link', 'del', dummy]);
      }
    });
  });
});
