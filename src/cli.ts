// The command line: parses, dispatches, and turns every outcome into a
// docker-like exit code. Heavy modules (the TUI, the lesson engine, the
// container runtime and koffi) load only for the commands that need them, so
// `run` starts fast and the menu draws before any of the runtime loads.
import fs from 'node:fs';
import path from 'node:path';
import { HELP } from './cli/help.js';
import { parseArgs, one, type OptionSpec, type Parsed } from './cli/args.js';
import { BugError, EXIT, UserError, describeError, signalStatus } from './runtime/errors.js';
import { PACKAGE_ROOT } from './runtime/paths.js';
import { ProcessSignals } from './cli/signals.js';

/** The container runtime, once a command or an opened lesson has loaded it; until then nothing of ours runs. */
let runtime: typeof import('./runtime/index.js') | undefined;
async function loadRuntime(): Promise<void> {
  runtime ??= await import('./runtime/index.js');
}
const killAllSync = (): void => runtime?.killAllSync();
const stopAll = async (): Promise<void> => runtime?.stopAll();

/** SIGINT, SIGTERM, SIGHUP: one owner for the process; commands get an AbortSignal or a forwarder from it. */
const signals = new ProcessSignals((signal) => void stopAll().finally(() => exitProcess(signalStatus(signal))));

function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function parseLessonNumber(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new UserError(`${what}: give a lesson number, e.g. \`containy-learn lesson 4\` (see \`containy-learn list\`)`);
  return Number(text);
}

const LESSON_OPTIONS: OptionSpec[] = [{ name: 'step', value: true }, { name: 'record', value: true }];
const WORKSHOP_OPTIONS: OptionSpec[] = [{ name: 'record', value: true }];

/** `--record FILE.cast`, opened (created or emptied) before anything starts: a path that cannot be written is a bad flag. */
function recordFd(p: Parsed, command: string): number | undefined {
  const file = one(p, 'record');
  if (file === undefined) return undefined;
  try {
    return fs.openSync(file, 'w');
  } catch (err) {
    throw new UserError(`${command} --record: cannot write ${file} (${(err as NodeJS.ErrnoException).code}): give a file in a directory you can write, e.g. --record demo.cast`);
  }
}

async function lessonCommand(argv: string[]): Promise<number> {
  const p = parseArgs('lesson', argv, LESSON_OPTIONS, { stopAtPositional: false });
  if (p.rest.length !== 1) throw new UserError('lesson: give one lesson number, e.g. `containy-learn lesson 4`');
  const lesson = parseLessonNumber(p.rest[0], 'lesson');
  const stepText = one(p, 'step');
  const step = stepText === undefined ? undefined : parseLessonNumber(stepText, 'lesson --step');
  if (!process.stdout.isTTY) {
    const { printLessonPlain } = await import('./lessons/plain.js');
    return printLessonPlain(lesson, process.stdout);
  }
  return openWorkshop({ lesson, step, recordFd: recordFd(p, 'lesson') });
}

async function openWorkshop(opts: { lesson?: number; step?: number; recordFd?: number }): Promise<number> {
  // The build bundles the workshop (its code, Ink and React) into one script, run with V8's code cache of
  // what the first frame ran (tui/bundle-loader.ts); tests, and a tsc-only build, import the modules.
  // Yoga's WebAssembly compiles while the base rootfs is checked: the menu does not wait for the two in turn.
  const { loadWorkshopBundle } = await import('./tui/bundle-loader.js');
  const bundle = loadWorkshopBundle<typeof import('./tui/index.js') & { yogaReady: Promise<void> }>();
  const workshop = bundle ? bundle.exports.yogaReady.then(() => bundle.exports) : import('./tui/index.js');
  workshop.catch(() => {}); // awaited below; a failed build of the rootfs must not leave it unhandled
  if (process.getuid?.() === 0) {
    const { ensureBaseRootfs } = await import('./cli/rootfs.js');
    await ensureBaseRootfs();
  }
  const { runWorkshop, openLessonSession } = await workshop;
  return runWorkshop(
    { ...opts, signal: signals.handDown() },
    {
      openSession: async (lesson) => {
        await loadRuntime();
        return openLessonSession(lesson);
      },
      onFirstFrame: bundle?.saveCodeCache,
    },
  );
}

type Command = (argv: string[]) => Promise<number>;

/** A command that may start or remove containers: the runtime is loaded first, so that the way out can stop them. */
const withRuntime =
  (command: Command): Command =>
  async (argv) => {
    await loadRuntime();
    return command(argv);
  };

