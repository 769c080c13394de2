// `${...}` in a step's string parameters, filled in when the step runs:
//   ${workdir}                      the lesson's work directory on the host
//   ${container.pid} ${container.name}   the lesson's container
//   ${layers.upper} ${layers.lower} ${layers.work} ${layers.merged}   its overlay directories
//   ${container.address}            its address on the bridge (network: bridge)
//   ${victim.pid} ${second.upper} ...    what a step started with `as: victim`
//   ${runc.stdout} ${runc.exit} ...      what a one-shot step kept with `as: runc` (host-run), for checks
// Only ${workdir} and ${name.field} are ours: a shell's ${HOME} or ${i} passes through untouched
// (a shell variable cannot contain a dot).
import type { Step } from './types.js';
import { ValueError } from './values.js';

const REFERENCE = /\$\{(workdir|[A-Za-z_][\w-]*\.[A-Za-z_]\w*)\}/g;
export const CONTAINER_FIELDS = ['pid', 'name', 'address', 'upper', 'lower', 'work', 'merged'];
const LAYER_FIELDS = ['upper', 'lower', 'work', 'merged'];
/** What a one-shot kept with `as:` (host-run) gives: its output and exit status. */
export const RESULT_FIELDS = ['stdout', 'stderr', 'output', 'exit'];

export function referencesIn(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((m) => m[1]);
}

/** Every string inside a parameter value (lists and maps included). */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

/** Every reference a step makes: in its parameters, and in its checks' values (`stdout == ${runc.stdout}`). */
export function stepReferences(step: Pick<Step, 'action' | 'checks'>): string[] {
  return [...stringsIn(step.action.params), ...step.checks.map((c) => c.right)].flatMap((v) => (typeof v === 'string' ? referencesIn(v) : []));
}

/** Why a reference cannot be filled in, given the names earlier steps defined with `as:`; undefined when fine. */
export function referenceProblem(ref: string, handles: ReadonlySet<string>): string | undefined {
  if (ref === 'workdir') return undefined;
  const [root, field] = ref.split('.');
  if (root === 'layers') {
    return LAYER_FIELDS.includes(field) ? undefined : `\${${ref}}: layers has ${LAYER_FIELDS.map((f) => `\${layers.${f}}`).join(', ')}`;
  }
  if (root === 'container' || handles.has(root)) {
    const fields = root === 'container' ? CONTAINER_FIELDS : [...CONTAINER_FIELDS, ...RESULT_FIELDS];
    return fields.includes(field) ? undefined : `\${${ref}}: ${root} has ${fields.map((f) => `\${${root}.${f}}`).join(', ')}`;
  }
  const others = [...handles].filter((h) => h !== 'container');
  const named = others.length ? ` or a name an earlier step gave with as: (${others.join(', ')})` : '';
  return `\${${ref}}: unknown variable; use \${workdir}, \${container.pid}, \${container.name}, \${layers.upper}${named}`;
}

/** Fill in references with `lookup`, which returns the value or throws ValueError saying why it has none. */
export function substitute<T>(value: T, lookup: (ref: string) => string): T {
  if (typeof value === 'string') return value.replace(REFERENCE, (_, ref: string) => lookup(ref)) as T;
  if (Array.isArray(value)) return value.map((v) => substitute(v, lookup)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, lookup)])) as T;
  }
  return value;
}

export { ValueError };
