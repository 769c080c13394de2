// Which earlier steps a step depends on, read from the lesson itself (no
// hand-kept list): a step that uses a container or process (`in:`, `exec`,
// `${victim.pid}`, `${layers.upper}`, a check on `victim.alive`) needs the
// step that started it and every step since that acted on it (lesson 5's
// step 5 counts the forks step 4 made in the lesson's container); a step that
// names a work-directory path (`root: jail`) or a named container (`name:`)
// needs the earlier steps that named the same. A jump into a step runs these
// first (engine.ts).
import { ACTIONS } from './actions.js';
import { parseSubject } from './checks.js';
import { MAIN, workdirPath } from './params.js';
import type { Lesson, Step } from './types.js';
import { stepReferences, stringsIn } from './variables.js';

interface Touches {
  /** The handle it starts (start, host-process). */
  defines?: string;
  /** Handles it acts on or reads. */
  uses: Set<string>;
  /** Work-directory paths (their first component) and named containers it makes or reads. */
  things: Set<string>;
}

function touches(step: Step, handles: ReadonlySet<string>): Touches {
  const def = ACTIONS[step.action.name];
  const params = step.action.params;
  const uses = new Set<string>();
  const used = def.uses?.(params);
  if (used) uses.add(used);
  // `${victim.pid}` in a parameter, `${runc.stdout}` in a check's value.
  for (const ref of stepReferences(step)) {
    if (ref === 'workdir') continue;
    const root = ref.split('.')[0];
    uses.add(root === 'layers' ? MAIN : root);
  }
  const defines = def.defines?.(params);
  for (const check of step.checks) {
    const root = String(parseSubject(check.left)[0]);
    // `running` and `container.*` read the lesson's container, unless this step starts it.
    const handle = root === 'running' ? MAIN : root;
    if (handles.has(handle) && handle !== defines) uses.add(handle);
  }
  const things = new Set<string>();
  // `${workdir}/secret.txt` in a command names the file another step wrote.
  for (const m of stringsIn(params).flatMap((t) => [...t.matchAll(/\$\{workdir\}\/([^/\s"'`;)]+)/g)])) things.add(`path:${m[1]}`);
  for (const [key, spec] of Object.entries(def.params)) {
    const value = params[key] ?? spec.default;
    if (typeof value !== 'string' || value.startsWith('${')) continue;
    if (key === 'name') things.add(`name:${value}`);
    else if (spec.validate === workdirPath || (key === 'rootfs' && value !== 'base' && value !== 'host')) things.add(`path:${value.split('/')[0]}`);
  }
  return { ...(defines ? { defines } : {}), uses, things };
}

/** The 0-based indices of the earlier steps step `index` depends on, directly or through them, in order. */
export function dependencies(lesson: Lesson, index: number): number[] {
  const handles = new Set(lesson.steps.flatMap((s) => ACTIONS[s.action.name].defines?.(s.action.params) ?? []));
  const all = lesson.steps.map((s) => touches(s, handles));
  const needed = new Set<number>();
  const visit = (at: number): void => {
    const t = all[at];
    for (const handle of t.uses) {
      let starter = -1;
      for (let i = at - 1; i >= 0; i--) {
        if (all[i].defines === handle) {
          starter = i;
          break;
        }
      }
      if (starter < 0) continue;
      for (let i = starter; i < at; i++) {
        if ((i === starter || all[i].uses.has(handle)) && !needed.has(i)) {
          needed.add(i);
          visit(i);
        }
      }
    }
    for (const thing of t.things) {
      for (let i = 0; i < at; i++) {
        if (all[i].things.has(thing) && !needed.has(i)) {
          needed.add(i);
          visit(i);
        }
      }
    }
  };
  visit(index);
  return [...needed].sort((a, b) => a - b);
}
