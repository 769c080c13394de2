// The lesson loader: the fixture loads into the shape the TUI renders, and each
// kind of mistake an author can make is a LessonError naming file, step and problem.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LessonError, lintLessons, loadLesson, loadLessons } from '../../src/lessons/loader.js';
import { UserError } from '../../src/runtime/errors.js';
import { parseValue } from '../../src/lessons/values.js';
import { toCgroupLimits } from '../../src/lessons/params.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/lessons');
const GOOD = fs.readFileSync(path.join(FIXTURES, '00-fixture.md'), 'utf8');

describe('loading a good lesson', () => {
  it('reads front matter, intro, steps, prose, actions, probes, checks and hints', () => {
    const lesson = loadLesson(path.join(FIXTURES, '00-fixture.md'));
    expect(lesson).toMatchObject({ id: 0, slug: 'fixture', title: 'Fixture lesson', summary: "A tiny lesson the engine's tests load and run.", needs: [] });
    expect(lesson.intro).toBe('The introduction: what this lesson is about.');
    expect(lesson.file).toBe(path.join(FIXTURES, '00-fixture.md'));
    expect(lesson.steps).toHaveLength(2);
    const [start, exec] = lesson.steps;
    expect(start.index).toBe(0);
    expect(start.title).toBe('Start a box');
    // Prose is everything but the step block, the indented command included, and text after the block.
    expect(start.prose).toContain("sudo unshare --uts --mount --pid --fork sh -c 'hostname fixture-box; sleep infinity'");
    expect(start.prose).toContain('Text after the block is prose too.');
    expect(start.prose).not.toContain('action:');
    expect(start.action).toEqual({ name: 'start', params: { namespaces: ['uts', 'mnt', 'pid'], rootfs: 'host', hostname: 'fixture-box' } });
    expect(start.probes).toEqual(['hostname', 'processes', 'namespaces']);
    expect(start.checks.map((c) => [c.left, c.op, c.right])).toEqual([
      ['container.hostname', '==', 'fixture-box'],
      ['host.hostname', '!=', 'fixture-box'],
      ['container.namespaces.uts', '!=', 0],
      ['running', '==', true],
    ]);
    expect(start.hints).toEqual(['The hostname lives in the UTS namespace.']);
    // rootfs: host means no overlay: only root is needed.
    expect(start.needs).toEqual(['root']);
    expect(exec.action).toEqual({ name: 'exec', params: { command: 'hostname' } });
    expect(exec.probes).toEqual(['hostname']);
    expect(exec.checks.map((c) => c.text)).toEqual(['output == "fixture-box"', 'exit == 0']);
  });

  it('keeps a ```notes block out of the prose: speaker notes, for the presenter key', () => {
    const text = GOOD.replace('```step', '```notes\nSay what to watch first.\n```\n\n```step');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-notes-'));
    try {
      fs.writeFileSync(path.join(dir, '00-fixture.md'), text);
      const [first, second] = loadLesson(path.join(dir, '00-fixture.md')).steps;
      expect(first.notes).toBe('Say what to watch first.');
      expect(first.prose).not.toContain('Say what to watch');
      expect(second.notes).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works out what a step needs from its action', () => {
    const lesson = loadFrom(GOOD.replace('rootfs: host\n', 'limits: {memory: 512M, pids: 10}\n'));
    expect(lesson.steps[0].needs.sort()).toEqual(['cgroups', 'overlay', 'root']);
    expect(lesson.steps[0].action.params.limits).toEqual({ memory: '512M', pids: 10 });
  });

  it('a step\'s needs: names commands the base rootfs must have, beside root, overlay and cgroups', () => {
    const lesson = loadFrom(GOOD.replace('command: hostname\n', 'command: hostname\nneeds: [python3, cgroups, ip]\n'));
    expect(lesson.steps[1].tools).toEqual(['python3', 'ip']);
    expect(lesson.steps[1].needs.sort()).toEqual(['cgroups', 'root']);
    expect(lesson.steps[0].tools).toEqual([]);
    expectStepError(GOOD.replace('command: hostname\n', 'command: hostname\nneeds: ["python 3"]\n'), 2, /needs: "python 3" is neither one of root, overlay, cgroups nor a command name such as python3/);
    // Tools are looked for in the base: a step on the host's files would be judged by the wrong tree.
    expectStepError(GOOD.replace('rootfs: host\n', 'rootfs: host\nneeds: [python3]\n'), 1, /needs: python3 names commands of the base rootfs, but this step runs on rootfs: host/);
  });

  it('takes a number or true as text where a parameter wants text', () => {
    const lesson = loadFrom(GOOD.replace('hostname: fixture-box', 'hostname: 42').replace('command: hostname', 'command: true'));
    expect(lesson.steps[0].action.params.hostname).toBe('42');
    expect(lesson.steps[1].action.params.command).toBe('true');
  });

  it('takes `key: |` as the indented text below it', () => {
    const lesson = loadFrom(GOOD.replace('command: hostname', 'command: |\n  echo one\n    echo two\n\n  hostname'));
    expect(lesson.steps[1].action.params.command).toBe('echo one\n  echo two\n\nhostname');
  });

  it('ignores FORMAT.md and README.md and sorts by id', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '03-three.md'), GOOD.replace('id: 0', 'id: 3'));
    fs.writeFileSync(path.join(dir, '01-one.md'), GOOD.replace('id: 0', 'id: 1'));
    fs.writeFileSync(path.join(dir, 'FORMAT.md'), '# not a lesson');
    fs.writeFileSync(path.join(dir, 'README.md'), '# not a lesson');
    expect(loadLessons(dir).map((l) => [l.id, l.slug])).toEqual([[1, 'one'], [3, 'three']]);
  });
});

