// The pieces of the rootfs builder that need no build: ldd parsing, ELF reading,
// path resolution inside a root, stdlib filtering, archive layouts, status; the
// build options refused before anything is made; and the lessons' commands, each
// of which the host-tools base must copy (WANTED_COMMANDS).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/runtime/errors.js';
import {
  findHostProgram,
  forEachLimit,
  parseLddOutput,
  readElf,
  scriptInterpreter,
} from '../../src/rootfs/rootfs-copy.js';
import { resolveInRoot } from '../../src/rootfs/root-paths.js';
import { checkTarget, removeStalePartials } from '../../src/rootfs/rootfs-marker.js';
import { keepStdlibEntry } from '../../src/rootfs/rootfs-python.js';
import { loadLessons } from '../../src/lessons/loader.js';
import {
  WANTED_COMMANDS,
  buildBaseRootfs,
  commandsInRoot,
  findStaticBusybox,
  missingRootfsMessage,
  rootfsStatus,
  sharedLibrariesOf,
} from '../../src/rootfs/rootfs.js';
import { commandsRunInBase, describeMissing, programsOfCommand, programsOfScript } from './lesson-commands.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-rootfs-unit-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('parseLddOutput', () => {
  it('reads glibc ldd: libraries and the loader, not the vdso', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd4f3f2000)',
      '\tlibtinfo.so.6 => /lib/x86_64-linux-gnu/libtinfo.so.6 (0x00007f0a1c1d0000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0a1bfef000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f0a1c35c000)',
    ].join('\n');
    expect(parseLddOutput(out)).toEqual({
      libraries: ['/lib/x86_64-linux-gnu/libtinfo.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'],
      missing: [],
      notDynamic: false,
    });
  });

  it('reports libraries the host lacks, and static programs', () => {
    expect(parseLddOutput('\tlibgone.so.1 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n').missing).toEqual(['libgone.so.1']);
    expect(parseLddOutput('\tnot a dynamic executable\n')).toEqual({ libraries: [], missing: [], notDynamic: true });
    expect(parseLddOutput('\tstatically linked\n').notDynamic).toBe(true);
  });

  it('reads musl ldd, whose loader is also libc', () => {
    const out = '\t/lib/ld-musl-x86_64.so.1 (0x7f00)\n\tlibc.musl-x86_64.so.1 => /lib/ld-musl-x86_64.so.1 (0x7f00)\n';
    expect(parseLddOutput(out).libraries).toEqual(['/lib/ld-musl-x86_64.so.1']);
  });
});

describe('ELF and ldd on real host files', () => {
  it('finds the dynamic loader of node, and ldd lists that loader too', () => {
    const elf = readElf(process.execPath);
    expect(elf?.interpreter).toMatch(/^\/.*ld-/);
    expect(sharedLibrariesOf(process.execPath)).toContain(elf!.interpreter);
    for (const lib of sharedLibrariesOf(process.execPath)) expect(fs.existsSync(lib), lib).toBe(true);
  });

  it('says a script is not ELF and reads its #! line', () => {
    const script = path.join(tmp, 'hello');
    fs.writeFileSync(script, '#!/bin/sh -e\necho hi\n', { mode: 0o755 });
    expect(readElf(script)).toBeNull();
    expect(scriptInterpreter(script)).toBe('/bin/sh');
    expect(sharedLibrariesOf(script)).toEqual([]); // ldd: not a dynamic executable
  });

  it('agrees with readelf on whether a program has an interpreter', () => {
    for (const program of [process.execPath, '/bin/busybox', findHostProgram('ls')]) {
      if (!program || !fs.existsSync(program)) continue;
      const headers = execFileSync('readelf', ['-lW', program], { encoding: 'utf8' });
      const interp = /Requesting program interpreter: ([^\]]+)\]/.exec(headers)?.[1] ?? null;
      expect(readElf(program)?.interpreter, program).toBe(interp);
    }
  });

  it('names a missing program in a UserError', () => {
    expect(() => sharedLibrariesOf('/nonexistent/containy-prog')).toThrow(UserError);
    expect(() => sharedLibrariesOf('containy-no-such-command')).toThrow(/not on the host/);
  });
});

