// Check lines: parsing, what each subject resolves to, and each operator's meaning.
import { describe, expect, it } from 'vitest';
import { evaluateCheck, parseCheck, subjectProblem, type CheckFacts } from '../../src/lessons/checks.js';
import type { ProbeSnapshot } from '../../src/lessons/types.js';

const container: ProbeSnapshot = {
  hostname: 'box',
  processes: [{ pid: 1, command: 'sleep infinity' }, { pid: 7, command: 'ps -o pid,args' }],
  interfaces: [{ name: 'lo', up: false }],
  mounts: [{ target: '/', fstype: 'overlay', source: 'overlay' }, { target: '/proc', fstype: 'proc', source: 'proc' }],
  namespaces: { uts: 4026532200, pid: 4026532201 },
  ids: { uid: 0, gid: 0 },
  cgroup: {
    limits: [{ label: 'memory limit', raw: '536870912', value: 536870912, file: '/sys/fs/cgroup/memory/containy-learn/lesson5/memory.limit_in_bytes' },
      { label: 'processes limit', raw: 'max', value: null, file: '/sys/fs/cgroup/pids/containy-learn/lesson5/pids.max' }],
    usage: [{ label: 'memory used', raw: '1048576', value: 1048576, file: '/sys/fs/cgroup/memory/containy-learn/lesson5/memory.usage_in_bytes' }],
    events: [],
  },
};
const host: ProbeSnapshot = { hostname: 'laptop', namespaces: { uts: 4026531838, pid: 4026531836 }, interfaces: [{ name: 'lo', up: true }, { name: 'eth0', up: true }] };

function facts(extra: Partial<CheckFacts> = {}): CheckFacts {
  return {
    output: 'box\n', stdout: 'box\n', stderr: '', exit: 0, error: '', limits: '', running: true, host, container,
    handles: { victim: { pid: 4242, alive: false, exit: 143 } }, ...extra,
  };
}

const check = (line: string, f: CheckFacts = facts()) => evaluateCheck(parseCheck(line), f);

describe('checks', () => {
  it.each([
    ['container.hostname == "box"', true],
    ['container.hostname == box', true],
    ['host.hostname != "box"', true],
    ['host.hostname == "box"', false],
    ['output == "box"', true], // trimmed: the newline the command printed does not matter
    ['output contains "bo"', true],
    ['output !contains "bo"', false],
    ['exit == 0', true],
    ['exit != 0', false],
    ['exit < 1', true],
    ['exit >= 1', false],
    ['error == ""', true],
    ['running == true', true],
    ['container.processes.length == 2', true],
    ['container.processes.length > 2', false],
    ['container.processes[0].pid == 1', true],
    ['container.processes.command contains "sleep infinity"', true],
    ['container.processes.command contains "sleep"', false], // a list contains equal elements only
    ['container.processes.command matches /^sleep/', true], // any element matching
    ['container.interfaces.name == ["lo"]', true],
    ['host.interfaces.name == ["lo"]', false],
    ['host.interfaces.name contains eth0', true],
    ['container.mounts.target contains "/proc"', true],
    ['container.namespaces.uts != 4026531838', true],
    ['container.ids.uid == 0', true],
    ['container.cgroup["memory limit"] == 536870912', true],
    ['container.cgroup["memory.limit_in_bytes"] == 536870912', true],
    ['container.cgroup["processes limit"] == "max"', true],
    ['container.cgroup.limits.length == 2', true],
    ['container.cgroup["memory used"] > 0', true],
    ['victim.alive == false', true],
    ['victim.exit == 143', true],
    ['victim.pid == 4242', true],
    ['output matches /^BOX$/im', true],
    ['output !matches "EINVAL"', true],
  ])('%s -> %s', (line, expected) => {
    expect(check(line).ok).toBe(expected);
  });

  it('says what it saw when a check fails', () => {
    expect(check('container.hostname == "other"')).toEqual({ text: 'container.hostname == "other"', ok: false, actual: '"box"' });
  });

  it('fails, saying why, when there is nothing to compare', () => {
    const noContainer = facts({ container: undefined, running: false });
    expect(check('container.hostname != "box"', noContainer)).toMatchObject({ ok: false, actual: '(no container is running)' });
    expect(check('exit == 0', facts({ exit: undefined }))).toMatchObject({ ok: false, actual: '(no command ran in this step)' });
    expect(check('files contains "x"', facts())).toMatchObject({ ok: false, actual: "(this step's action gives no files)" });
    const failedProbe = facts({ container: { errors: { hostname: 'setns failed with EPERM' } } });
    expect(check('container.hostname == "box"', failedProbe)).toMatchObject({ ok: false, actual: '(the hostname probe failed: setns failed with EPERM)' });
    expect(check('container.cgroup["nope"] == 1')).toMatchObject({ ok: false, actual: '(no cgroup value named "nope" here)' });
  });

  it('reads the error of a refused action', () => {
    const refused = facts({ error: 'pivot_root failed with EINVAL: the new root must be a mount point', exit: undefined });
    expect(check('error contains "EINVAL"', refused).ok).toBe(true);
    expect(check('error matches /mount point/', refused).ok).toBe(true);
  });

  it('knows which subjects exist', () => {
    const handles = new Set(['victim']);
    expect(subjectProblem('output', handles)).toBeUndefined();
    expect(subjectProblem('output.length', handles)).toBeUndefined();
    expect(subjectProblem('victim.alive', handles)).toBeUndefined();
    expect(subjectProblem('victim.colour', handles)).toMatch(/victim has victim.alive, victim.pid, victim.exit/);
    expect(subjectProblem('outptu', handles)).toMatch(/unknown subject outptu; use output, stdout/);
    expect(subjectProblem('host.cpu', handles)).toMatch(/host.cpu is not a probe/);
    expect(subjectProblem('container.namespaces.utss', handles)).toMatch(/namespaces probe has no field utss/);
    expect(subjectProblem('container.cgroup["memory limit"]', handles)).toBeUndefined();
  });
});
