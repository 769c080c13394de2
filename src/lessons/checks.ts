// `check:` lines: small comparisons over what a step produced (lessons/FORMAT.md).
//   container.hostname == "box"        host.processes.length > 5
//   output contains "PID 1"            error matches /EINVAL/
//   victim.alive == false              container.cgroup["memory limit"] == 536870912
// Parsed and validated when a lesson loads; evaluated after the step's action.
import type { CgroupValue } from '../runtime/index.js';
import type { Check, CheckOutcome, ProbeKind, ProbeSnapshot } from './types.js';
import { parseValue, showValue, ValueError } from './values.js';

export const OPERATORS = ['==', '!=', '<=', '>=', '<', '>', 'contains', '!contains', 'matches', '!matches'] as const;
const NUMERIC_OPS = new Set(['<', '>', '<=', '>=']);

/** Subjects that are not probes, with what they hold. */
export const STEP_SUBJECTS: Record<string, string> = {
  output: 'what the command printed (stdout then stderr), or the action\'s report',
  stdout: 'what the command printed on stdout',
  stderr: 'what the command printed on stderr',
  exit: 'the command\'s exit status (128 + N when killed by signal N)',
  error: 'the runtime\'s refusal or the action\'s failure ("" when none)',
  limits: 'why a cgroup limit ended or hampered the command ("" when none)',
  security: 'why the container\'s capabilities, seccomp filter or read-only paths refused a syscall the output shows ("" when none)',
  files: 'the paths an inspect listed or a copy-binary copied',
  whiteouts: 'the paths an inspect found to be overlay whiteouts (0/0 character devices)',
  running: 'whether the lesson\'s container is running',
};

/** Fields of a named handle (a host-process or a second container): `victim.alive`. */
export const HANDLE_FIELDS = ['alive', 'pid', 'exit'];

// Fields each probe has, to catch typos when the lesson loads. `length` and [N] work on any list.
const PROBE_FIELDS: Record<ProbeKind, string[] | null> = {
  hostname: [],
  processes: ['pid', 'command'],
  interfaces: ['name', 'up', 'state', 'address', 'addresses', 'peer', 'peerIndex', 'master'],
  routes: ['destination', 'gateway', 'dev'],
  mounts: ['target', 'fstype', 'source'],
  namespaces: ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts', 'user', 'time'],
  ids: ['uid', 'gid'],
  userns: ['uid_map', 'gid_map', 'setgroups', 'hostUid', 'hostGid', 'uid', 'gid', 'rootOwnerHost', 'rootOwner'],
  cgroup: null, // limits/usage/events, or a value by label or file name: cgroup["memory limit"]
  caps: ['effective', 'permitted', 'bounding'],
  seccomp: ['mode', 'filters'],
  nnp: [],
  masks: ['masked', 'readonly'],
};

/** One segment of a subject path: a name, an index, or a quoted key. */
type Segment = string | number;

export function parseSubject(left: string): Segment[] {
  const segments: Segment[] = [];
  let i = 0;
  const word = /[\w-]+/y;
  while (i < left.length) {
    if (segments.length > 0) {
      if (left[i] === '.') i++;
      else if (left[i] !== '[') throw new ValueError(`cannot read ${JSON.stringify(left)}: expected . or [ at character ${i + 1}`);
    }
    if (left[i] === '[') {
      const close = left.indexOf(']', i);
      if (close < 0) throw new ValueError(`cannot read ${JSON.stringify(left)}: missing ]`);
      const inner = left.slice(i + 1, close).trim();
      let key: unknown;
      try {
        key = JSON.parse(inner);
      } catch {
        key = undefined;
      }
      if (typeof key !== 'string' && !(typeof key === 'number' && Number.isInteger(key) && key >= 0)) {
        throw new ValueError(`cannot read ${JSON.stringify(left)}: inside [ ] put an index like [0] or a quoted name like ["memory limit"]`);
      }
      segments.push(key);
      i = close + 1;
      continue;
    }
    word.lastIndex = i;
    const m = word.exec(left);
    if (!m) throw new ValueError(`cannot read ${JSON.stringify(left)}: expected a name at character ${i + 1}`);
    segments.push(/^\d+$/.test(m[0]) ? Number(m[0]) : m[0]);
    i += m[0].length;
  }
  if (segments.length === 0 || typeof segments[0] !== 'string') throw new ValueError('a check needs something to compare on its left');
  return segments;
}

