// Where each learner is in each lesson, kept in their own config directory.
// Under sudo the learner is SUDO_USER, not root: the file goes to their home
// and is owned by them, so a later run without sudo reads (and updates) it.
// This is the UI's own state, so plain fs is fine here (no kernel features).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LessonProgress {
  /** 0-based step the learner was on when they last left the lesson. */
  step: number;
  /** 0-based steps that have passed their checks at least once. */
  passed: number[];
  /** Every step has passed. */
  done: boolean;
}

export interface ProgressData {
  version: 1;
  /** Slug of the lesson opened last: the menu starts there. */
  lastLesson?: string;
  /** By lesson slug (stable when lessons are renumbered). */
  lessons: Record<string, LessonProgress>;
}

export interface ProgressLocation {
  file: string;
  /** Set under sudo: who must own what we create. */
  owner?: { uid: number; gid: number; user: string };
}

export interface LocateEnv {
  env: NodeJS.ProcessEnv;
  uid: number;
  /** Text of /etc/passwd (injected by tests). */
  passwd: () => string;
  /** The current user's home when not under sudo. */
  ownHome: () => string;
}

function defaultLocateEnv(): LocateEnv {
  return {
    env: process.env,
    uid: process.getuid?.() ?? -1,
    passwd: () => fs.readFileSync('/etc/passwd', 'utf8'),
    // os.homedir() honours $HOME first, falling back to the passwd entry.
    ownHome: () => os.homedir() || os.userInfo().homedir,
  };
}

/** `name:x:uid:gid:gecos:home:shell` lines; finds by name first, then by uid. */
export function passwdHome(passwd: string, user: string | undefined, uid: number): string | undefined {
  const entries = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 7);
  const byName = user ? entries.find((fields) => fields[0] === user) : undefined;
  const entry = byName ?? entries.find((fields) => Number(fields[2]) === uid);
  return entry?.[5] || undefined;
}

const FILE_IN_CONFIG = path.join('containy-learn', 'progress.json');

/**
 * Where progress lives. Root under sudo: SUDO_USER's ~/.config (home from
 * /etc/passwd), to be owned by SUDO_UID:SUDO_GID. Anyone else:
 * $XDG_CONFIG_HOME or ~/.config. CONTAINY_PROGRESS_FILE overrides (tests).
 */
export function locateProgress(ctx: LocateEnv = defaultLocateEnv()): ProgressLocation {
  const { env } = ctx;
  const sudoUid = env.SUDO_UID !== undefined && /^\d+$/.test(env.SUDO_UID) ? Number(env.SUDO_UID) : undefined;
  const underSudo = ctx.uid === 0 && sudoUid !== undefined && sudoUid !== 0;
  const owner = underSudo
    ? {
        uid: sudoUid,
        gid: env.SUDO_GID !== undefined && /^\d+$/.test(env.SUDO_GID) ? Number(env.SUDO_GID) : sudoUid,
        user: env.SUDO_USER ?? String(sudoUid),
      }
    : undefined;

  if (env.CONTAINY_PROGRESS_FILE) return { file: path.resolve(env.CONTAINY_PROGRESS_FILE), owner };

  if (owner) {
    let home: string | undefined;
    try {
      home = passwdHome(ctx.passwd(), env.SUDO_USER, owner.uid);
    } catch {
      home = undefined;
    }
    // A user missing from /etc/passwd (LDAP, sssd): their home is not knowable without
    // NSS; keep root's own file rather than guess a directory.
    if (home) return { file: path.join(home, '.config', FILE_IN_CONFIG), owner };
    return { file: path.join(ctx.ownHome(), '.config', FILE_IN_CONFIG) };
  }
  const configHome = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(ctx.ownHome(), '.config');
  return { file: path.join(configHome, FILE_IN_CONFIG) };
}

function emptyData(): ProgressData {
  return { version: 1, lessons: {} };
}