describe('relaxed values', () => {
  it('reads JSON, bare lists and maps, and text', () => {
    expect(parseValue('["sleep", "1"]')).toEqual(['sleep', '1']);
    expect(parseValue('[uts, mnt]')).toEqual(['uts', 'mnt']);
    expect(parseValue('{memory: 512M, pids: 10, cpus: 0.1, ok: true}')).toEqual({ memory: '512M', pids: 10, cpus: 0.1, ok: true });
    expect(parseValue("{a: [1, 'x y'], b: {c: \"q\"}}")).toEqual({ a: [1, 'x y'], b: { c: 'q' } });
    expect(parseValue('echo $$ # not a comment')).toBe('echo $$ # not a comment');
    expect(parseValue('42')).toBe(42);
    expect(() => parseValue('[a, b')).not.toThrow(); // does not end with ]: it is text
    expect(parseValue('[a, b')).toBe('[a, b');
    expect(() => parseValue('{a b}')).toThrow(/expected : after a b|quote it/);
  });
});

// ---- mistakes ----

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});
beforeEach(() => {
  dirs = [];
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-lessons-test-'));
  dirs.push(d);
  return d;
}

function loadFrom(text: string, name = '00-fixture.md') {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, name), text);
  return loadLessons(dir)[0];
}

function errorOf(text: string, name = '00-fixture.md'): LessonError {
  try {
    loadFrom(text, name);
  } catch (err) {
    expect(err).toBeInstanceOf(LessonError);
    expect(err).toBeInstanceOf(UserError);
    return err as LessonError;
  }
  throw new Error('the lesson loaded, but it should not have');
}

/** A mistake in step `step` (1-based): the message names the file, the step and its title, and the problem. */
function expectStepError(text: string, step: number, problem: RegExp, name = '00-fixture.md') {
  const err = errorOf(text, name);
  expect(err.file.endsWith(name)).toBe(true);
  expect(err.step).toBe(step);
  expect(err.problem).toMatch(problem);
  const title = step === 1 ? 'Start a box' : 'Ask it its name';
  expect(err.message).toContain(name);
  expect(err.message).toContain(`step ${step} "${title}"`);
  expect(err.message).toMatch(problem);
  // One line, no stack trace in the message.
  expect(err.message).not.toContain('\n');
  return err;
}

