// Reads lessons/NN-slug.md files (the format is lessons/FORMAT.md) and
// validates them: every problem is a LessonError naming the file, the step and
// what is wrong, so an author can fix it without reading TypeScript.
import fs from 'node:fs';
import path from 'node:path';
import { PROBE_KINDS } from '../runtime/probe-kinds.js';
import { ACTIONS } from './actions.js';
import { parseCheck, subjectProblem } from './checks.js';
import { displayPath, LessonError } from './errors.js';
import { DEFAULT_LESSONS_DIR, lessonFileNames } from './lesson-files.js';
import { NEEDS, type Check, type Lesson, type Need, type ProbeKind, type Step } from './types.js';
import { parseValue, showValue, ValueError } from './values.js';
import { referenceProblem, referencesIn, stringsIn } from './variables.js';

export { LessonError };

export { DEFAULT_LESSONS_DIR, lessonFileNames };
/** Keys that may repeat; their values are text as written (never parsed as JSON). */
const REPEATABLE = new Set(['check', 'hint']);
const FRONT_MATTER_KEYS = ['id', 'title', 'summary', 'needs', 'slug'];

/** Every lesson in `dir`, sorted by id. Throws the first LessonError (see lintLessons for all of them). */
export function loadLessons(dir: string = DEFAULT_LESSONS_DIR): Lesson[] {
  const { lessons, errors } = lintLessons(dir);
  if (errors.length) throw errors[0];
  return lessons;
}

/** Loads every lesson in `dir` and collects every problem instead of stopping at the first. */
export function lintLessons(dir: string = DEFAULT_LESSONS_DIR): { lessons: Lesson[]; errors: LessonError[] } {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    throw new LessonError(dir, 'the lessons directory cannot be read: is containy-learn installed completely?');
  }
  const lessons: Lesson[] = [];
  const errors: LessonError[] = [];
  const byId = new Map<number, Lesson>();
  for (const name of lessonFileNames(names)) {
    try {
      const lesson = loadLesson(path.join(dir, name));
      const other = byId.get(lesson.id);
      if (other) throw new LessonError(lesson.file, `id ${lesson.id} is also the id of ${displayPath(other.file)}: give each lesson its own id`);
      byId.set(lesson.id, lesson);
      lessons.push(lesson);
    } catch (err) {
      if (!(err instanceof LessonError)) throw err;
      errors.push(err);
    }
  }
  return { lessons: lessons.sort((a, b) => a.id - b.id), errors };
}

export function loadLesson(file: string): Lesson {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LessonError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseLesson(text, path.resolve(file));
}

// ---- parsing ----

interface Section {
  title: string;
  /** 1-based line of the heading. */
  line: number;
  lines: Array<{ text: string; line: number }>;
}

export function parseLesson(text: string, file: string): Lesson {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const { meta, bodyStart } = parseFrontMatter(lines, file);

  const base = path.basename(file);
  const numbered = /^(\d+)-(.+)\.md$/.exec(base);
  if (numbered && Number(numbered[1]) !== meta.id) {
    throw new LessonError(file, `id ${meta.id} does not match the file name's number ${numbered[1]}: rename the file or change the id`, undefined, undefined, 2);
  }
  const slug = meta.slug ?? (numbered ? numbered[2] : base.replace(/\.md$/, ''));

  const { intro, sections } = splitSections(lines, bodyStart, file);
  if (sections.length === 0) throw new LessonError(file, 'no steps: each step starts with a "## " heading and holds a ```step block');

  const handles = new Set<string>();
  const steps = sections.map((section, index) => parseStep(section, index, file, handles));
  return { id: meta.id, slug, title: meta.title, summary: meta.summary, needs: meta.needs, intro, steps, file };
}

interface FrontMatter {
  id: number;
  title: string;
  summary: string;
  needs: Need[];
  slug?: string;
}

