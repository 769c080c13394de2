// The menu's first frame loads neither koffi nor the container runtime (they
// load when a lesson opens), nor the lesson loader (it reads the build's copy). The built CLI draws the menu on a pty (script(1)),
// stops after its first frame (CONTAINY_FIRST_FRAME_MARK=exit), and a preload
// writes down every module it loaded; a runtime module or koffi among them
// fails the test with the chain of imports that brought it in.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'containy-learn.js');
const PRELOAD = fileURLToPath(new URL('./module-log.mjs', import.meta.url));
const BUNDLE = path.join(ROOT, 'dist', 'tui', 'workshop.cjs');
const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('first-frame-imports: script(1) is not installed (apt-get install bsdutils): the menu needs a pty, not tested');

/** Loaded modules that must wait for a lesson: koffi (and its addon), and the runtime's door and its container. */
const LESSON_ONLY = [/[\\/]node_modules[\\/](koffi|@koromix)[\\/]/, /[\\/]dist[\\/]runtime[\\/](index|container|libc|(start[\\/])?stage-process)\.js$/];

interface ModuleLog {
  /** Every module loaded, as a file path. */
  loaded: Set<string>;
  /** Who imported each module first (for the chain in a failure). */
  parentOf: Map<string, string>;
}

function readLog(file: string): ModuleLog {
  const asPath = (url: string) => (url.startsWith('file:') ? fileURLToPath(url) : url);
  const loaded = new Set<string>();
  const parentOf = new Map<string, string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [parent, url] = line.split(' -> ');
    const module = asPath(url);
    loaded.add(module);
    if (!parentOf.has(module)) parentOf.set(module, asPath(parent));
  }
  return { loaded, parentOf };
}

function chain(log: ModuleLog, module: string): string {
  const links = [module];
  for (let at = module; log.parentOf.has(at) && links.length < 30; ) {
    at = log.parentOf.get(at)!;
    links.unshift(at);
  }
  return links.map((m) => path.relative(ROOT, m) || m).join(' -> ');
}

describe.skipIf(!hasScript)("the menu's first frame", () => {
  let dir: string;
  let log: ModuleLog;
  let run: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    expect(fs.existsSync(BUNDLE), 'dist/tui/workshop.cjs is missing: run `npm run build` first').toBe(true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-first-frame-'));
    const logFile = path.join(dir, 'modules.log');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      TERM: 'xterm-256color',
      CONTAINY_FIRST_FRAME_MARK: 'exit',
      CONTAINY_PROGRESS_FILE: path.join(dir, 'progress.json'),
      CONTAINY_STATE_DIR: path.join(dir, 'state'),
      CONTAINY_MODULE_LOG: logFile,
    };
    const command = ['exec', 'env', ...Object.entries(env).map(([k, v]) => `${k}='${v}'`), process.execPath, '--import', PRELOAD, CLI].join(' ');
    run = spawnSync('script', ['--quiet', '--return', '--command', command, '/dev/null'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, SHELL: '/bin/sh' } });
    log = readLog(logFile);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is drawn, from the bundle, and the log saw it (else the check below would prove nothing)', () => {
    expect(run.status, String(run.stdout).slice(-500)).toBe(0);
    expect(String(run.stdout)).toMatch(/containy-learn first-frame-ms \d/);
    // The bundle runs as a script (no module load to log): its loader, and what the bundle imported through it.
    expect(log.loaded).toContain(path.join(ROOT, 'dist', 'tui', 'bundle-loader.js'));
    expect(log.loaded).toContain(path.join(ROOT, 'dist', 'lessons', 'lesson-cache.js'));
  });

  it('reads the lessons from the build\'s copy, without the loader', () => {
    expect(log.loaded).not.toContain(path.join(ROOT, 'dist', 'lessons', 'loader.js'));
  });

  it('loads neither koffi nor the container runtime', () => {
    const early = [...log.loaded].filter((m) => LESSON_ONLY.some((re) => re.test(m)));
    expect(early.map((m) => chain(log, m))).toEqual([]);
  });
});
