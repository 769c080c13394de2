// Real builds and imports into temp dirs. What runs inside the built tree is run
// with the host's `chroot` command here (the test's own tool, not the runtime's),
// and the lessons' own commands in a real container on each base (`run --rootfs`).
//
// Both bases are built: the host-tools one always, the busybox one from
// CONTAINY_TEST_BUSYBOX=/path/to/busybox (a static busybox; CI unpacks one
// without installing it: `apt-get download busybox-static && dpkg-deb -x
// busybox-static_*.deb /tmp/bb`, then /tmp/bb/bin/busybox), else from a static
// /bin/busybox or /usr/bin/busybox. With neither, only the busybox-base tests are
// skipped, and say so. Each base is checked against the commands the lessons run
// in it (test/unit/lesson-commands.ts reads them from lessons/*.md).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLessons } from '../../src/lessons/loader.js';
import { UserError } from '../../src/runtime/errors.js';
import { CONTAINER_PATH, findHostProgram, readElf } from '../../src/rootfs/rootfs-copy.js';
import { hostPathInRoot } from '../../src/rootfs/root-paths.js';
import { readMarker } from '../../src/rootfs/rootfs-marker.js';
import {
  type BuildProgress,
  type BuildResult,
  WANTED_COMMANDS,
  buildBaseRootfs,
  copyWithLibraries,
  findStaticBusybox,
  isExecutableInRoot,
  resolveInRoot,
  rootfsStatus,
  sharedLibrariesOf,
} from '../../src/rootfs/rootfs.js';
import { cli, hostState, tempStateDir } from '../helpers/host.js';
import { commandsRunInBase, describeMissing } from '../unit/lesson-commands.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('rootfs integration: running programs in a chroot or a container, building with the CLI, and importing owners and device files, need root: those tests are skipped');
const TEST_BUSYBOX = process.env.CONTAINY_TEST_BUSYBOX || findStaticBusybox();
if (!TEST_BUSYBOX) {
  console.warn('rootfs integration: no static busybox (set CONTAINY_TEST_BUSYBOX=/path/to/busybox, or install busybox-static): the busybox-base tests are skipped');
}

const CONTAINER_ENV = { PATH: CONTAINER_PATH.join(':') };
const mountinfo = () => fs.readFileSync('/proc/self/mountinfo', 'utf8');