function parseFrontMatter(lines: string[], file: string): { meta: FrontMatter; bodyStart: number } {
  const usage = 'start the file with a front matter block: ---, then id: N, title: ..., summary: ..., then ---';
  if (lines[0]?.trim() !== '---') throw new LessonError(file, `no front matter: ${usage}`, undefined, undefined, 1);
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
  if (end < 0) throw new LessonError(file, `the front matter is not closed: ${usage}`, undefined, undefined, 1);
  const values: Record<string, unknown> = {};
  for (let i = 1; i < end; i++) {
    const line = lines[i];
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const kv = /^([A-Za-z][\w-]*)\s*:(.*)$/.exec(line);
    const fail = (problem: string): never => {
      throw new LessonError(file, `front matter: ${problem}`, undefined, undefined, i + 1);
    };
    if (!kv) fail(`expected "key: value", found ${JSON.stringify(line.trim())}`);
    const [, key, rawValue] = kv!;
    if (!FRONT_MATTER_KEYS.includes(key)) fail(`unknown key ${key}; keys are ${FRONT_MATTER_KEYS.join(', ')}`);
    if (key in values) fail(`${key} is given twice`);
    // A trailing "# comment" is allowed here (not in step blocks, where # belongs to shell commands).
    const raw = /^\s*["'[{]/.test(rawValue) ? rawValue : rawValue.replace(/\s+#.*$/, '');
    try {
      values[key] = parseValue(raw);
    } catch (err) {
      fail(`${key}: ${(err as Error).message}`);
    }
  }
  const at = (key: string) => lines.findIndex((l, i) => i > 0 && i < end && l.startsWith(`${key}:`)) + 1 || 1;
  const fail = (key: string, problem: string): never => {
    throw new LessonError(file, `front matter: ${problem}`, undefined, undefined, at(key));
  };
  const id = values.id;
  if (id === undefined) fail('id', 'id is missing: add "id: N", the lesson\'s number');
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) fail('id', `id must be a whole number, 0 or more, not ${showValue(id)}`);
  for (const key of ['title', 'summary']) {
    if (values[key] === undefined) fail(key, `${key} is missing: add "${key}: ..."`);
    if (typeof values[key] !== 'string' || !(values[key] as string).trim()) fail(key, `${key} must be text`);
  }
  if (values.slug !== undefined && (typeof values.slug !== 'string' || !/^[a-z0-9-]+$/.test(values.slug))) fail('slug', 'slug must be lowercase words joined by -');
  let needs: Need[] = [];
  if (values.needs !== undefined) {
    const problem = needsProblem(values.needs);
    if (problem) fail('needs', problem);
    needs = asList(values.needs) as Need[];
  }
  return {
    meta: { id: id as number, title: values.title as string, summary: values.summary as string, needs, slug: values.slug as string | undefined },
    bodyStart: end + 1,
  };
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

function needsProblem(v: unknown): string | undefined {
  const bad = asList(v).filter((n) => !NEEDS.includes(n as Need));
  return bad.length ? `needs: ${bad.map((b) => showValue(b)).join(', ')} is not one of ${NEEDS.join(', ')}` : undefined;
}

/** A command name as it appears on PATH: python3, sed, ip. */
const TOOL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

/** A step's `needs:` splits into machine features (root, overlay, cgroups) and commands the base rootfs must have. */
function stepNeeds(v: unknown): { needs: Need[]; tools: string[] } | string {
  const needs: Need[] = [];
  const tools: string[] = [];
  for (const n of asList(v)) {
    if (NEEDS.includes(n as Need)) needs.push(n as Need);
    else if (typeof n === 'string' && TOOL_NAME.test(n)) tools.push(n);
    else return `needs: ${showValue(n)} is neither one of ${NEEDS.join(', ')} nor a command name such as python3`;
  }
  return { needs, tools };
}

/** Splits the body at "## " headings that are not inside fenced code. */
function splitSections(lines: string[], start: number, file: string): { intro: string; sections: Section[] } {
  const introLines: string[] = [];
  const sections: Section[] = [];
  let fence: { char: string; length: number; line: number } | undefined;
  for (let i = start; i < lines.length; i++) {
    const text = lines[i];
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(text);
    if (fence) {
      if (marker && marker[1][0] === fence.char && marker[1].length >= fence.length && text.trim() === marker[1]) fence = undefined;
    } else if (marker) {
      fence = { char: marker[1][0], length: marker[1].length, line: i + 1 };
    } else if (/^## /.test(text)) {
      sections.push({ title: text.slice(3).trim(), line: i + 1, lines: [] });
      continue;
    }
    if (sections.length) sections[sections.length - 1].lines.push({ text, line: i + 1 });
    else introLines.push(text);
  }
  if (fence) {
    const step = sections.length ? sections.length : undefined;
    throw new LessonError(file, `a code block opened here with ${fence.char.repeat(fence.length)} is never closed`, step, sections.at(-1)?.title, fence.line);
  }
  return { intro: introLines.join('\n').trim(), sections };
}

/** The step block's lines, the prose around it, and its speaker notes (```notes blocks, never shown to the learner). */
function extractStepBlock(
  section: Section, fail: (problem: string, line?: number) => never,
): { block: Array<{ text: string; line: number }>; prose: string; notes: string } {
  const prose: string[] = [];
  const notes: string[] = [];
  let block: Array<{ text: string; line: number }> | undefined;
  let inBlock = false;
  let inNotes = false;
  let fence = '';
  let otherFence = '';
  for (const entry of section.lines) {
    const marker = /^ {0,3}(`{3,}|~{3,})\s*(\S*)\s*$/.exec(entry.text);
    if (inBlock) {
      if (marker && marker[1][0] === fence[0] && marker[1].length >= fence.length && !marker[2]) inBlock = false;
      else block!.push(entry);
      continue;
    }
    if (inNotes) {
      if (marker && marker[1][0] === fence[0] && marker[1].length >= fence.length && !marker[2]) inNotes = false;
      else notes.push(entry.text);
      continue;
    }
    if (otherFence) {
      if (marker && marker[1][0] === otherFence[0] && marker[1].length >= otherFence.length && !marker[2]) otherFence = '';
    } else if (marker && marker[2] === 'notes') {
      inNotes = true;
      fence = marker[1];
      continue;
    } else if (marker && marker[2] === 'step') {
      if (block) fail('has two ```step blocks: one step, one block (split it into two "## " steps)', entry.line);
      block = [];
      inBlock = true;
      fence = marker[1];
      continue;
    } else if (marker) {
      otherFence = marker[1];
    }
    prose.push(entry.text);
  }
  if (!block) fail('has no ```step block: add one with at least an action: and a check: line');
  if (inNotes) fail('has a ```notes block that is never closed');
  return { block: block!, prose: prose.join('\n').trim(), notes: notes.join('\n').trim() };
}

/** `key: value` lines; `key: |` takes the indented lines below it as text. */
interface Entry {
  key: string;
  value: unknown;
  /** The value as written, for a parameter that wants text where JSON read a number (command: true). */
  raw: string;
  line: number;
}

function readStepBlock(block: Array<{ text: string; line: number }>, fail: (problem: string, line?: number) => never): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i < block.length; i++) {
    const { text, line } = block[i];
    if (!text.trim() || text.trim().startsWith('#')) continue;
    const kv = /^([A-Za-z][\w-]*)\s*:(.*)$/.exec(text);
    if (!kv) fail(`expected "key: value" in the step block, found ${JSON.stringify(text.trim())}`, line);
    const [, key, raw] = kv!;
    if (raw.trim() === '|') {
      const body: string[] = [];
      while (i + 1 < block.length && (block[i + 1].text.trim() === '' || /^\s/.test(block[i + 1].text))) body.push(block[++i].text);
      while (body.length && !body[body.length - 1].trim()) body.pop();
      const indent = Math.min(...body.filter((b) => b.trim()).map((b) => /^\s*/.exec(b)![0].length));
      if (!body.length) fail(`${key}: | is followed by no indented lines`, line);
      const value = body.map((b) => b.slice(indent)).join('\n');
      entries.push({ key, value, raw: value, line });
      continue;
    }
    if (REPEATABLE.has(key)) {
      entries.push({ key, value: raw.trim(), raw: raw.trim(), line });
      continue;
    }
    try {
      entries.push({ key, value: parseValue(raw), raw: raw.trim(), line });
    } catch (err) {
      fail(`${key}: ${(err as Error).message}`, line);
    }
  }
  return entries;
}

