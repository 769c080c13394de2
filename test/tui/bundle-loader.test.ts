// The workshop bundle's loader: a classic script run with the code cache that
// the previous start left, its outside imports resolved beside the bundle, and
// a cache never used for another build of the bundle. Each start is a process
// of its own (the built loader): within one, V8's in-memory compilation cache
// would serve the script again and never read the file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadWorkshopBundle } from '../../src/tui/bundle-loader.js';

const BUILT_LOADER = fileURLToPath(new URL('../../dist/tui/bundle-loader.js', import.meta.url));

/** A start in a new process: what V8 did with the cache; then the bundle's answer, and the cache saved. */
function start(cacheDirectory = cacheDir): { codeCache: string; answer: number } {
  const program = `const { loadWorkshopBundle } = await import(${JSON.stringify(BUILT_LOADER)});
    const loaded = loadWorkshopBundle(${JSON.stringify(bundle)}, ${JSON.stringify(cacheDirectory)});
    const answer = loaded.exports.answer();
    loaded.saveCodeCache();
    console.log(JSON.stringify({ codeCache: loaded.codeCache, answer }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' }));
}

let dir: string;
let bundle: string;
let cacheDir: string;

// Enough functions for V8 to have something to cache, one of them called (compiled lazily) by the test.
const source = (answer: number) => `"use strict";
const helpers = { ${Array.from({ length: 50 }, (_, i) => `f${i}(x) { return x + ${i}; }`).join(', ')} };
exports.answer = () => helpers.f0(${answer});
exports.outside = () => __workshopImport('./outside.mjs');
exports.file = __filename;
exports.fsLoaded = typeof require('node:fs').readFileSync;
`;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-bundle-'));
  bundle = path.join(dir, 'workshop.cjs');
  cacheDir = path.join(dir, '.code-cache');
  fs.writeFileSync(bundle, source(41));
  fs.writeFileSync(path.join(dir, 'outside.mjs'), 'export const where = "beside the bundle";\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

type Exports = { answer(): number; outside(): Promise<{ where: string }>; file: string; fsLoaded: string };

describe('the workshop bundle loader', () => {
  it('runs the bundle with require, __filename and its import of a module outside it', async () => {
    const loaded = loadWorkshopBundle<Exports>(bundle, cacheDir)!;
    expect(loaded.exports.answer()).toBe(41);
    expect(loaded.exports.file).toBe(bundle);
    expect(loaded.exports.fsLoaded).toBe('function');
    expect((await loaded.exports.outside()).where).toBe('beside the bundle');
  });

  it('writes the code cache once, after which the next start compiles from it', () => {
    expect(start()).toEqual({ codeCache: 'none', answer: 41 });
    const [file] = fs.readdirSync(cacheDir);
    expect(file).toMatch(new RegExp(`^workshop-${process.version}-${process.arch}-\\d+-\\d+\\.bin$`));
    const written = fs.statSync(path.join(cacheDir, file)).mtimeMs;
    expect(start()).toEqual({ codeCache: 'used', answer: 41 });
    // A cache that was used is not written again.
    expect(fs.statSync(path.join(cacheDir, file)).mtimeMs).toBe(written);
  });

  it('does not use the cache of another build of the bundle, even one of the same length, and drops it', () => {
    start();
    fs.writeFileSync(bundle, source(42)); // same length, other text: V8 alone would take the old cache
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(bundle, later, later);
    expect(start()).toEqual({ codeCache: 'none', answer: 42 });
    expect(fs.readdirSync(cacheDir)).toHaveLength(1);
    expect(start()).toEqual({ codeCache: 'used', answer: 42 });
  });

  it('rewrites a cache V8 refuses, and goes on without one where it cannot write', () => {
    start();
    const [file] = fs.readdirSync(cacheDir);
    fs.writeFileSync(path.join(cacheDir, file), Buffer.alloc(64, 7));
    expect(start()).toEqual({ codeCache: 'rejected', answer: 41 });
    expect(start()).toEqual({ codeCache: 'used', answer: 41 });

    const blocked = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocked, '');
    expect(start(path.join(blocked, 'cache'))).toEqual({ codeCache: 'none', answer: 41 });
  });

  const isRoot = process.getuid?.() === 0;
  if (!isRoot) console.warn('bundle loader: not root, so the cache a root workshop writes into a user\'s clone is not tested (run as root)');
  it.skipIf(!isRoot)('gives the cache, written as root, to the owner of the bundle (their next build removes it)', () => {
    fs.chownSync(dir, 45678, 45678);
    start();
    for (const file of [cacheDir, path.join(cacheDir, fs.readdirSync(cacheDir)[0])]) {
      expect(fs.statSync(file)).toMatchObject({ uid: 45678, gid: 45678 });
    }
  });

  it('answers undefined when there is no bundle', () => {
    expect(loadWorkshopBundle(path.join(dir, 'absent.cjs'), cacheDir)).toBeUndefined();
  });
});
