// The programs the lessons run inside the base rootfs, derived from lessons/*.md,
// so the base (test/integration/rootfs.test.ts) and WANTED_COMMANDS
// (test/unit/rootfs.test.ts) are checked against what the lessons say today.
//
// A step's `command:` as text runs with `sh -c`, as a list it is the argv
// (lessons/FORMAT.md). The shell text is read as a POSIX shell would split it:
// the first word of each simple command after `|`, `;`, `&`, `&&`, `||`, a
// newline, `(`, `{`, `$(` or a backquote, and after the keywords that start a
// command list (`if`, `then`, `do`...). Assignments, redirections and here-doc
// bodies are skipped; `exec`, `command`, `env`... lead to the command they run;
// `sh -c '...'` is read again. A construct it does not understand (`case`,
// a command that is a variable) throws, naming it, rather than skipping a command.
import { displayPath } from '../../src/lessons/errors.js';
import type { Lesson } from '../../src/lessons/types.js';

export interface LessonCommand {
  /** lessons/NN-slug.md:LINE (the step's heading) */
  lesson: string;
  /** 1-based, as the TUI numbers steps. */
  step: number;
  title: string;
  /** A name looked up on the container's PATH, or a path such as /bin/busybox. */
  program: string;
}

/** Builtins that are not programs (`echo`, `[`, `kill`... are both: they stay, see WANTED_COMMANDS). */
const BUILTINS = new Set([
  '.', ':', 'alias', 'bg', 'break', 'cd', 'continue', 'eval', 'exit', 'export', 'fg', 'getopts', 'hash', 'jobs',
  'local', 'read', 'readonly', 'return', 'set', 'shift', 'source', 'times', 'trap', 'type', 'ulimit', 'umask',
  'unalias', 'unset', 'wait',
]);
/** Reserved words after which a command starts. */
const COMMAND_STARTERS = new Set(['if', 'then', 'else', 'elif', 'while', 'until', 'do', '!', '{', '}', 'fi', 'done']);
/** Run their first non-option, non-assignment argument as a command; the number is how many operands come before it. */
const WRAPPERS: Record<string, number> = { exec: 0, command: 0, env: 0, nice: 0, nohup: 0, setsid: 0, xargs: 0, timeout: 1, chroot: 1 };
const SHELLS = new Set(['sh', 'bash', 'ash', 'dash']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

interface Word {
  /** The word after quote removal. */
  text: string;
  /** It came from one quoted string (so `sh -c` reads it as a script). */
  quoted: boolean;
  /** An operator: `|`, `;`, `&&`, `(`, a newline... */
  op?: boolean;
  /** A redirection (`>`, `<<`, `2>`): the word after it is a file or a here-doc delimiter. */
  redirect?: string;
}

/** Index of the `)` closing the `$(` whose body starts at `i`, with quotes and nesting respected. */
function closingParen(s: string, i: number): number {
  let depth = 1;
  for (; i >= 0 && i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === "'") i = s.indexOf("'", i + 1);
    else if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw new Error(`unclosed $( in: ${s}`);
}

/** Splits shell text into words and operators; command substitutions are read into `inner`. */
function lex(script: string, inner: string[]): Word[] {
  const words: Word[] = [];
  const heredocs: string[] = [];
  let cur: Word | null = null;
  let redirect: string | null = null; // the operator waiting for its target word
  const end = () => {
    if (!cur) return;
    if (redirect) {
      cur.redirect = redirect;
      if (redirect.startsWith('<<')) heredocs.push(cur.text);
      redirect = null;
    }
    words.push(cur);
    cur = null;
  };
  const add = (text: string, quoted = false) => {
    if (!cur) cur = { text: '', quoted };
    else cur.quoted = false; // quoted and unquoted parts together: not one quoted string
    cur.text += text;
  };
  /** A `$(...)` or backquoted command starting at `i`; returns the index after it. */
  const substitution = (i: number): number => {
    const paren = script[i] === '$';
    const close = paren ? closingParen(script, i + 2) : script.indexOf('`', i + 1);
    if (close < 0) throw new Error(`unclosed \` in: ${script}`);
    inner.push(script.slice(paren ? i + 2 : i + 1, close));
    return close + 1;
  };
  let i = 0;
  while (i < script.length) {
    const c = script[i];
    const rest = script.slice(i);
    if (c === '\n') {
      end();
      words.push({ text: '\n', quoted: false, op: true });
      i++;
      // Here-doc bodies follow the line that opened them: skip each to its delimiter.
      for (const delim of heredocs.splice(0)) {
        const lines = script.slice(i).split('\n');
        const n = lines.findIndex((l) => l.replace(/^\t+/, '') === delim);
        if (n < 0) throw new Error(`here-doc ${delim} is not closed in: ${script}`);
        i += lines.slice(0, n + 1).join('\n').length + 1;
      }
    } else if (c === ' ' || c === '\t') {
      end();
      i++;
    } else if (c === '#' && !cur) {
      while (i < script.length && script[i] !== '\n') i++;
    } else if (c === '\\') {
      if (script[i + 1] !== '\n') add(script[i + 1] ?? '');
      i += 2;
    } else if (c === "'") {
      const close = script.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unclosed ' in: ${script}`);
      add(script.slice(i + 1, close), !cur);
      i = close + 1;
    } else if (c === '"') {
      let text = '';
      const alone = !cur;
      for (i++; i < script.length && script[i] !== '"'; ) {
        if (script[i] === '\\' && '"\\$`'.includes(script[i + 1])) {
          text += script[i + 1];
          i += 2;
        } else if ((script.startsWith('$(', i) && script[i + 2] !== '(') || script[i] === '`') {
          const after = substitution(i);
          text += script.slice(i, after);
          i = after;
        } else text += script[i++];
      }
      if (i >= script.length) throw new Error(`unclosed " in: ${script}`);
      add(text, alone);
      i++;
    } else if (rest.startsWith('$((')) {
      const close = script.indexOf('))', i);
      add(script.slice(i, close + 2));
      i = close + 2;
    } else if (rest.startsWith('$(') || c === '`') {
      const after = substitution(i);
      add(script.slice(i, after));
      i = after;
    } else if (/^(<<-?|>>|>&|<&|>\||<>|[<>])/.test(rest)) {
      const op = /^(<<-?|>>|>&|<&|>\||<>|[<>])/.exec(rest)![1];
      if (cur && /^\d+$/.test(cur.text)) cur = null; // `2>`: the descriptor belongs to the redirection
      end();
      redirect = op;
      i += op.length;
    } else if (/^(&&|\|\||;;|[|;&()])/.test(rest)) {
      const op = /^(&&|\|\||;;|[|;&()])/.exec(rest)![1];
      end();
      words.push({ text: op, quoted: false, op: true });
      i += op.length;
    } else {
      add(c);
      i++;
    }
  }
  end();
  return words;
}

/** The programs a shell script runs, in order of appearance (duplicates kept once). */
export function programsOfScript(script: string): string[] {
  const inner: string[] = [];
  const words = lex(script, inner);
  const found: string[] = [];
  let atCommand = true;
  let wrapped: { operands: number } | null = null;
  let shellArgs: boolean = false;
  let forLoop = false;
  for (let k = 0; k < words.length; k++) {
    const w = words[k];
    if (w.redirect) continue;
    if (w.op) {
      atCommand = true;
      wrapped = null;
      shellArgs = false;
      if (w.text === '\n' || w.text === ';') forLoop = false;
      continue;
    }
    if (forLoop) continue; // `for ns in a b c`: names and words, no command
    if (shellArgs) {
      if (w.text === '-c' && words[k + 1] && !words[k + 1].op) found.push(...programsOfScript(words[++k].text));
      continue;
    }
    if (wrapped) {
      if (w.text.startsWith('-') || ASSIGNMENT.test(w.text)) continue;
      if (wrapped.operands > 0) {
        wrapped.operands--;
        continue;
      }
      wrapped = null;
      atCommand = true;
    }
    if (!atCommand) continue;
    if (COMMAND_STARTERS.has(w.text) && !w.quoted) continue;
    if (w.text === 'for' && !w.quoted) {
      forLoop = true;
      continue;
    }
    if ((w.text === 'case' || w.text === 'select' || w.text === 'function') && !w.quoted) {
      throw new Error(`\`${w.text}\` is not understood here: extend test/unit/lesson-commands.ts`);
    }
    if (ASSIGNMENT.test(w.text)) continue;
    if (w.text.startsWith('$')) throw new Error(`the command \`${w.text}\` is a variable: no program can be derived from it`);
    atCommand = false;
    if (w.text in WRAPPERS) {
      if (!BUILTINS.has(w.text) && w.text !== 'exec' && w.text !== 'command') found.push(w.text);
      wrapped = { operands: WRAPPERS[w.text] };
      continue;
    }
    if (BUILTINS.has(w.text)) continue;
    found.push(w.text);
    if (SHELLS.has(w.text.split('/').pop()!)) shellArgs = true;
  }
  for (const sub of inner) found.push(...programsOfScript(sub));
  return [...new Set(found)];
}

/** The programs an argv runs: its first word, and a shell's `-c` script. */
export function programsOfCommand(command: unknown): string[] {
  if (typeof command === 'string') return ['sh', ...programsOfScript(command).filter((p) => p !== 'sh')];
  if (!Array.isArray(command) || typeof command[0] !== 'string') return [];
  const argv = command as string[];
  const script = SHELLS.has(argv[0].split('/').pop()!) ? argv[argv.indexOf('-c') + 1] : undefined;
  return [...new Set([argv[0], ...(argv.includes('-c') && script !== undefined ? programsOfScript(script) : [])])];
}

/**
 * What each step runs in the base rootfs: `start` and `run` with the default
 * `rootfs: base`, and `exec` in a container one of those started. `rootfs: host`
 * or a work-directory tree, `chroot`, `host-process` and `copy-binary` run the
 * host's files or a jail's, not the base's.
 */
export function commandsRunInBase(lessons: Lesson[]): LessonCommand[] {
  const out: LessonCommand[] = [];
  for (const lesson of lessons) {
    const inBase = new Map<string, boolean>(); // container handle ('' = the lesson's) -> started from the base
    for (const step of lesson.steps) {
      const { name, params } = step.action;
      let command: unknown;
      if (name === 'start' || name === 'run') {
        const base = params.rootfs === undefined || params.rootfs === 'base';
        if (name === 'start') inBase.set((params.as as string | undefined) ?? '', base);
        if (!base) continue;
        // actions.ts: a start without a command runs `sleep infinity`.
        command = params.command ?? (name === 'start' ? ['sleep', 'infinity'] : undefined);
      } else if (name === 'exec') {
        if (inBase.get((params.in as string | undefined) ?? '') === false) continue;
        command = params.command;
      } else continue;
      const where = `${displayPath(lesson.file)}:${step.line}`;
      let programs: string[];
      try {
        programs = programsOfCommand(command);
      } catch (err) {
        throw new Error(`${where}, step ${step.index + 1} "${step.title}": ${(err as Error).message}`);
      }
      for (const program of programs) out.push({ lesson: where, step: step.index + 1, title: step.title, program });
    }
  }
  return out;
}

/** `lessons/00-what-is-a-container.md:52, step 3 "Its own hostname": sed`, a line each. */
export function describeMissing(missing: LessonCommand[]): string {
  return missing.map((m) => `${m.lesson}, step ${m.step} "${m.title}": ${m.program}`).join('\n');
}