function parseStep(section: Section, index: number, file: string, handles: Set<string>): Step {
  const fail = (problem: string, line = section.line): never => {
    throw new LessonError(file, problem, index + 1, section.title, line);
  };
  if (!section.title) fail('the "## " heading has no title');
  const { block, prose, notes } = extractStepBlock(section, fail);
  const entries = readStepBlock(block, fail);

  const params: Record<string, unknown> = {};
  const rawParams: Record<string, string> = {};
  const checks: Check[] = [];
  const hints: string[] = [];
  let actionName: string | undefined;
  let probes: ProbeKind[] = [];
  let needs: Need[] = [];
  let tools: string[] = [];
  let hostTools: string[] = [];
  const seen = new Map<string, number>();
  for (const { key, value, raw, line } of entries) {
    if (seen.has(key) && !REPEATABLE.has(key)) fail(`${key} is given twice (lines ${seen.get(key)} and ${line})`, line);
    seen.set(key, line);
    switch (key) {
      case 'action':
        if (typeof value !== 'string' || !ACTIONS[value]) {
          fail(`unknown action ${showValue(value)}; actions are ${Object.keys(ACTIONS).join(', ')}`, line);
        }
        actionName = value as string;
        break;
      case 'probes': {
        const bad = asList(value).filter((p) => !PROBE_KINDS.includes(p as ProbeKind));
        if (bad.length) fail(`unknown probe ${bad.map((b) => showValue(b)).join(', ')}; probes are ${PROBE_KINDS.join(', ')}`, line);
        probes = asList(value) as ProbeKind[];
        break;
      }
      case 'needs': {
        const split = stepNeeds(value);
        if (typeof split === 'string') fail(split, line);
        else ({ needs, tools } = split);
        break;
      }
      case 'needs-host': {
        const bad = asList(value).filter((n) => typeof n !== 'string' || !TOOL_NAME.test(n));
        if (bad.length || !asList(value).length) fail(`needs-host: ${bad.length ? `${bad.map((b) => showValue(b)).join(', ')} is not a command name` : 'is empty'}; list the commands the step runs on the host, e.g. [runc, strace]`, line);
        hostTools = asList(value) as string[];
        break;
      }
      case 'check':
        try {
          checks.push(parseCheck(value as string));
        } catch (err) {
          fail(`bad check: ${(err as Error).message}`, line);
        }
        break;
      case 'hint':
        if (!(value as string)) fail('hint: is empty', line);
        hints.push(value as string);
        break;
      default:
        params[key] = value;
        rawParams[key] = raw;
    }
  }
  if (!actionName) fail('has no action: add a line like "action: start" to the step block');
  const action = ACTIONS[actionName!];
  const paramLine = (key: string) => seen.get(key) ?? section.line;

  // The action's parameters: none unknown, none missing, each valid.
  for (const [key, value] of Object.entries(params)) {
    const spec = action.params[key];
    if (!spec) {
      const known = Object.keys(action.params);
      fail(`action ${actionName} has no parameter ${key}${known.length ? `; its parameters are ${known.join(', ')}` : ' (it takes none)'}`, paramLine(key));
    }
    const problem = spec.validate(value);
    // `command: true` or `hostname: 42` mean the text: JSON read a boolean or number.
    const scalar = typeof value === 'number' || typeof value === 'boolean' || value === null;
    if (problem && scalar && spec.validate(rawParams[key]) === undefined) params[key] = rawParams[key];
    else if (problem) fail(`${actionName}: ${key} ${problem}`, paramLine(key));
  }
  for (const [key, spec] of Object.entries(action.params)) {
    if (spec.required && params[key] === undefined) fail(`action ${actionName} needs ${key}: ${spec.describe}`);
  }
  const cross = action.crossCheck?.(params);
  if (cross) fail(`${actionName}: ${cross}`);
  // A tool is looked for in the base rootfs: a step on another root would be judged by the wrong tree.
  if (tools.length && params.rootfs !== undefined && params.rootfs !== 'base') {
    fail(`needs: ${tools.join(', ')} names commands of the base rootfs, but this step runs on rootfs: ${String(params.rootfs)}`, seen.get('needs'));
  }

  // ${...} may only name what an earlier step started.
  for (const [key, value] of Object.entries(params)) {
    for (const s of stringsIn(value)) {
      for (const ref of referencesIn(s)) {
        const problem = referenceProblem(ref, handles);
        if (problem) fail(problem, paramLine(key));
        const root = ref.split('.')[0];
        if ((root === 'container' || root === 'layers') && !handles.has('container')) {
          fail(`\${${ref}}: no earlier step starts the lesson's container (action: start)`, paramLine(key));
        }
      }
    }
  }
  const used = action.uses?.(params);
  if (used && !handles.has(used)) {
    fail(used === 'container'
      ? `${actionName} needs the lesson's container, but no earlier step starts it (action: start)`
      : `${actionName}: in: ${used} names nothing an earlier step started with as: ${used}`);
  }

  // A check may compare with what an earlier step kept: `stdout == ${runc.stdout}`.
  for (const c of checks) {
    for (const ref of typeof c.right === 'string' ? referencesIn(c.right) : []) {
      const problem = referenceProblem(ref, handles);
      if (problem) fail(`bad check: ${problem}`, lineOfCheck(block, c.text));
    }
  }
  const defined = action.defines?.(params);
  if (defined) handles.add(defined);
  if (checks.length === 0) fail('has no check: add a line like check: exit == 0 (what should be true after this step)');
  const named = new Set([...handles].filter((h) => h !== 'container'));
  for (const c of checks) {
    const problem = subjectProblem(c.left, named);
    if (problem) fail(`bad check: ${problem}`, lineOfCheck(block, c.text));
  }

  const allNeeds = [...new Set<Need>([...needs, ...action.needs(params)])];
  return {
    index,
    title: section.title,
    prose,
    action: { name: actionName!, params },
    probes,
    checks,
    hints,
    needs: allNeeds,
    tools,
    hostTools,
    ...(notes ? { notes } : {}),
    line: section.line,
  };
}

function lineOfCheck(block: Array<{ text: string; line: number }>, check: string): number | undefined {
  return block.find((b) => b.text.includes(check))?.line;
}

export { ValueError };
