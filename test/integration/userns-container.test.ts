// Containers with a user namespace, through the whole start (Container.start
// and the CLI), as root: containy's own bundle, a file written inside as seen
// on the host, --user, exec, and every bad map refused with nothing created.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBase, cli, isRoot, useStateDir, warnIfNotRoot } from '../helpers/host.js';
import { PACKAGE_ROOT, defaultRootfs } from '../../src/runtime/paths.js';
import { loadBundle } from '../../src/runtime/configy.js';
import { Container } from '../../src/runtime/container.js';
import { collect } from '../../src/runtime/run-result.js';
import { probe } from '../../src/runtime/probes.js';

warnIfNotRoot('user-namespace container tests');

const FIXTURE = '/work/shared/fixtures/containy-bundle/configy.json';
const fixtureHere = fs.existsSync(FIXTURE);
if (!fixtureHere) console.warn(`skipping containy's bundle: ${FIXTURE} is missing`);

/** containy's configy.json, with its rootfsPath `debian` pointing at our base, and another command. */
function containyBundle(dir: string, command: string): string {
  const json = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
  json.cmd = { command: '/bin/sh', cmd_argv: `-c '${command}'` };
  fs.mkdirSync(dir, { mode: 0o711 });
  fs.writeFileSync(path.join(dir, 'configy.json'), JSON.stringify(json));
  fs.symlinkSync(defaultRootfs(), path.join(dir, json.rootfsPath));
  return dir;
}