describe('resolveInRoot', () => {
  it('follows symlinks inside the root, never out to the host', () => {
    fs.mkdirSync(path.join(tmp, 'usr/bin'), { recursive: true });
    fs.symlinkSync('usr/bin', path.join(tmp, 'bin'));
    fs.symlinkSync('/etc', path.join(tmp, 'hostetc')); // absolute: the root's /etc, which does not exist
    fs.writeFileSync(path.join(tmp, 'usr/bin/tool'), '');
    fs.symlinkSync('/bin/tool', path.join(tmp, 'usr/bin/alias'));
    expect(resolveInRoot(tmp, '/bin/tool')).toEqual({ path: '/usr/bin/tool', exists: true });
    expect(resolveInRoot(tmp, '/usr/bin/alias')).toEqual({ path: '/usr/bin/tool', exists: true });
    expect(resolveInRoot(tmp, '/usr/bin/alias', false)).toEqual({ path: '/usr/bin/alias', exists: true });
    expect(resolveInRoot(tmp, '/hostetc/passwd')).toEqual({ path: '/etc/passwd', exists: false });
    expect(resolveInRoot(tmp, '/../../usr/bin/tool').path).toBe('/usr/bin/tool');
  });

  it('stops on a symlink loop', () => {
    fs.symlinkSync('b', path.join(tmp, 'a'));
    fs.symlinkSync('a', path.join(tmp, 'b'));
    expect(resolveInRoot(tmp, '/a').exists).toBe(false);
  });

  it('lists the programs on the container PATH, through symlinks', () => {
    fs.mkdirSync(path.join(tmp, 'usr/bin'), { recursive: true });
    fs.symlinkSync('usr/bin', path.join(tmp, 'bin'));
    fs.writeFileSync(path.join(tmp, 'usr/bin/busybox'), '', { mode: 0o755 });
    fs.writeFileSync(path.join(tmp, 'usr/bin/notes.txt'), '', { mode: 0o644 });
    fs.symlinkSync('/bin/busybox', path.join(tmp, 'usr/bin/ls'));
    fs.symlinkSync('/bin/missing', path.join(tmp, 'usr/bin/broken'));
    expect(commandsInRoot(tmp)).toEqual(['busybox', 'ls']);
  });
});

describe('stdlib filter', () => {
  it('drops tests, GUI, build files, third-party packages and optimised .pyc', () => {
    expect(keepStdlibEntry('os.py', false)).toBe(true);
    expect(keepStdlibEntry('__pycache__/os.cpython-311.pyc', false)).toBe(true);
    expect(keepStdlibEntry('__pycache__/os.cpython-311.opt-1.pyc', false)).toBe(false);
    expect(keepStdlibEntry('json/__pycache__', true)).toBe(true);
    for (const dir of ['test', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'lib2to3', 'unittest/test', 'config-3.11-x86_64-linux-gnu']) {
      expect(keepStdlibEntry(dir, true), dir).toBe(false);
    }
    expect(keepStdlibEntry('site-packages', true)).toBe(true); // kept empty
    expect(keepStdlibEntry('site-packages/numpy', true)).toBe(false);
    expect(keepStdlibEntry('site-packages/six.py', false)).toBe(false);
    expect(keepStdlibEntry('lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so', false)).toBe(true);
    expect(keepStdlibEntry('lib-dynload/_testcapi.cpython-311-x86_64-linux-gnu.so', false)).toBe(false);
    expect(keepStdlibEntry('lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so', false)).toBe(false);
  });
});