function parseData(text: string): ProgressData {
  const raw = JSON.parse(text) as Partial<ProgressData>;
  const data = emptyData();
  if (typeof raw.lastLesson === 'string') data.lastLesson = raw.lastLesson;
  for (const [slug, entry] of Object.entries(raw.lessons ?? {})) {
    if (!entry || typeof entry !== 'object') continue;
    const step = Number.isInteger(entry.step) && entry.step >= 0 ? entry.step : 0;
    const passed = Array.isArray(entry.passed) ? entry.passed.filter((n): n is number => Number.isInteger(n) && n >= 0) : [];
    data.lessons[slug] = { step, passed: [...new Set(passed)].sort((a, b) => a - b), done: entry.done === true };
  }
  return data;
}

/** Creates the missing directories down to `dir`, giving each new one to `owner`. */
function makeOwnedDirs(dir: string, owner: ProgressLocation['owner']): void {
  const firstCreated = fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (!firstCreated || !owner) return;
  // mkdirSync returns the top-most directory it made; chown it and everything below it.
  let current = dir;
  const made: string[] = [];
  while (current.length >= firstCreated.length) {
    made.push(current);
    if (current === firstCreated) break;
    current = path.dirname(current);
  }
  for (const madeDir of made) fs.lchownSync(madeDir, owner.uid, owner.gid);
}

export class ProgressStore {
  private data: ProgressData;
  /** Why the file could not be read or written, for the UI to mention once. */
  problem?: string;

  constructor(readonly location: ProgressLocation, initial?: ProgressData) {
    this.data = initial ?? emptyData();
  }

  /** Reads the learner's file; a missing file is a fresh start, an unreadable one is reported and ignored. */
  static open(location: ProgressLocation = locateProgress()): ProgressStore {
    const store = new ProgressStore(location);
    try {
      store.data = parseData(fs.readFileSync(location.file, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') store.problem = `progress in ${location.file} could not be read (${code ?? (error as Error).message}); starting fresh`;
    }
    return store;
  }

  get lastLesson(): string | undefined {
    return this.data.lastLesson;
  }

  lesson(slug: string): LessonProgress | undefined {
    const entry = this.data.lessons[slug];
    return entry && { ...entry, passed: [...entry.passed] };
  }

  status(slug: string): 'not started' | 'in progress' | 'done' {
    const entry = this.data.lessons[slug];
    if (!entry) return 'not started';
    return entry.done ? 'done' : 'in progress';
  }

  /** The learner is now on `step` of this lesson. */
  visit(slug: string, step: number): void {
    const known = this.data.lessons[slug];
    if (known && known.step === step && this.data.lastLesson === slug) return;
    this.data.lessons[slug] = { ...(known ?? { passed: [], done: false }), step };
    this.data.lastLesson = slug;
    this.save();
  }

  /** A step's checks passed; the lesson is done once all `stepCount` have. */
  passed(slug: string, step: number, stepCount: number): void {
    const entry = this.data.lessons[slug] ?? { step, passed: [], done: false };
    if (entry.passed.includes(step)) return;
    const passed = [...entry.passed, step].sort((a, b) => a - b);
    this.data.lessons[slug] = { ...entry, passed, done: passed.length >= stepCount };
    this.save();
  }

  snapshot(): ProgressData {
    return JSON.parse(JSON.stringify(this.data)) as ProgressData;
  }

  /**
   * Writes the file atomically (temp file + rename), owned by the learner under sudo.
   * The temp file is created exclusively, so a link planted in the learner's
   * directory cannot make root write somewhere else; rename replaces a link, never follows it.
   */
  save(): void {
    const { file, owner } = this.location;
    const dir = path.dirname(file);
    const temp = path.join(dir, `.progress.${process.pid}.${Date.now()}.tmp`);
    let created = false;
    try {
      makeOwnedDirs(dir, owner);
      const fd = fs.openSync(temp, 'wx', 0o644);
      created = true;
      try {
        fs.writeSync(fd, JSON.stringify(this.data, null, 2) + '\n');
        if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, file);
      this.problem = undefined;
    } catch (error) {
      if (created) fs.rmSync(temp, { force: true });
      this.problem = `progress not saved to ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    }
  }
}