describe.skipIf(!isRoot)('containers with a user namespace', () => {
  // Root inside (a host uid without privilege) mounts the overlay below the state directory.
  const ctx = useStateDir('userns', { mode: 0o711 });
  const run = (args: string[], input?: string) => cli(['run', ...args], { env: ctx.env, input });

  beforeAll(buildBase);

  describe.skipIf(!fixtureHere)("containy's bundle", () => {
    let savedState: string | undefined;
    beforeEach(() => {
      savedState = process.env.CONTAINY_STATE_DIR;
      process.env.CONTAINY_STATE_DIR = ctx.state;
    });
    afterAll(() => {
      if (savedState === undefined) delete process.env.CONTAINY_STATE_DIR;
      else process.env.CONTAINY_STATE_DIR = savedState;
    });

    it('runs as root inside, host uid 1000 outside, with its maps, hostname and cgroup limits', async () => {
      const bundle = containyBundle(path.join(ctx.state, 'bundle'), 'id -u; id -g; cat /proc/self/uid_map; hostname; ls -nd /etc; read line; echo got $line');
      const spec = loadBundle(bundle);
      const c = await Container.start({ ...spec, stdio: 'pipe' });
      const result = collect(c, c.exited);
      // While it waits on stdin, the host sees the same process as uid and gid 1000.
      const status = fs.readFileSync(`/proc/${c.pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      expect(status).toMatch(/^Gid:\s+1000\s+1000\s+1000\s+1000$/m);
      expect(fs.readlinkSync(`/proc/${c.pid}/ns/user`)).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
      // The probe a lesson pane shows: the maps, the ids and the root's owner in both views.
      expect(probe(c.pid, ['userns']).userns).toEqual({
        uid_map: '0 1000 1000', gid_map: '0 1000 1000', setgroups: 'allow',
        hostUid: 1000, hostGid: 1000, uid: 0, gid: 0, rootOwnerHost: '1000:1000', rootOwner: '0:0',
      });
      expect(probe(undefined, ['userns']).userns).toMatchObject({ uid_map: '0 0 4294967295', hostUid: 0, uid: 0 });
      // containy's limits hold: pids.max 10 (v1 and v2 name it alike).
      expect(c.cgroup!.paths.some((p) => fs.existsSync(path.join(p, 'pids.max')) && fs.readFileSync(path.join(p, 'pids.max'), 'utf8').trim() === '10')).toBe(true);
      c.write('ok\n');
      c.endInput();
      const r = await result;
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('0');
      expect(lines[1]).toBe('0');
      expect(lines[2].trim().split(/\s+/)).toEqual(['0', '1000', '1000']);
      expect(lines[3]).toBe('containyy');
      // The base (host root's on disk) belongs to root inside, through the idmapped lower layer.
      expect(lines[4]).toMatch(/^d\S+\s+\d+\s+0\s+0\s/);
      expect(lines[5]).toBe('got ok');
    });
  });

  // The bundle runs /bin/bash: a busybox base has none (the host-tools base, which the matrix also runs this on, has).
  const baseHasBash = fs.existsSync(path.join(defaultRootfs(), 'bin', 'bash'));
  if (fixtureHere && !baseHasBash) console.warn(`containy's bundle as it ships: skipped, the base ${defaultRootfs()} has no /bin/bash`);
  it.skipIf(!fixtureHere || !baseHasBash)("runs containy's bundle as it ships, bash reading its commands from stdin", async () => {
    const bundle = path.join(ctx.state, 'shipped');
    fs.mkdirSync(bundle, { mode: 0o711 });
    fs.copyFileSync(FIXTURE, path.join(bundle, 'configy.json'));
    fs.symlinkSync(defaultRootfs(), path.join(bundle, 'debian'));
    const r = await run(['--bundle', bundle], 'id -u\ncat /proc/self/uid_map\nhostname\ncat /proc/self/cgroup\n');
    expect(r.status, r.stderr).toBe(0);
    const [uid, map, hostname, ...cgroups] = r.stdout.trim().split('\n');
    expect([uid, map.trim().split(/\s+/), hostname]).toEqual(['0', ['0', '1000', '1000'], 'containyy']);
    // Its cgroup namespace, made inside the user namespace: its own cgroup is the root of every hierarchy.
    expect(cgroups.length).toBeGreaterThan(0);
    for (const line of cgroups) expect(line).toMatch(/:\/$/);
    // Named containyy: its changes are kept; remove them as `containy-learn rm` does.
    expect((await cli(['rm', 'containyy'], { env: ctx.env })).status).toBe(0);
  });

  it('writes a file into the upper dir owned by the mapped host uid', async () => {
    const r = await run(['--name', 'owned', '--uidmap', '0:100000:65536', '--', 'sh', '-c', 'echo hi > /made-inside; mkdir /d; ls -n /made-inside']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\s0\s+0\s.*\/made-inside/);
    const upper = path.join(ctx.state, 'containers', 'owned', 'upper');
    for (const file of ['made-inside', 'd']) {
      const st = fs.statSync(path.join(upper, file));
      expect([st.uid, st.gid]).toEqual([100000, 100000]);
    }
    expect((await cli(['rm', 'owned'], { env: ctx.env })).status).toBe(0);
  });

  it('hands the command no fd of the host: the package directory the stage loaded through is closed, and the binds read', async () => {
    // The stage loads through the helper's open package directory, and the
    // binds come through the launcher; none of it may stay open into the
    // container: only stdio, and ls's own directory fd, may be open.
    const r = await run(['--rm', '--userns', 'auto', '-v', `${PACKAGE_ROOT}/cgroups_example:/demo:ro`, '--', 'sh', '-c', 'ls /demo >/dev/null && exec ls -l /proc/self/fd']);
    expect(r.status, r.stderr).toBe(0);
    const fds = r.stdout.split('\n').map((l) => /\s(\d+) -> (.*)$/.exec(l)).filter((m) => m !== null).map((m) => [Number(m[1]), m[2]]);
    // coreutils' ls still holds its own directory fd while it prints; busybox's has closed it.
    const others = fds.filter(([, target]) => !/^\/proc\/\d+\/fd$/.test(String(target)));
    expect(others.map(([fd]) => fd)).toEqual([0, 1, 2]);
  });

  it('--user runs the command as that uid, without capabilities, with or without a user namespace', async () => {
    for (const extra of [[], ['--userns', 'auto']]) {
      const r = await run(['--rm', ...extra, '--user', '1000:1000', '--', 'sh', '-c', 'id -u; id -g; grep -E "^Cap(Eff|Prm)" /proc/self/status']);
      expect(r.status, r.stderr).toBe(0);
      const [uid, gid, ...caps] = r.stdout.trim().split('\n');
      expect([uid, gid]).toEqual(['1000', '1000']);
      expect(caps.map((l) => l.split(/\s+/)[1])).toEqual(['0000000000000000', '0000000000000000']);
    }
  });

  it('exec joins the user namespace first', async () => {
    const started = cli(['run', '--rm', '--name', 'joined', '--uidmap', '0:200000:65536', '--', 'sleep', '30'], { env: ctx.env, timeoutMs: 20_000 });
    const record = path.join(ctx.state, 'run', 'joined.json');
    const deadline = Date.now() + 10_000;
    let pid: number | undefined;
    while (!pid && Date.now() < deadline) {
      try {
        const r = JSON.parse(fs.readFileSync(record, 'utf8')) as { pid?: number };
        if (r.pid && fs.readFileSync(`/proc/${r.pid}/cmdline`, 'utf8').startsWith('sleep')) pid = r.pid;
      } catch {
        // not yet
      }
      await new Promise((res) => setTimeout(res, 25));
    }
    expect(pid).toBeDefined();
    const e = await cli(['exec', 'joined', '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map; echo $$'], { env: ctx.env });
    process.kill(pid!, 'SIGKILL');
    await started;
    expect(e.status, e.stderr).toBe(0);
    const [uid, map] = e.stdout.trim().split('\n');
    expect(uid).toBe('0');
    expect(map.trim().split(/\s+/)).toEqual(['0', '200000', '65536']);
  });

  it.each([
    ['overlapping ranges', ['--uidmap', '0:100000:10', '--uidmap', '5:300000:10'], /--uidmap\[1\]: container ids 5-14 overlap/],
    ['size 0', ['--uidmap', '0:100000:0'], /--uidmap: size 0 maps nothing/],
    ['a range past 2^32', ['--uidmap', '0:4294967000:1000'], /--uidmap: hostID 4294967000 \+ size 1000 runs past 4294967294/],
    ['341 lines', Array.from({ length: 341 }, (_, i) => ['--uidmap', `${i}:${100000 + i}:1`]).flat(), /--uidmap: 341 ranges, and the kernel takes at most 340/],
    ['no container 0', ['--uidmap', '1:100000:65536'], /--uidmap: container uid 0 is not mapped/],
    ['an unmapped --user', ['--uidmap', '0:100000:100', '--user', '5000'], /--user: uid 5000 is not mapped by --uidmap/],
    ['an unknown --userns', ['--userns', 'sometimes'], /--userns sometimes: expected host or auto/],
  ])('refuses %s with exit 125, naming the flag, creating nothing', async (_label, args, message) => {
    const r = await run(['--name', 'refused', ...(args as string[]), '--', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.existsSync(path.join(ctx.state, 'containers', 'refused'))).toBe(false);
  });

  it('refuses a state directory root inside cannot search, naming it and the fix, and leaves it as it was', async () => {
    const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-closed-state-')); // 0700, host root's
    try {
      const r = await cli(['run', '--rm', '--userns', 'auto', '--', 'true'], { env: { ...ctx.env, CONTAINY_STATE_DIR: closed } });
      expect(r.status).toBe(125);
      expect(r.stderr).toContain(`userns: ${closed} is closed to root inside the container`);
      expect(r.stderr).toContain(`chmod o+x ${closed}`);
      // The refusal comes before the stage: no run record and no container is left.
      expect(fs.existsSync(path.join(closed, 'run')) ? fs.readdirSync(path.join(closed, 'run')) : []).toEqual([]);
    } finally {
      fs.rmSync(closed, { recursive: true, force: true });
    }
  });

  it('refuses a bad userns section of a bundle, naming the field', async () => {
    const dir = path.join(os.tmpdir(), `containy-userns-bad-${process.pid}`);
    fs.mkdirSync(dir);
    try {
      fs.writeFileSync(path.join(dir, 'configy.json'), JSON.stringify({
        cmd: { command: '/bin/true' },
        isolation: { namespaces: ['user', 'pid', 'mount'] },
        userns: { uidMappings: { containerID: 0, hostID: 1000, size: 0 }, gidMappings: { containerID: 0, hostID: 1000, size: 1 } },
      }));
      const r = await run(['--bundle', dir]);
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/configy\.json: userns\.uidMappings: size 0 maps nothing/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
