// The tar reader against archives GNU tar writes (pax headers, GNU long names,
// gzip), and our own writer's. No root: nothing is unpacked here.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TarEntry, TarFormatError, fileChunks, readTar, writeTar } from '../../src/images/tar.js';

const hasTar = spawnSync('tar', ['--version']).status === 0;
if (!hasTar) console.warn('tar reader: the host has no GNU tar, so the comparisons with its pax and GNU archives are skipped');

async function entriesOf(file: string): Promise<Array<TarEntry & { data: string }>> {
  const out: Array<TarEntry & { data: string }> = [];
  await readTar(fileChunks(file), async (e, data) => {
    const parts: Buffer[] = [];
    for await (const c of data) parts.push(c);
    out.push({ ...e, data: Buffer.concat(parts).toString() });
  });
  return out;
}

describe('readTar', () => {
  let dir: string;
  const long = `${'d'.repeat(120)}/${'f'.repeat(130)}`;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-tar-test-'));
    const src = path.join(dir, 'src');
    fs.mkdirSync(path.join(src, 'd'.repeat(120)), { recursive: true });
    fs.writeFileSync(path.join(src, long), 'long name\n');
    fs.writeFileSync(path.join(src, 'héllo.txt'), 'x'.repeat(1000));
    fs.symlinkSync(`../${'t'.repeat(150)}`, path.join(src, 'link'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const format of ['pax', 'gnu'] as const) {
    it.skipIf(!hasTar)(`reads GNU tar's --format=${format}: long names, long link targets, UTF-8, sizes`, async () => {
      const file = path.join(dir, `${format}.tar.gz`);
      execFileSync('tar', ['-czf', file, `--format=${format}`, '-C', path.join(dir, 'src'), '.']);
      const entries = await entriesOf(file);
      const byName = new Map(entries.map((e) => [e.name.replace(/^\.\//, ''), e]));
      expect(byName.get(long)).toMatchObject({ type: 'file', size: 10, data: 'long name\n' });
      expect(byName.get('héllo.txt')).toMatchObject({ type: 'file', size: 1000 });
      expect(byName.get('link')).toMatchObject({ type: 'symlink', linkname: `../${'t'.repeat(150)}` });
      expect(byName.get(`${'d'.repeat(120)}/`)?.type).toBe('dir');
    });
  }

  it('reads its own writer, and refuses what is not a tar in one sentence', async () => {
    const file = path.join(dir, 'own.tar');
    fs.writeFileSync(file, gzipSync(writeTar([{ name: 'a/', type: 'dir' }, { name: 'a/b', data: 'bee', mode: 0o4755, uid: 7, gid: 8 }, { name: 'dev0', type: 'char', devmajor: 1, devminor: 3 }])));
    const entries = await entriesOf(file);
    expect(entries.map((e) => [e.name, e.type, e.mode, e.uid, e.gid, e.data])).toEqual([
      ['a/', 'dir', 0o755, 0, 0, ''], ['a/b', 'file', 0o4755, 7, 8, 'bee'], ['dev0', 'char', 0o644, 0, 0, ''],
    ]);
    expect(entries[2]).toMatchObject({ devmajor: 1, devminor: 3 });

    fs.writeFileSync(file, 'not a tar at all\n'.repeat(64));
    await expect(entriesOf(file)).rejects.toThrow(TarFormatError);
    fs.writeFileSync(file, writeTar([{ name: 'cut', data: 'x'.repeat(5000) }]).subarray(0, 2048));
    await expect(entriesOf(file)).rejects.toThrow(/ends in the middle/);
    fs.writeFileSync(file, gzipSync(Buffer.from('x')).subarray(0, 12));
    await expect(entriesOf(file)).rejects.toThrow();
  });
});