describe('a lesson with a mistake', () => {
  it('unknown action', () => {
    const err = expectStepError(GOOD.replace('action: start', 'action: strat'), 1, /unknown action "strat"; actions are start, exec, run, stop, copy-binary, chroot, host-process, host-run, write-file, inspect, cgroup-files/);
    expect(err.line).toBe(GOOD.split('\n').indexOf('action: start') + 1);
  });

  it('unknown parameter', () => {
    expectStepError(GOOD.replace('hostname: fixture-box', 'hostnme: fixture-box'), 1, /action start has no parameter hostnme; its parameters are namespaces, hostname/);
  });

  it('a security: that docker would refuse, named when the lesson loads', () => {
    expectStepError(GOOD.replace('hostname: fixture-box', 'hostname: fixture-box\nsecurity: {capAdd: [SYS_WIZARD]}'), 1, /start: security capAdd: unknown capability 'SYS_WIZARD'/);
    expectStepError(GOOD.replace('hostname: fixture-box', 'hostname: fixture-box\nsecurity: {privileged: yes please}'), 1, /security privileged must be true or false/);
    expectStepError(GOOD.replace('hostname: fixture-box', 'hostname: fixture-box\nsecurity: {seccomp: /etc/p.json}'), 1, /security seccomp must be unconfined, default, or a docker seccomp profile/);
    expectStepError(GOOD.replace('hostname: fixture-box', 'hostname: fixture-box\nsecurity: {apparmor: off}'), 1, /security has no key apparmor; use privileged, noNewPrivileges/);
  });

  it('bad parameter values, checked per action', () => {
    expectStepError(GOOD.replace('hostname: fixture-box', 'hostname: [a, b]'), 1, /start: hostname must be text/);
    expectStepError(GOOD.replace('rootfs: host', 'rootfs: host\npivot: "no"'), 1, /start: pivot must be true or false/);
    expectStepError(GOOD.replace('namespaces: [uts, mnt, pid]', 'namespaces: [uts, mount]'), 1, /namespaces must be a list of namespaces from pid, uts, ipc, net, mnt, cgroup \(unknown: mount\)/);
    expectStepError(GOOD.replace('rootfs: host', 'rootfs: /etc'), 1, /rootfs must be base .*not absolute/);
    expectStepError(GOOD.replace('rootfs: host', 'rootfs: ../../etc'), 1, /climbs out/);
    expectStepError(GOOD.replace('rootfs: host', 'limits: {memory: lots}'), 1, /start: limits memory: 'lots' is not a size; use a number with an optional unit/);
    expectStepError(GOOD.replace('rootfs: host', 'limits: {memroy: 1G}'), 1, /limits has no limit memroy; use memory, memorySwap, pids/);
    expectStepError(GOOD.replace('rootfs: host', 'limits: {pids: 0}'), 1, /limits pids: '0' is not valid; use a whole number from 1 to 4194304/);
    expectStepError(GOOD.replace('rootfs: host', 'limits: {memory: true}'), 1, /limits memory must be a number or text/);
    expectStepError(GOOD.replace('hostname: fixture-box', 'hostname: fixture-box\nname: "a b"'), 1, /name must be a container name: use letters, digits.*\(at most 48\)/);
    expectStepError(GOOD.replace('hostname: fixture-box', `hostname: fixture-box\nname: ${'n'.repeat(49)}`), 1, /name must be a container name: .*\(at most 48\)/);
    expectStepError(GOOD.replace('hostname: fixture-box', `hostname: fixture-box\nas: ${'h'.repeat(49)}`), 1, /as must be a word \(letters, digits, _; at most 48\)/);
    expectStepError(GOOD.replace('command: hostname', 'command: []'), 2, /exec: command must be a shell command/);
  });

  it('limits by the rules `run --memory` uses, swap and CPUs included', () => {
    // The runtime's parser (cgroups/limits.ts) checks both, with the same ranges.
    expectStepError(GOOD.replace('rootfs: host', 'limits: {memory: 4M}'), 1, /limits memory: '4M' is too small; the minimum is 6m/);
    expectStepError(GOOD.replace('rootfs: host', 'limits: {memory: 512M, memorySwap: 256M}'), 1, /memorySwap: '256M' is smaller than memory \(512 MiB\)/);
    expectStepError(GOOD.replace('rootfs: host', 'limits: {memorySwap: 1G}'), 1, /memorySwap: needs memory too \(it is memory plus swap\), e.g. \{memory: 512M, memorySwap: 1G\}/);
    expectStepError(GOOD.replace('rootfs: host', 'limits: {cpus: 0.001}'), 1, /limits cpus: '0.001' is not valid; use a number of CPUs at least 0.01/);
    expectStepError(GOOD.replace('rootfs: host', 'limits: {cpuShares: 1}'), 1, /cpuShares: '1' is not valid; use a whole number from 2 to 262144/);
    // Loading does not depend on this machine: more CPUs than it has is for the step to refuse when it runs.
    const lesson = loadFrom(GOOD.replace('rootfs: host\n', 'limits: {memory: 512M, memorySwap: -1, cpus: 4096, pids: 10}\n'));
    expect(lesson.steps[0].action.params.limits).toEqual({ memory: '512M', memorySwap: -1, cpus: 4096, pids: 10 });
    expect(toCgroupLimits(lesson.steps[0].action.params.limits, null)).toEqual({ memory: 512 * 2 ** 20, memorySwap: -1, cpus: 4096, pids: 10 });
    expect(() => toCgroupLimits(lesson.steps[0].action.params.limits)).toThrow(/cpus: '4096' is not valid; use a number of CPUs from 0.01 to \d+ \(this machine has/);
  });

  it('parameters that contradict each other', () => {
    expectStepError(GOOD.replace('rootfs: host', 'rootfs: host\noverlay: true'), 1, /rootfs: host keeps the host's files, so overlay cannot apply/);
    expectStepError(GOOD.replace('namespaces: [uts, mnt, pid]', 'namespaces: [mnt, pid]'), 1, /hostname needs the uts namespace/);
  });

  it('missing parameter', () => {
    expectStepError(GOOD.replace('command: hostname\n', ''), 2, /action exec needs command/);
  });

  it('a step that uses a container no earlier step starts', () => {
    const withoutStart = GOOD.replace('action: start', 'action: write-file\npath: x\ncontent: y')
      .replace(/namespaces: .*\n|rootfs: .*\n|hostname: fixture-box\n/g, '');
    expectStepError(withoutStart, 2, /exec needs the lesson's container, but no earlier step starts it/);
  });

  it('no check', () => {
    expectStepError(GOOD.replace('check: output == "fixture-box"\ncheck: exit == 0\n', ''), 2, /has no check/);
  });

  it('unknown probe', () => {
    expectStepError(GOOD.replace('probes: hostname', 'probes: [hostname, cpu]'), 2, /unknown probe "cpu"; probes are hostname, processes, interfaces, routes, mounts, namespaces, ids, cgroup/);
  });

  it('bad check syntax', () => {
    expectStepError(GOOD.replace('check: exit == 0', 'check: exit = 0'), 2, /bad check: cannot read check "exit = 0": write it as <what> <operator> <value>/);
    expectStepError(GOOD.replace('check: exit == 0', 'check: exit > zero'), 2, /> compares numbers, but "zero" is not a number/);
    expectStepError(GOOD.replace('check: exit == 0', 'check: output matches /(/'), 2, /is not a regular expression/);
    expectStepError(GOOD.replace('check: exit == 0', 'check: exit =='), 2, /bad check/);
  });

  it('a check about something a step cannot produce', () => {
    expectStepError(GOOD.replace('check: exit == 0', 'check: container.hostnme == "x"'), 2, /container.hostnme is not a probe/);
    expectStepError(GOOD.replace('check: exit == 0', 'check: container.processes.cmd contains "sh"'), 2, /the processes probe has no field cmd \(it has pid, command\)/);
    expectStepError(GOOD.replace('check: exit == 0', 'check: victim.alive == false'), 2, /unknown subject victim/);
  });

  it('a variable naming nothing', () => {
    expectStepError(GOOD.replace('command: hostname', 'command: kill ${victim.pid}'), 2, /\$\{victim.pid\}: unknown variable/);
    expectStepError(GOOD.replace('command: hostname', 'command: ls ${layers.uper}'), 2, /layers has \$\{layers.upper\}/);
    // A shell's own ${VAR} is not ours and passes.
    expect(loadFrom(GOOD.replace('command: hostname', 'command: echo ${HOME}; hostname')).steps[1].action.params.command).toBe('echo ${HOME}; hostname');
  });

  it('a key given twice', () => {
    expectStepError(GOOD.replace('hostname: fixture-box', 'hostname: a\nhostname: b'), 1, /hostname is given twice/);
  });

  it('no step block, two step blocks, no action', () => {
    expectStepError(GOOD.replace('```step\n# a comment line', '```sh\n# a comment line'), 2, /has no ```step block/);
    expectStepError(GOOD + '\n```step\naction: stop\ncheck: exit == 0\n```\n', 2, /has two ```step blocks/);
    expectStepError(GOOD.replace('action: exec\n', ''), 2, /has no action/);
  });

  it('a code block never closed', () => {
    const err = errorOf(GOOD.replace(/```\n$/, ''));
    expect(err.message).toMatch(/a code block opened here with ``` is never closed/);
  });

  it('front matter mistakes', () => {
    expect(errorOf(GOOD.replace(/^---\n/, '')).message).toMatch(/00-fixture.md:1: no front matter/);
    expect(errorOf(GOOD.replace('id: 0\n', '')).message).toMatch(/id is missing/);
    expect(errorOf(GOOD.replace('id: 0', 'id: zero')).message).toMatch(/id must be a whole number/);
    expect(errorOf(GOOD.replace('title: Fixture lesson\n', '')).message).toMatch(/title is missing/);
    expect(errorOf(GOOD.replace('id: 0', 'id: 0\ncolour: red')).message).toMatch(/unknown key colour/);
    expect(errorOf(GOOD.replace('id: 0', 'id: 0\nneeds: [root, gpu]')).message).toMatch(/needs: "gpu" is not one of root, overlay, cgroups/);
    expect(errorOf(GOOD, '07-fixture.md').message).toMatch(/id 0 does not match the file name's number 07/);
    expect(errorOf(GOOD.replace(/## Start a box[\s\S]*$/, '')).message).toMatch(/no steps/);
  });

  it('duplicate ids', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '00-fixture.md'), GOOD);
    fs.writeFileSync(path.join(dir, '00-again.md'), GOOD);
    const { lessons, errors } = lintLessons(dir);
    expect(lessons).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/00-fixture.md: id 0 is also the id of .*00-again.md: give each lesson its own id/);
    expect(() => loadLessons(dir)).toThrow(LessonError);
  });

  it('lintLessons reports every broken file, not only the first', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '01-a.md'), GOOD.replace('id: 0', 'id: 1').replace('action: start', 'action: nope'));
    fs.writeFileSync(path.join(dir, '02-b.md'), GOOD.replace('id: 0', 'id: 2').replace('check: exit == 0', 'check: exit ~ 0'));
    fs.writeFileSync(path.join(dir, '03-c.md'), GOOD.replace('id: 0', 'id: 3'));
    const { lessons, errors } = lintLessons(dir);
    expect(lessons.map((l) => l.id)).toEqual([3]);
    expect(errors.map((e) => [path.basename(e.file), e.step])).toEqual([['01-a.md', 1], ['02-b.md', 2]]);
  });
});

describe('what loading lessons loads', () => {
  const SRC = path.resolve(import.meta.dirname, '../../src');
  /** Every module a file loads when it is imported: its static imports that are not `import type`, transitively. */
  function loadedBy(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)) {
      const spec = m[1];
      if (!spec.startsWith('.')) {
        seen.add(spec);
        continue;
      }
      const resolved = path.resolve(path.dirname(file), spec).replace(/\.js$/, '');
      const found = ['.ts', '.tsx'].map((ext) => resolved + ext).find((f) => fs.existsSync(f));
      if (found) loadedBy(found, seen);
    }
    return seen;
  }

  it('the loader and the action definitions load neither koffi nor the container launcher (the menu lists lessons without them)', () => {
    const loaded = [...loadedBy(path.join(SRC, 'lessons/loader.ts'))].map((f) => (f.startsWith(SRC) ? path.relative(SRC, f) : f));
    expect(loaded).toContain('lessons/actions/containers.ts');
    expect(loaded).toContain('lessons/params.ts');
    for (const heavy of ['koffi', 'runtime/libc.ts', 'runtime/probes.ts', 'runtime/container.ts', 'runtime/index.ts']) expect(loaded).not.toContain(heavy);
  });

  it('sees what does load koffi: the engine, through the real runtime', () => {
    const loaded = [...loadedBy(path.join(SRC, 'lessons/engine.ts'))].map((f) => path.relative(SRC, f));
    expect(loaded).toContain('runtime/libc.ts');
    expect(loaded).toContain('runtime/container.ts');
  });
});

describe('network steps', () => {
  it('refuses a network mode the runtime does not have, bad -p values, and publish without a bridge', () => {
    expectStepError(GOOD.replace('action: start\n', 'action: start\nnetwork: wifi\n'), 1, /start: network must be one of none, bridge, host/);
    expectStepError(GOOD.replace('action: start\n', 'action: start\nnetwork: bridge\npublish: ["70000:80"]\n'), 1, /publish .*host port 70000 is out of range/);
    expectStepError(GOOD.replace('action: start\n', 'action: start\npublish: ["8080:80"]\n'), 1, /publish needs network: bridge/);
  });

  it('takes reach with ADDRESS:PORT, a variable allowed for the address', () => {
    expectStepError(GOOD.replace('action: start\n', 'action: reach\naddress: somewhere\n').replace(/rootfs: host\n/, ''), 1, /reach: address must be ADDRESS:PORT/);
  });
});