/** `left op right` -> Check. Throws ValueError saying what is wrong. */
export function parseCheck(text: string): Check {
  const trimmed = text.trim();
  // The left side may hold spaces only inside ["..."]: container.cgroup["memory limit"].
  const m = /^((?:[^\s[]|\[[^\]]*\])+)\s+(==|!=|<=|>=|<|>|!contains|contains|!matches|matches)(?:\s+(.*))?$/.exec(trimmed);
  if (!m) {
    throw new ValueError(`cannot read check ${JSON.stringify(trimmed)}: write it as <what> <operator> <value>, e.g. container.hostname == "box"; operators: ${OPERATORS.join(' ')}`);
  }
  const [, left, op, rightText] = m;
  if (rightText === undefined || rightText.trim() === '') throw new ValueError(`check ${JSON.stringify(trimmed)} has nothing to compare with after ${op} (use "" for an empty text)`);
  parseSubject(left);
  let right: unknown;
  if (op === 'matches' || op === '!matches') right = parseRegExp(rightText.trim());
  else right = parseValue(rightText);
  if (NUMERIC_OPS.has(op) && typeof right !== 'number') throw new ValueError(`check ${JSON.stringify(trimmed)}: ${op} compares numbers, but ${showValue(right)} is not a number`);
  return { text: trimmed, left, op, right };
}

function parseRegExp(text: string): RegExp {
  const literal = /^\/(.*)\/([dgimsuy]*)$/s.exec(text);
  let source = text;
  let flags = '';
  if (literal) {
    source = literal[1];
    flags = literal[2].replace('g', ''); // a global regexp's test() is stateful
  } else {
    const value = parseValue(text);
    source = typeof value === 'string' ? value : text;
  }
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new ValueError(`${text} is not a regular expression: ${(err as Error).message}`);
  }
}

/** Why a check's left side names nothing a step can produce, or undefined when it is fine. */
export function subjectProblem(left: string, handles: ReadonlySet<string>): string | undefined {
  const path = parseSubject(left);
  const [root, ...rest] = path as [string, ...Segment[]];
  if (root in STEP_SUBJECTS) {
    if (rest.length === 0 || (rest.length === 1 && rest[0] === 'length')) return undefined;
    return `${left}: ${root} has no field ${showValue(rest[0])} (only ${root}.length)`;
  }
  if (root === 'host' || root === 'container') {
    const kind = rest[0];
    if (typeof kind !== 'string' || !(kind in PROBE_FIELDS)) {
      return `${left}: ${root}.${String(kind ?? '')} is not a probe; probes are ${Object.keys(PROBE_FIELDS).join(', ')}`;
    }
    const fields = PROBE_FIELDS[kind as ProbeKind];
    const next = rest.slice(1).find((s) => typeof s === 'string' && s !== 'length');
    if (fields && typeof next === 'string' && !fields.includes(next)) {
      return `${left}: the ${kind} probe has no field ${next}${fields.length ? ` (it has ${fields.join(', ')})` : ''}`;
    }
    return undefined;
  }
  if (handles.has(root)) {
    if (rest.length === 1 && HANDLE_FIELDS.includes(String(rest[0]))) return undefined;
    return `${left}: ${root} has ${HANDLE_FIELDS.map((f) => `${root}.${f}`).join(', ')}`;
  }
  const named = handles.size ? `, or a name given with as: (${[...handles].join(', ')})` : '';
  return `${left}: unknown subject ${root}; use ${Object.keys(STEP_SUBJECTS).join(', ')}, host.<probe>, container.<probe>${named}`;
}

/** Everything a step produced that checks can look at. */
export interface CheckFacts {
  output: string;
  stdout: string;
  stderr: string;
  exit?: number;
  error: string;
  limits: string;
  security: string;
  files?: string[];
  whiteouts?: string[];
  running: boolean;
  host?: ProbeSnapshot;
  container?: ProbeSnapshot;
  /** Host processes and extra containers started with `as:`. */
  handles: Record<string, { pid: number; alive: boolean; exit?: number }>;
}

type Resolved = { value: unknown } | { missing: string };

