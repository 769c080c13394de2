// `containy-learn lessons check [DIR]`: an author's check of lesson files,
// without root. One line and 0 when all load; each precise problem and 1 when not;
// 125 (a UserError) for a directory that is not there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lessonsCommand } from '../../src/cli/lessons.js';
import { HELP } from '../../src/cli/help.js';
import { UserError } from '../../src/runtime/errors.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/lessons/00-fixture.md');
let tmp: string;
let out: string;
let err: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-lessons-check-'));
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function dirWith(files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), text);
  return tmp;
}

async function refusal(argv: string[]): Promise<UserError> {
  const e = await lessonsCommand(argv).then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(UserError);
  return e as UserError;
}

describe('lessons check', () => {
  it('passes the lessons that ship, in one line', async () => {
    expect(await lessonsCommand(['check'])).toBe(0);
    expect(out).toMatch(/^lessons: \d+ lessons, \d+ steps, no problems\n$/);
    expect(err).toBe('');
  });

  it('passes a directory of good lessons', async () => {
    const dir = dirWith({ '00-fixture.md': fs.readFileSync(FIXTURE, 'utf8'), 'README.md': 'not a lesson' });
    expect(await lessonsCommand(['check', dir])).toBe(0);
    expect(out).toBe(`${dir}: 1 lesson, 2 steps, no problems\n`);
  });

  it('names each bad file, its line, step and problem, and exits 1', async () => {
    const good = fs.readFileSync(FIXTURE, 'utf8');
    const dir = dirWith({
      '00-fixture.md': good,
      '01-typo.md': good.replace('id: 0', 'id: 1').replace('hostname: fixture-box', 'hostnme: fixture-box'),
      '02-no-front-matter.md': '# just a title\n',
    });
    expect(await lessonsCommand(['check', dir])).toBe(1);
    const line = good.split('\n').findIndex((l) => l.startsWith('hostname: fixture-box')) + 1;
    expect(err).toContain(`${dir}/01-typo.md:${line}, step 1 "Start a box": action start has no parameter hostnme; its parameters are namespaces, hostname`);
    expect(err).toContain(`${dir}/02-no-front-matter.md:1: no front matter`);
    expect(err.trim().split('\n')).toHaveLength(2);
    expect(out).toBe(`${dir}: 2 problems in 3 lesson files\n`);
  });

  it('says so when a directory holds no lessons (exit 1)', async () => {
    expect(await lessonsCommand(['check', dirWith({ 'notes.txt': 'x' })])).toBe(1);
    expect(err).toBe(`containy-learn: lessons check: no lesson files (NN-slug.md) in ${tmp}\n`);
  });

  it('refuses a missing directory, a file, extra arguments and unknown subcommands with 125', async () => {
    const missing = await refusal(['check', path.join(tmp, 'nowhere')]);
    expect(missing.exitCode).toBe(125);
    expect(missing.message).toBe(`lessons check: there is no directory ${tmp}/nowhere: give the directory that holds the NN-slug.md lesson files`);
    const file = dirWith({ '00-x.md': 'x' }) + '/00-x.md';
    expect((await refusal(['check', file])).message).toMatch(/is a file, not a directory/);
    expect((await refusal(['check', 'a', 'b'])).message).toMatch(/give one directory, not 2/);
    expect((await refusal(['check', '--strict'])).message).toMatch(/unknown option '--strict'/);
    expect((await refusal([])).message).toMatch(/give a subcommand: containy-learn lessons check \[DIR\]/);
    expect((await refusal(['lint'])).message).toMatch(/unknown subcommand 'lint'/);
    expect(out).toBe('');
  });

  it('is in --help', () => {
    expect(HELP.main).toContain('containy-learn lessons check [DIR]');
    expect(HELP.lessons).toMatch(/without root/);
  });
});