const COMMANDS: Record<string, Command> = {
  run: withRuntime(async (argv) => (await import('./cli/run.js')).runCommand(argv, signals)),
  exec: withRuntime(async (argv) => (await import('./cli/run.js')).execCommand(argv, signals)),
  rootfs: async (argv) => (await import('./cli/rootfs.js')).rootfsCommand(argv),
  image: async (argv) => (await import('./cli/image.js')).imageCommand(argv),
  spec: async (argv) => (await import('./cli/oci.js')).specCommand(argv),
  export: async (argv) => (await import('./cli/oci.js')).exportCommand(argv),
  cleanup: withRuntime(async (argv) => (await import('./cli/manage.js')).cleanupCommand(argv)),
  ps: withRuntime(async (argv) => (await import('./cli/manage.js')).psCommand(argv)),
  rm: withRuntime(async (argv) => (await import('./cli/manage.js')).rmCommand(argv)),
  lesson: lessonCommand,
  lessons: async (argv) => (await import('./cli/lessons.js')).lessonsCommand(argv),
  list: async (argv) => {
    if (argv.length) throw new UserError(`list: unexpected '${argv[0]}'`);
    const { printLessonListPlain } = await import('./lessons/plain.js');
    return printLessonListPlain(process.stdout);
  },
  'check-all': withRuntime(async (argv) => {
    const p = parseArgs('check-all', argv, [{ name: 'lesson', value: true }, { name: 'jumps' }, { name: 'except', value: true, repeat: true }]);
    if (p.rest.length) throw new UserError(`check-all: unexpected '${p.rest[0]}'`);
    const lessonText = one(p, 'lesson');
    const except = (p.options.get('except') ?? []).map((n) => parseLessonNumber(n, 'check-all --except'));
    const { checkAll } = await import('./lessons/check-all.js');
    return checkAll({
      lesson: lessonText === undefined ? undefined : parseLessonNumber(lessonText, 'check-all --lesson'),
      out: process.stdout,
      color: process.stdout.isTTY === true && !process.env.NO_COLOR,
      signal: signals.handDown(),
      jumps: p.options.has('jumps'),
      except,
    });
  }),
};

async function dispatch(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) return openWorkshop({});
  if (first === '--record' || first.startsWith('--record=')) {
    const p = parseArgs('containy-learn', argv, WORKSHOP_OPTIONS);
    if (p.rest.length) throw new UserError(`--record records the workshop (its menu); for a lesson put it after the lesson: \`containy-learn lesson N --record FILE.cast\``);
    return openWorkshop({ recordFd: recordFd(p, 'containy-learn') });
  }
  if (first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    process.stdout.write((topic && HELP[topic] ? HELP[topic] : HELP.main) + '\n');
    return 0;
  }
  if (first === '-V' || first === '--version' || first === 'version') {
    process.stdout.write(`containy-learn ${version()}\n`);
    return 0;
  }
  const command = COMMANDS[first];
  if (!command) throw new UserError(`unknown command '${first}': see \`containy-learn --help\``);
  // --help anywhere before `--` asks for the command's help, not the command.
  const beforeDashes = rest.indexOf('--') < 0 ? rest : rest.slice(0, rest.indexOf('--'));
  const firstPositional = beforeDashes.findIndex((a) => !a.startsWith('-'));
  const options = first === 'run' || first === 'exec' ? beforeDashes.slice(0, firstPositional < 0 ? undefined : firstPositional) : beforeDashes;
  if (options.includes('--help') || options.includes('-h')) {
    process.stdout.write(HELP[first] + '\n');
    return 0;
  }
  return command(rest);
}

/** Run the CLI; resolves to the exit code. Containers started here never outlive it. */
export async function main(argv: string[]): Promise<number> {
  // Whatever happens, nothing we started may survive us (a kill -9 is for `cleanup`).
  process.on('exit', killAllSync);
  process.on('uncaughtException', (err) => {
    printError(new BugError(`uncaught: ${err.message}`, { cause: err }));
    killAllSync();
    process.exit(EXIT.RUNTIME);
  });
  signals.install();
  try {
    return await dispatch(argv);
  } catch (err) {
    return printError(err);
  }
}

/**
 * What to print for an error that reached the CLI, and the exit code. A user's
 * mistake (UserError) or a refused syscall is one sentence, no stack; a bug
 * says so, with the stack under CONTAINY_DEBUG=1.
 */
export function formatError(err: unknown, debug: boolean): { text: string; exitCode: number } {
  if (err instanceof BugError) {
    const text = `containy-learn: this is a bug in containy-learn: ${err.message}${debug ? `\n${stackOf(err)}` : ' (run with CONTAINY_DEBUG=1 for the stack)'}\n`;
    return { text, exitCode: EXIT.RUNTIME };
  }
  const stack = debug && err instanceof Error && !(err instanceof UserError) ? `${err.stack}\n` : '';
  return { text: `containy-learn: ${describeError(err)}\n${stack}`, exitCode: err instanceof UserError ? err.exitCode : EXIT.RUNTIME };
}

function printError(err: unknown): number {
  const { text, exitCode } = formatError(err, Boolean(process.env.CONTAINY_DEBUG));
  process.stderr.write(text);
  return exitCode;
}

/** The stack of a bug, and of what caused it. */
function stackOf(err: Error): string {
  const cause = err.cause instanceof Error ? `\ncaused by: ${err.cause.stack}` : '';
  return `${err.stack}${cause}`;
}

/**
 * Leave with `code`, nothing of ours left running. After SIGHUP the terminal is
 * gone, and Node 20's process.exit aborts while restoring it: die of the signal
 * instead, which the shell reports as the same 129.
 */
export function exitProcess(code: number): never {
  killAllSync();
  if (code === signalStatus('SIGHUP')) {
    signals.uninstall();
    process.removeAllListeners('SIGHUP');
    process.kill(process.pid, 'SIGHUP');
  }
  process.exit(code);
}