/** Runs a shell command in the tree with the host's chroot; returns status and output. */
function inChroot(dir: string, ...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('chroot', [dir, ...argv], { encoding: 'utf8', env: CONTAINER_ENV, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Every library the program at `containerPath` needs is inside `dir` at the path
 * ldd gives, the loader included; or the program is static. Returns what was checked.
 */
function expectRunnableInRoot(dir: string, containerPath: string): string[] {
  expect(isExecutableInRoot(dir, containerPath), `${containerPath} executable`).toBe(true);
  const file = hostPathInRoot(dir, containerPath);
  const elf = readElf(file);
  if (!elf) {
    // A script: its interpreter must be there.
    const interp = fs.readFileSync(file, 'latin1').slice(2).split('\n')[0].trim().split(/\s+/)[0];
    return expectRunnableInRoot(dir, interp);
  }
  if (elf.interpreter === null) return [];
  const libs = sharedLibrariesOf(file);
  expect(libs).toContain(elf.interpreter);
  for (const lib of libs) expect(resolveInRoot(dir, lib).exists, `${containerPath} needs ${lib}`).toBe(true);
  return libs;
}

/** Where `name` is on the container PATH inside `dir`, as `which` would say. */
function whichInRoot(dir: string, name: string): string {
  const found = CONTAINER_PATH.map((d) => `${d}/${name}`).find((p) => resolveInRoot(dir, p).exists);
  expect(found, `${name} on the PATH`).toBeDefined();
  return found!;
}

/** Every program the lessons run in the base is in `dir`, on its PATH (or at the path given), with its libraries. */
function expectLessonCommandsIn(dir: string): void {
  const commands = commandsRunInBase(loadLessons());
  const onPath = new Set(rootfsStatus(dir).commands);
  const present = (program: string) => (program.includes('/') ? isExecutableInRoot(dir, program) : onPath.has(program));
  const missing = commands.filter((c) => !present(c.program));
  expect(missing, `missing from ${dir}:\n${describeMissing(missing)}`).toEqual([]);
  for (const program of new Set(commands.map((c) => c.program))) {
    expectRunnableInRoot(dir, program.includes('/') ? program : whichInRoot(dir, program));
  }
}

/** The lessons' kind of shell line, in a real container on the base at `dir`; the host is left as it was. */
async function runOnBase(dir: string, script: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const state = tempStateDir('rootfs');
  const before = hostState();
  try {
    return await cli(['run', '--rm', '--rootfs', dir, '--', 'sh', '-c', script], { env: { CONTAINY_STATE_DIR: state } });
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
    expect(hostState()).toEqual(before);
  }
}

// What lessons 0-4 read, in the wording every userland prints alike; `; true` keeps sh from exec'ing the last command.
const LESSON_LINE = 'ps -o pid,user,args; echo abc | sed s/b/X/; date +%Y; [ -e /dev/null ] && test -d /sys/class/net && echo both-there; true';

function expectLessonLineRan(r: { status: number; stdout: string; stderr: string }): void {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^\s*PID\s+USER\s+(COMMAND|ARGS)/m);
  expect(r.stdout).toMatch(/^\s*1\s+root\s+sh -c ps -o pid,user,args/m);
  expect(r.stdout).toMatch(/^aXc$/m);
  expect(r.stdout).toMatch(new RegExp(`^${new Date().getUTCFullYear()}$`, 'm'));
  expect(r.stdout).toMatch(/^both-there$/m);
}

function siblings(dir: string, base: string): string[] {
  return fs.readdirSync(dir).filter((n) => n === base || n.startsWith(`${base}.`));
}

describe('buildBaseRootfs', () => {
  let dir: string;
  let target: string;
  let first: BuildResult;
  const progress: BuildProgress[] = [];
  let mountsBefore: string;

  beforeAll(async () => {
    mountsBefore = mountinfo();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-rootfs-test-'));
    target = path.join(dir, 'base');
    const started = performance.now();
    first = await buildBaseRootfs({ target, onProgress: (p) => progress.push(p) });
    const ms = Math.round(performance.now() - started);
    const python = readMarker(target)?.source.python as { libraryDirs: string[] } | undefined;
    const stdlibBytes = (python?.libraryDirs ?? []).reduce(
      (sum, d) => sum + Number(execFileSync('du', ['-sb', hostPathInRoot(target, d)], { encoding: 'utf8' }).split('\t')[0]),
      0,
    );
    console.log(
      `rootfs build: ${ms} ms, ${(first.sizeBytes / 1e6).toFixed(1)} MB in ${first.files} entries, ${first.commands.length} commands, ` +
        `python ${first.python} with ${(stdlibBytes / 1e6).toFixed(1)} MB of stdlib`,
    );
  }, 120_000);

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    expect(mountinfo()).toBe(mountsBefore);
  });

  it('builds busybox when a static one is on the host, else the host tools, reporting each step from 0 to its total', () => {
    expect(first.built).toBe(true);
    expect(first.target).toBe(target);
    expect(first.tools).toBe(findStaticBusybox() ? 'busybox' : 'host');
    expect(readMarker(target)?.tools).toBe(first.tools);
    const steps = [...new Set(progress.map((p) => p.step))];
    expect(steps[0]).toBe('skeleton');
    expect(steps).toContain(first.tools === 'busybox' ? 'busybox' : 'host tools');
    expect(steps).toContain('libraries');
    expect(steps.at(-1)).toBe('finishing');
    if (first.python) expect(steps).toContain('python stdlib');
    for (const step of steps) {
      const last = progress.filter((p) => p.step === step).at(-1)!;
      expect(last.done, step).toBe(last.total);
    }
    expect(rootfsStatus(target)).toMatchObject({ exists: true, complete: true, kind: 'built', tools: first.tools });
    expect(siblings(dir, 'base')).toEqual(['base']); // no partial left beside it
  });

  it('has every wanted command, executable, static or with its libraries in place', () => {
    expect(first.missingCommands).toEqual([]);
    for (const name of WANTED_COMMANDS) {
      expect(first.commands, name).toContain(name);
      expectRunnableInRoot(target, whichInRoot(target, name));
    }
    const marker = readMarker(target)!;
    if (marker.source.busybox) expect(readElf(hostPathInRoot(target, '/bin/busybox'))?.interpreter).toBeNull();
    expect(rootfsStatus(target).commands).toEqual(first.commands);
  });

  it('has the skeleton: mount points, /tmp 1777, root and an os-release saying what it is', () => {
    for (const d of ['proc', 'sys', 'dev', 'tmp', 'root', 'etc', 'var', 'run', 'cgroups_example']) {
      expect(fs.statSync(hostPathInRoot(target, `/${d}`)).isDirectory(), d).toBe(true);
    }
    expect(fs.readdirSync(path.join(target, 'cgroups_example'))).toEqual([]);
    expect(fs.statSync(path.join(target, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(fs.readFileSync(path.join(target, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/);
    expect(fs.readFileSync(path.join(target, 'etc/group'), 'utf8')).toMatch(/^root:x:0:/);
    expect(fs.readFileSync(path.join(target, 'etc/os-release'), 'utf8')).toMatch(/^ID=containy-learn$/m);
    expect(fs.readFileSync(path.join(target, 'etc/hostname'), 'utf8').trim()).not.toBe('');
  });

  it('has python3 on the container PATH: the real interpreter, its libraries and a trimmed stdlib', () => {
    expect(first.python).not.toBeNull();
    expect(first.commands).toContain('python3');
    expect(resolveInRoot(target, '/usr/bin/python3').path).toBe(first.python);
    expectRunnableInRoot(target, '/usr/bin/python3');
    const { source } = readMarker(target)!;
    const python = source.python as { libraryDirs: string[]; version: string };
    const stdlib = python.libraryDirs.find((d) => fs.existsSync(path.join(d, 'os.py')))!;
    for (const f of ['os.py', 'encodings/__init__.py', 'multiprocessing/__init__.py', 'subprocess.py']) {
      expect(fs.existsSync(hostPathInRoot(target, `${stdlib}/${f}`)), f).toBe(true);
    }
    for (const gone of ['test', 'idlelib', 'tkinter', 'ensurepip', 'lib2to3', 'turtledemo']) {
      expect(fs.existsSync(hostPathInRoot(target, `${stdlib}/${gone}`)), gone).toBe(false);
    }
    const sitePackages = hostPathInRoot(target, `${stdlib}/site-packages`);
    if (fs.existsSync(sitePackages)) expect(fs.readdirSync(sitePackages)).toEqual([]);
    // The C extension modules a demo may import, with their libraries.
    const dynload = python.libraryDirs.map((d) => hostPathInRoot(target, d)).flatMap((d) => [d, path.join(d, 'lib-dynload')]);
    const modules = dynload.filter((d) => fs.existsSync(d)).flatMap((d) => fs.readdirSync(d).filter((n) => n.endsWith('.so')).map((n) => path.join(d, n)));
    expect(modules.length).toBeGreaterThan(0);
    for (const mod of modules) expectRunnableLibrary(target, mod);
  });

  it.skipIf(!root)('runs its shell and python3 inside the tree, and python writes no bytecode there', () => {
    const stamp = Date.now() - 1000;
    const shell = inChroot(target, '/bin/sh', '-c', 'ls / && id -u && echo hi | tr a-z A-Z && which python3');
    expect(shell.stderr).toBe('');
    expect(shell.stdout).toMatch(/^cgroups_example$/m);
    expect(shell.stdout).toMatch(/^0$/m);
    expect(shell.stdout).toMatch(/^HI$/m);
    const py = inChroot(target, 'python3', '-c', 'import os, sys, json, subprocess, multiprocessing; b = bytearray(50 << 20); print(sys.prefix, len(b))');
    expect(py.stderr).toBe('');
    expect(py.stdout.trim()).toMatch(/ 52428800$/);
    const written = execFileSync('find', [target, '-newermt', `@${stamp / 1000}`, '-name', '*.pyc'], { encoding: 'utf8' });
    expect(written).toBe('');
  });

  it('does nothing on a second build, fast', async () => {
    const before = readMarker(target)!.createdAt;
    const started = performance.now();
    const again = await buildBaseRootfs({ target });
    const ms = performance.now() - started;
    console.log(`second build: ${ms.toFixed(1)} ms`);
    expect(again).toEqual({ ...first, built: false });
    expect(ms).toBeLessThan(500);
    expect(readMarker(target)!.createdAt).toBe(before);
  });

  it('rebuilds with force, replacing the tree and leaving nothing beside it', async () => {
    fs.writeFileSync(path.join(target, 'root/scribble'), 'made after the build');
    const again = await buildBaseRootfs({ target, force: true, python: false });
    expect(again.built).toBe(true);
    expect(again.python).toBeNull();
    expect(fs.existsSync(path.join(target, 'root/scribble'))).toBe(false);
    expect(siblings(dir, 'base')).toEqual(['base']);
    first = await buildBaseRootfs({ target, force: true }); // back to the full tree for the tests after this one
  }, 60_000);

  it('stops an interrupted build with nothing left: no target, no partial dir', async () => {
    const interrupted = path.join(dir, 'interrupted');
    const stop = new Error('interrupted by the test');
    let calls = 0;
    await expect(
      buildBaseRootfs({
        target: interrupted,
        onProgress: (p) => {
          calls++;
          if (p.step === (first.python ? 'python stdlib' : 'libraries') && p.done > 0) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    expect(calls).toBeGreaterThan(1);
    expect(siblings(dir, 'interrupted')).toEqual([]);
  });

  it('refuses to build over a directory that is not a rootfs, and leaves it alone', async () => {
    const mine = path.join(dir, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'thesis.txt'), 'precious');
    await expect(buildBaseRootfs({ target: mine })).rejects.toThrow(/exists and is not a containy rootfs/);
    await expect(buildBaseRootfs({ target: mine })).rejects.toBeInstanceOf(UserError);
    expect(fs.readdirSync(mine)).toEqual(['thesis.txt']);
    expect(siblings(dir, 'mine')).toEqual(['mine']);
  });

  it('removes the partial dir of a killed build, and shares one build between concurrent callers', async () => {
    const other = path.join(dir, 'other');
    const stale = `${other}.partial-${2 ** 22 + 1}`; // no process has that pid
    fs.mkdirSync(path.join(stale, 'bin'), { recursive: true });
    const a = buildBaseRootfs({ target: other, python: false });
    const b = buildBaseRootfs({ target: other, python: false });
    expect(b).toBe(a);
    expect((await a).built).toBe(true);
    expect(siblings(dir, 'other')).toEqual(['other']);
  });
});

/** An extension module's libraries are in the tree (ldd from the host names them). */
function expectRunnableLibrary(dir: string, hostPathOfModule: string): void {
  for (const lib of sharedLibrariesOf(hostPathOfModule)) {
    expect(resolveInRoot(dir, lib).exists, `${path.basename(hostPathOfModule)} needs ${lib}`).toBe(true);
  }
}

describe('the host-tools base: bash and the host tools with their ldd libraries', () => {
  let dir: string;
  let target: string;
  let result: BuildResult;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-rootfs-test-'));
    target = path.join(dir, 'copied');
    const started = performance.now();
    result = await buildBaseRootfs({ target, tools: 'host' });
    const ms = Math.round(performance.now() - started);
    const python = readMarker(target)?.source.python as { libraryDirs: string[] } | undefined;
    const pythonBytes = (python?.libraryDirs ?? []).reduce(
      (sum, d) => sum + Number(execFileSync('du', ['-sb', hostPathInRoot(target, d)], { encoding: 'utf8' }).split('\t')[0]),
      0,
    );
    console.log(
      `host-tools base: ${ms} ms, ${(result.sizeBytes / 1e6).toFixed(1)} MB (${((result.sizeBytes - pythonBytes) / 1e6).toFixed(1)} MB without the python stdlib), ` +
        `${result.commands.length} commands, missing: ${result.missingCommands.join(' ') || 'none'}`,
    );
  }, 120_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('copies bash and each wanted command the host has, each with its libraries', () => {
    expect(result.tools).toBe('host');
    expect(rootfsStatus(target)).toMatchObject({ tools: 'host', base: 'host tools' });
    const hostHas = WANTED_COMMANDS.filter((c) => findHostProgram(c));
    expect(result.missingCommands.filter((c) => c !== 'python3')).toEqual(WANTED_COMMANDS.filter((c) => !findHostProgram(c)));
    expect(hostHas.length).toBeGreaterThan(20);
    expect(result.commands).toContain('bash');
    for (const name of ['bash', ...hostHas]) expectRunnableInRoot(target, findHostProgram(name)!);
    expect(fs.existsSync(path.join(target, 'usr/bin/busybox'))).toBe(false);
  });

  it('holds every command a lesson runs in the base', () => {
    expectLessonCommandsIn(target);
  });

  it.skipIf(!root)('runs the lessons\' ps, sed, date and [ in a container on it', async () => {
    expectLessonLineRan(await runOnBase(target, LESSON_LINE));
  }, 60_000);

  it.skipIf(!root)('runs them inside the tree', () => {
    const r = inChroot(target, '/bin/bash', '-c', 'ls -a /etc | sort | grep -v "^\\.*$"; echo "bash $BASH_VERSION" | cut -d. -f1 | tr a-z A-Z');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const etc = fs.readdirSync(path.join(target, 'etc')).sort();
    expect(r.stdout).toBe([...etc, `BASH ${process.env.BASH_VERSION?.split('.')[0] ?? execFileSync('bash', ['-c', 'echo ${BASH_VERSION%%.*}'], { encoding: 'utf8' }).trim()}`, ''].join('\n'));
  });
});

describe.skipIf(!TEST_BUSYBOX || !root)('the busybox base, built by the CLI from --busybox FILE', () => {
  let dir: string;
  let target: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-rootfs-test-'));
    target = path.join(dir, 'bb');
    env = { CONTAINY_ROOTFS: target };
    const started = performance.now();
    const r = await cli(['rootfs', 'build', '--busybox', TEST_BUSYBOX!], { env });
    expect(r.status, r.stderr).toBe(0);
    console.log(`busybox base from ${TEST_BUSYBOX}: ${Math.round(performance.now() - started)} ms by the CLI; ${r.stderr.trim().split('\n').at(-1)}`);
  }, 120_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is a busybox base, from that file, and `rootfs status` says so', async () => {
    const marker = readMarker(target)!;
    expect(marker.tools).toBe('busybox');
    expect((marker.source.busybox as { from: string }).from).toBe(path.resolve(TEST_BUSYBOX!));
    expect(readElf(hostPathInRoot(target, '/bin/busybox'))?.interpreter).toBeNull();
    const status = await cli(['rootfs', 'status'], { env });
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${target}: complete, busybox, \\d+ commands$`, 'm'));
  });

  it('holds every command a lesson runs in the base', () => {
    expectLessonCommandsIn(target);
  });

  it('runs the lessons\' ps, sed, date and [ in a container on it', async () => {
    expectLessonLineRan(await runOnBase(target, LESSON_LINE));
  }, 60_000);

  it('becomes a host-tools base when asked by name, once, and busybox again', async () => {
    const host = await cli(['rootfs', 'build', '--tools', 'host'], { env });
    expect(host.status, host.stderr).toBe(0);
    expect(rootfsStatus(target)).toMatchObject({ tools: 'host', base: 'host tools' });
    const again = await cli(['rootfs', 'build', '--tools', 'host'], { env });
    expect(again.stderr).toMatch(/is already complete \(host tools; use --force to rebuild\)/);
    const back = await cli(['rootfs', 'build', '--busybox', TEST_BUSYBOX!], { env });
    expect(back.status, back.stderr).toBe(0);
    expect(rootfsStatus(target)).toMatchObject({ tools: 'busybox', base: 'busybox' });
    expect(siblings(dir, 'bb')).toEqual(['bb']);
  }, 120_000);
});

describe.skipIf(!root)('rootfs build refuses bad input with 125 and makes nothing', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-rootfs-test-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a non-static --busybox, an unknown --tools, and --tools busybox with no busybox', async () => {
    const env = { CONTAINY_ROOTFS: path.join(dir, 'base') };
    const dynamic = await cli(['rootfs', 'build', '--busybox', process.execPath], { env });
    expect(dynamic.status).toBe(125);
    expect(dynamic.stderr).toMatch(/^containy-learn: rootfs build: --busybox \S+ is not static \(it needs \S+\): give the static busybox of busybox-static\n$/);
    const tools = await cli(['rootfs', 'build', '--tools', 'alpine'], { env });
    expect(tools.status).toBe(125);
    expect(tools.stderr).toBe("containy-learn: rootfs build: --tools must be busybox or host, not 'alpine'\n");
    if (!findStaticBusybox()) {
      const none = await cli(['rootfs', 'build', '--tools', 'busybox'], { env });
      expect(none.status).toBe(125);
      expect(none.stderr).toMatch(/--tools busybox found no static busybox at .*: install busybox-static or give --busybox FILE\n$/);
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('lesson 1 helpers: a program copied without, then with, its libraries', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-lesson1-test-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('copies the program alone, then its libraries and loader at their host paths', async () => {
    const cocacola = path.join(dir, 'cocacola');
    const alone = await copyWithLibraries('ls', cocacola, { withLibraries: false });
    expect(alone.copied.map((p) => resolveInRoot(cocacola, p).path)).toEqual([alone.program]);
    expect(alone.libraries).toEqual(sharedLibrariesOf('ls'));
    for (const lib of alone.libraries) expect(resolveInRoot(cocacola, lib).exists).toBe(false);
    if (root) {
      // The lesson's moment: the program is there, the kernel cannot load it.
      const r = inChroot(cocacola, alone.program);
      expect(r.status).toBe(127);
      expect(r.stderr).toMatch(/No such file or directory/);
    }
    const withLibs = await copyWithLibraries('ls', cocacola, { withLibraries: true });
    expect(withLibs.copied.length).toBeGreaterThanOrEqual(withLibs.libraries.length);
    for (const lib of withLibs.libraries) expect(resolveInRoot(cocacola, lib).exists, lib).toBe(true);
    if (root) {
      const r = inChroot(cocacola, alone.program, '/');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(fs.readdirSync(cocacola)));
    }
  });

  it('copies a script with its interpreter', async () => {
    const script = path.join(dir, 'hello.sh');
    fs.writeFileSync(script, '#!/bin/sh\necho hello from a script\n', { mode: 0o755 });
    const inside = path.join(dir, 'scripted');
    await copyWithLibraries(script, inside, { withLibraries: true });
    expectRunnableInRoot(inside, script);
    if (root) expect(inChroot(inside, script).stdout).toBe('hello from a script\n');
  });
});
