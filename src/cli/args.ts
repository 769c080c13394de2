// A small option parser with docker's conventions: options come before the
// command, `--` ends them, `--opt=value` and `--opt value` both work.
import { UserError } from '../runtime/errors.js';

export interface OptionSpec {
  /** Long name without dashes, e.g. 'memory-swap'. */
  name: string;
  short?: string;
  /** Takes a value (else a boolean flag). */
  value?: boolean;
  /** May repeat (values collect into a list). */
  repeat?: boolean;
}

export interface Parsed {
  options: Map<string, string[]>;
  /** Positional arguments: everything from the first non-option (or after `--`). */
  rest: string[];
}

export function parseArgs(command: string, argv: string[], specs: OptionSpec[], opts: { stopAtPositional: boolean } = { stopAtPositional: true }): Parsed {
  const options = new Map<string, string[]>();
  const rest: string[] = [];
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (opts.stopAtPositional) {
        rest.push(...argv.slice(i));
        break;
      }
      rest.push(arg);
      i++;
      continue;
    }
    const [flag, inline] = arg.startsWith('--') ? splitOnce(arg.slice(2)) : [arg.slice(1), undefined];
    const spec = arg.startsWith('--') ? byLong.get(flag) : byShort.get(flag);
    if (!spec) throw new UserError(`${command}: unknown option '${arg}': see \`containy-learn ${command} --help\``);
    let value = 'true';
    if (spec.value) {
      if (inline !== undefined) value = inline;
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UserError(`${command}: option '--${spec.name}' needs a value: see \`containy-learn ${command} --help\``);
    } else if (inline !== undefined) {
      throw new UserError(`${command}: option '--${spec.name}' takes no value`);
    }
    const list = options.get(spec.name) ?? [];
    if (list.length && !spec.repeat) throw new UserError(`${command}: option '--${spec.name}' given twice`);
    options.set(spec.name, [...list, value]);
    i++;
  }
  return { options, rest };
}

function splitOnce(s: string): [string, string | undefined] {
  const eq = s.indexOf('=');
  return eq < 0 ? [s, undefined] : [s.slice(0, eq), s.slice(eq + 1)];
}

export const one = (p: Parsed, name: string): string | undefined => p.options.get(name)?.[0];
export const flag = (p: Parsed, name: string): boolean => p.options.has(name);