describe('status and targets', () => {
  it('reports a missing rootfs and says how to build it', () => {
    const target = path.join(tmp, 'base');
    expect(rootfsStatus(target)).toEqual({ exists: false, complete: false, kind: 'unknown', version: null, tools: null, base: null, commands: [] });
    expect(missingRootfsMessage(target)).toBe(`the base rootfs is missing at ${target}: run \`sudo containy-learn rootfs build\``);
  });

  it('calls a directory without our marker unknown and incomplete', () => {
    fs.mkdirSync(path.join(tmp, 'bin'));
    fs.writeFileSync(path.join(tmp, 'bin/sh'), '', { mode: 0o755 });
    expect(rootfsStatus(tmp)).toEqual({ exists: true, complete: false, kind: 'unknown', version: null, tools: null, base: null, commands: ['sh'] });
  });

  it('says the base kind from the marker, also for a version 1 marker without `tools`', () => {
    const write = (marker: object) => {
      fs.mkdirSync(path.join(tmp, 'etc'), { recursive: true });
      fs.writeFileSync(path.join(tmp, 'etc/containy-rootfs.json'), JSON.stringify({ createdAt: '', files: 0, sizeBytes: 0, commands: [], python: null, ...marker }));
    };
    write({ kind: 'built', tools: 'host', version: 2, source: { copied: {} } });
    expect(rootfsStatus(tmp)).toMatchObject({ complete: true, tools: 'host', base: 'host tools' });
    write({ kind: 'built', version: 1, source: { busybox: { applets: 270 } } });
    expect(rootfsStatus(tmp)).toMatchObject({ tools: 'busybox', base: 'busybox' });
    write({ kind: 'built', version: 1, source: { copied: {} } });
    expect(rootfsStatus(tmp)).toMatchObject({ tools: 'host', base: 'host tools' });
    write({ kind: 'imported', tools: null, version: 2, source: {} });
    expect(rootfsStatus(tmp)).toMatchObject({ tools: null, base: 'imported' });
  });

  it('refuses / as a target', () => {
    expect(() => checkTarget('/', 'rootfs build')).toThrow(UserError);
    expect(() => checkTarget('', 'rootfs build')).toThrow(/target directory is empty/);
  });

  it('removes partial dirs of dead processes only', async () => {
    const target = path.join(tmp, 'base');
    const deadPid = 2 ** 22 + 1; // above the largest pid_max the kernel allows: never a live process
    const dead = `${target}.partial-${deadPid}`;
    const alive = `${target}.partial-1`; // init is always alive
    const mine = `${target}.partial-${process.pid}`;
    for (const d of [dead, alive, mine, `${target}.old-${deadPid}`]) fs.mkdirSync(d);
    expect((await removeStalePartials(target)).sort()).toEqual([`${target}.old-${deadPid}`, dead].sort());
    expect(fs.existsSync(alive) && fs.existsSync(mine)).toBe(true);
  });
});

describe('forEachLimit', () => {
  it('rejects only after the running items have settled', async () => {
    const finished: number[] = [];
    const run = forEachLimit([0, 1, 2, 3, 4, 5], 3, async (i) => {
      await new Promise((r) => setTimeout(r, i === 0 ? 1 : 30));
      if (i === 0) throw new Error('first fails');
      finished.push(i);
    });
    await expect(run).rejects.toThrow('first fails');
    // 1 and 2 were running when 0 failed: they finished; nothing new started.
    expect(finished.sort()).toEqual([1, 2]);
  });
});

describe('build options refused before anything is made', () => {
  const refuses = async (opts: Parameters<typeof buildBaseRootfs>[0], message: RegExp) => {
    const build = buildBaseRootfs(opts);
    await expect(build).rejects.toBeInstanceOf(UserError);
    await expect(build).rejects.toThrow(message);
    expect(fs.readdirSync(tmp)).toEqual([]); // no target, no partial dir
  };

  it('a --busybox FILE that is missing, not a program, or not static', async () => {
    const target = path.join(tmp, 'base');
    await refuses({ target, busyboxFile: path.join(tmp, 'nope') }, /^rootfs build: --busybox \S+nope is not a file: give the path of a static busybox/);
    const text = path.join(os.tmpdir(), `containy-not-elf-${process.pid}`);
    fs.writeFileSync(text, '#!/bin/sh\n', { mode: 0o755 });
    try {
      await refuses({ target, busyboxFile: text }, /is not a program \(no ELF header\): give the static busybox of busybox-static$/);
    } finally {
      fs.rmSync(text);
    }
    // node is a dynamic program: its PT_INTERP names the loader.
    await refuses({ target, busyboxFile: process.execPath }, /^rootfs build: --busybox \S+ is not static \(it needs \/\S*ld-\S+\): give the static busybox of busybox-static$/);
  });

  it('a --busybox FILE with --tools host', async () => {
    await refuses({ target: path.join(tmp, 'base'), tools: 'host', busyboxFile: process.execPath }, /--busybox FILE makes a busybox base, not a host-tools one: drop --tools host or --busybox$/);
  });

  it.skipIf(findStaticBusybox() !== null)('--tools busybox on a host without a static busybox', async () => {
    await refuses({ target: path.join(tmp, 'base'), tools: 'busybox' }, /^rootfs build: --tools busybox found no static busybox at \/bin\/busybox or \/usr\/bin\/busybox: install busybox-static or give --busybox FILE$/);
  });
});