export function resolveSubject(left: string, facts: CheckFacts): Resolved {
  const [root, ...rest] = parseSubject(left) as [string, ...Segment[]];
  let value: unknown;
  if (root === 'host' || root === 'container') {
    const snap = facts[root];
    if (!snap) return { missing: root === 'container' ? 'no container is running' : 'the host was not probed' };
    const kind = rest.shift() as ProbeKind;
    const failed = snap.errors?.[kind];
    if (failed) return { missing: `the ${kind} probe failed: ${failed}` };
    value = snap[kind];
    if (value === undefined) return { missing: `the ${kind} probe was not read` };
    if (kind === 'cgroup') {
      if (value === null) return { missing: 'the container has no cgroup' };
      if (typeof rest[0] === 'string' && !['limits', 'usage', 'events', 'length'].includes(rest[0])) {
        const key = rest.shift() as string;
        const entry = findCgroupValue(value as { limits: CgroupValue[]; usage: CgroupValue[]; events: CgroupValue[] }, key);
        if (!entry) return { missing: `no cgroup value named ${JSON.stringify(key)} here` };
        value = entry.value ?? entry.raw;
      }
    }
  } else if (root in facts.handles) {
    value = facts.handles[root];
  } else if (root in STEP_SUBJECTS) {
    value = facts[root as keyof CheckFacts];
    if (value === undefined) {
      return { missing: root === 'exit' ? 'no command ran in this step' : `this step's action gives no ${root}` };
    }
  } else {
    return { missing: `nothing named ${root} in this lesson` };
  }
  for (const seg of rest) {
    if (value === undefined || value === null) return { missing: `${left} has no value` };
    value = step(value, seg);
  }
  if (value === undefined) return { missing: `${left} has no value` };
  return { value };
}

/** One path segment: an index, `length`, a field, or a field of every element of a list. */
function step(value: unknown, seg: Segment): unknown {
  if (seg === 'length' && (Array.isArray(value) || typeof value === 'string')) return value.length;
  if (Array.isArray(value)) {
    if (typeof seg === 'number') return value[seg];
    return value.map((v) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined));
  }
  if (value && typeof value === 'object') return (value as Record<string | number, unknown>)[seg];
  return undefined;
}

/** By label ("memory limit") or by file name ("memory.max", "pids.max"). */
function findCgroupValue(report: { limits: CgroupValue[]; usage: CgroupValue[]; events: CgroupValue[] }, key: string): CgroupValue | undefined {
  const all = [...report.limits, ...report.usage, ...report.events];
  return all.find((v) => v.label === key) ?? all.find((v) => v.file.endsWith(`/${key}`));
}

export function evaluateCheck(check: Check, facts: CheckFacts): CheckOutcome {
  const resolved = resolveSubject(check.left, facts);
  if ('missing' in resolved) return { text: check.text, ok: false, actual: `(${resolved.missing})` };
  const actual = resolved.value;
  return { text: check.text, ok: compare(actual, check.op, check.right), actual: showValue(actual, 300) };
}

export function compare(actual: unknown, op: string, expected: unknown): boolean {
  switch (op) {
    case '==':
      return looseEqual(actual, expected);
    case '!=':
      return !looseEqual(actual, expected);
    case 'contains':
      return contains(actual, expected);
    case '!contains':
      return !contains(actual, expected);
    case 'matches':
      return matches(actual, expected as RegExp);
    case '!matches':
      return !matches(actual, expected as RegExp);
    default: {
      const a = toNumber(actual);
      const b = toNumber(expected);
      if (a === undefined || b === undefined) return false;
      if (op === '<') return a < b;
      if (op === '>') return a > b;
      if (op === '<=') return a <= b;
      if (op === '>=') return a >= b;
      return false;
    }
  }
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v.trim()))) return Number(v.trim());
  return undefined;
}

/** Numbers match numeric text, text is compared trimmed (output ends with a newline), lists and maps element by element. */
export function looseEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => looseEqual(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => looseEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  if (typeof a === 'number' || typeof b === 'number') {
    const x = toNumber(a);
    const y = toNumber(b);
    return x !== undefined && y !== undefined && x === y;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') return String(a).trim() === String(b).trim();
  if (typeof a === 'string' && typeof b === 'string') return a.trim() === b.trim();
  return a === b;
}

/** Text: a substring. A list: an element equal to it. A map: a key. */
function contains(actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'string') return actual.includes(String(expected));
  if (Array.isArray(actual)) return actual.some((x) => looseEqual(x, expected));
  if (actual && typeof actual === 'object') return String(expected) in actual;
  return false;
}

/** Text: the regexp finds a match. A list: some element matches. */
function matches(actual: unknown, re: RegExp): boolean {
  if (Array.isArray(actual)) return actual.some((x) => matches(x, re));
  if (actual === undefined || actual === null) return false;
  return re.test(typeof actual === 'object' ? JSON.stringify(actual) : String(actual));
}

/** Which probes the checks read, so the engine reads them even when the panes do not show them. */
export function probesReadBy(checks: Check[]): { host: Set<ProbeKind>; container: Set<ProbeKind> } {
  const out = { host: new Set<ProbeKind>(), container: new Set<ProbeKind>() };
  for (const c of checks) {
    const [root, kind] = parseSubject(c.left);
    if ((root === 'host' || root === 'container') && typeof kind === 'string' && kind in PROBE_FIELDS) out[root].add(kind as ProbeKind);
  }
  return out;
}