describe('the programs a shell command runs', () => {
  it('takes the first word of each simple command, in pipes, lists and substitutions', () => {
    expect(programsOfScript("hostname; ls /sys/class/net; ls -l /proc/self/ns | sed 's/.* -> //'")).toEqual(['hostname', 'ls', 'sed']);
    expect(programsOfScript('echo "a run at $(date +%T)" >> /runs.txt; echo "runs so far: $(wc -l < /runs.txt)"')).toEqual(['echo', 'date', 'wc']);
    expect(programsOfScript('mount -t tmpfs x /mnt && grep x /proc/mounts || cat `which true` 2>&1')).toEqual(['mount', 'grep', 'cat', 'which']);
    expect(programsOfScript('(cd /tmp && pwd) & wait')).toEqual(['pwd']);
  });

  it('skips builtins, keywords, assignments, loop words and redirection targets', () => {
    const loop = 'for ns in uts pid; do\n  mine=$(readlink /proc/self/ns/$ns) theirs=x\n  if [ "$mine" = "$theirs" ]; then v=same; else v=differs; fi\n  echo "$ns: $v" > /dev/null\ndone';
    expect(programsOfScript(loop)).toEqual(['[', 'echo', 'readlink']);
    expect(programsOfScript('[ -e /dev/null ] || echo missing; test -d /proc && export A=1; cd /; exit 0')).toEqual(['[', 'echo', 'test']);
  });

  it('follows exec, env and sh -c to the command they run, and skips here-doc bodies', () => {
    expect(programsOfScript('ps; exec sleep infinity')).toEqual(['ps', 'sleep']);
    expect(programsOfScript('env -i A=1 date; timeout 5 head -1 /etc/os-release')).toEqual(['env', 'date', 'timeout', 'head']);
    expect(programsOfScript(`sh -c 'ps -o pid,user,args | grep -v "$(id -u)"'`)).toEqual(['sh', 'ps', 'grep', 'id']);
    expect(programsOfScript("python3 - <<'EOF'\nimport os\nprint(os.listdir('/'))\nEOF\ntail -1 /etc/hosts")).toEqual(['python3', 'tail']);
    expect(programsOfCommand(['python3', '/cgroups_example/mem.py'])).toEqual(['python3']);
    expect(programsOfCommand(['/bin/sh', '-c', 'uname -r | cut -d. -f1'])).toEqual(['/bin/sh', 'uname', 'cut']);
    expect(programsOfCommand('hostname')).toEqual(['sh', 'hostname']);
  });

  it('refuses what it cannot read rather than missing a command', () => {
    expect(() => programsOfScript('case $x in a) ls;; esac')).toThrow(/`case` is not understood/);
    expect(() => programsOfScript('$TOOL --version')).toThrow(/is a variable/);
    expect(() => programsOfScript("echo 'open")).toThrow(/unclosed '/);
  });
});

describe('every command a lesson runs in the base', () => {
  it('is one the host-tools base copies (WANTED_COMMANDS, bash or python3)', () => {
    const commands = commandsRunInBase(loadLessons());
    // The lessons are read, not a list of ours: at least lesson 0's ps and readlink.
    expect(commands.map((c) => c.program)).toEqual(expect.arrayContaining(['sh', 'ps', 'readlink', 'sleep']));
    const copied = new Set<string>([...WANTED_COMMANDS, 'bash', 'python3']);
    const missing = commands.filter((c) => !copied.has(c.program.split('/').pop()!));
    expect(missing, `add these to WANTED_COMMANDS in src/rootfs/rootfs.ts:\n${describeMissing(missing)}`).toEqual([]);
  });
});
