// The image store for real (root): a hand-made two-layer `docker save` archive
// loads and runs with a file added, a whiteout and an opaque directory visible;
// a `docker export`-style tarball runs as an image; unsafe or broken archives
// are refused with exit 125 naming the entry, leaving nothing behind; the base
// is byte-for-byte what it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeTar, type TarWriteEntry } from '../../src/images/tar.js';
import { cli, hostState, isRoot, tempStateDir, warnIfNotRoot, PACKAGE_ROOT } from '../helpers/host.js';
import { dockerSave, treeDigest, treeEntries } from '../helpers/images.js';

warnIfNotRoot('the image store integration tests');
const BASE = path.join(PACKAGE_ROOT, 'rootfs', 'base');

describe.skipIf(!isRoot)('images', () => {
  let work: string;
  let state: string;
  let env: Record<string, string>;
  let before: ReturnType<typeof hostState>;
  let baseDigest: string;
  let rootEntries: TarWriteEntry[];

  beforeAll(async () => {
    const built = await cli(['rootfs', 'build']);
    expect(built.status, built.stderr).toBe(0);
    baseDigest = treeDigest(BASE);
    rootEntries = treeEntries(BASE);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-images-test-'));
  });

  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
    if (baseDigest) expect(treeDigest(BASE)).toBe(baseDigest);
  });

  beforeEach(() => {
    state = tempStateDir('images');
    env = { CONTAINY_STATE_DIR: state };
    before = hostState();
  });

  afterEach(() => {
    const after = hostState();
    fs.rmSync(state, { recursive: true, force: true });
    expect(after).toEqual(before);
  });

  /** The lines of an error (the rest of stderr is progress). */
  const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('containy-learn:'));
  const write = (name: string, data: Buffer) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, data);
    return file;
  };
  /** What the store holds besides its empty directories: layers, refs, partial unpacks. */
  const storeContents = () => {
    const dirs = ['layers', 'refs', 'tmp'].map((d) => path.join(state, 'images', d));
    return dirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).map((e) => path.join(path.basename(d), e)) : []));
  };

  const twoLayers = () => dockerSave([
    [...rootEntries, { name: 'etc/hidden', data: 'in layer 1\n' }, { name: 'opq/', type: 'dir' }, { name: 'opq/old', data: 'old\n' }],
    [
      { name: 'etc/added', data: 'added by layer 2\n' }, { name: 'etc/.wh.hidden' },
      { name: 'opq/', type: 'dir' }, { name: 'opq/.wh..wh..opq' }, { name: 'opq/new', data: 'new\n' },
    ],
  ], { config: { Env: ['GREETING=hello from the config'], Cmd: ['sh', '-c', 'echo "$GREETING"; pwd'], WorkingDir: '/etc' } });

  it('loads a two-layer docker save archive: a file added, a whiteout, an opaque dir, and the config defaults', async () => {
    const file = write('two.tar', twoLayers());
    const loaded = await cli(['image', 'load', file], { env });
    expect(loaded.stderr).toContain('layer 2/2');
    expect(loaded.stdout, loaded.stderr).toBe('loaded two:latest (2 layers, ' + loaded.stdout.split(', ')[1]);
    expect(loaded.status).toBe(0);

    // On disk: layer 2 holds overlayfs's whiteout (a 0/0 char device) and the opaque xattr.
    const image = JSON.parse(fs.readFileSync(path.join(state, 'images', 'refs', 'two%3Alatest.json'), 'utf8')) as { layers: string[] };
    const top = path.join(state, 'images', 'layers', image.layers[1]);
    const whiteout = fs.lstatSync(path.join(top, 'etc', 'hidden'));
    expect(whiteout.isCharacterDevice() && whiteout.rdev === 0).toBe(true);

    const ls = await cli(['image', 'ls'], { env });
    expect(ls.stdout).toMatch(/^two:latest\s+2\s+\d/m);
    expect(ls.stdout).toMatch(/^base:latest\s+1/m);

    const defaults = await cli(['run', '--image', 'two'], { env });
    expect(defaults.stdout).toBe('hello from the config\n/etc\n');
    expect(defaults.status).toBe(0);
    const effects = await cli(['run', '--image', 'two:latest', '--', 'sh', '-c', 'cat /etc/added; test -e /etc/hidden || echo hidden gone; ls /opq'], { env });
    expect(effects.stdout, effects.stderr).toBe('added by layer 2\nhidden gone\nnew\n');
    // The lowerdirs stacked top first, as the mount table inside shows.
    const mounts = await cli(['run', '--image', 'two', '--', 'cat', '/proc/self/mountinfo'], { env });
    const overlay = mounts.stdout.split('\n').find((l) => l.includes(' - overlay '))!;
    expect(overlay).toContain(`lowerdir=${top}:${path.join(state, 'images', 'layers', image.layers[0])}`);

    // Loading again is refused (the name is in use) and unpacks nothing new.
    const layersBefore = storeContents();
    const again = await cli(['image', 'load', file], { env });
    expect(again.status).toBe(125);
    expect(errorLines(again.stderr)).toEqual([expect.stringMatching(/^containy-learn: image load: an image named two:latest already exists: /)]);
    expect(storeContents()).toEqual(layersBefore);

    // export merges the layers as overlayfs shows them: the whiteout removes, the opaque dir hides.
    const bundle = path.join(work, 'two-bundle');
    const exported = await cli(['export', 'two', bundle], { env });
    expect(exported.status, exported.stderr).toBe(0);
    const rootfs = path.join(bundle, 'rootfs');
    expect(fs.readFileSync(path.join(rootfs, 'etc', 'added'), 'utf8')).toBe('added by layer 2\n');
    expect(fs.existsSync(path.join(rootfs, 'etc', 'hidden'))).toBe(false);
    expect(fs.readdirSync(path.join(rootfs, 'opq'))).toEqual(['new']);
    const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    expect(config.process).toMatchObject({ args: ['sh', '-c', 'echo "$GREETING"; pwd'], cwd: '/etc', terminal: false });
    expect(config.process.env).toContain('GREETING=hello from the config');
    fs.rmSync(bundle, { recursive: true });

    const rm = await cli(['image', 'rm', 'two'], { env });
    expect(rm.status, rm.stderr).toBe(0);
    expect(storeContents()).toEqual([]);
  });

  it('imports a docker export tarball (one top dir, gzip) as an image, and the lessons keep their base', async () => {
    const { gzipSync } = await import('node:zlib');
    const file = write('debian.tar.gz', gzipSync(writeTar([{ name: 'debian/', type: 'dir' }, ...treeEntries(BASE, 'debian/'), { name: 'debian/etc/imported', data: 'yes\n' }])));
    const imported = await cli(['image', 'import', file, 'deb'], { env });
    expect(imported.stdout, imported.stderr).toMatch(/^imported .* as deb:latest \(1 layer, /);
    const inImage = await cli(['run', '--image', 'deb', '--', 'cat', '/etc/imported'], { env });
    expect(inImage.stdout, inImage.stderr).toBe('yes\n');
    const inBase = await cli(['run', '--rm', '--', 'sh', '-c', 'test -e /etc/imported && echo leaked || echo base untouched'], { env });
    expect(inBase.stdout).toBe('base untouched\n');
    const baseImage = await cli(['run', '--image', 'base', '--', 'sh', '-c', 'test -e /etc/imported || echo base image'], { env });
    expect(baseImage.stdout).toBe('base image\n');
    expect((await cli(['image', 'rm', 'base'], { env })).status).toBe(125);
    const oldWay = await cli(['rootfs', 'import', file], { env });
    expect(oldWay.status).toBe(125);
    expect(oldWay.stderr).toContain('image import FILE NAME');
  });

  const refusals: Array<[string, TarWriteEntry[], RegExp]> = [
    ['a .. path', [{ name: 'etc/../../escaped', data: 'x' }], /refused entry 'etc\/\.\.\/\.\.\/escaped': its path climbs out of the root with '\.\.'/],
    ['an absolute path', [{ name: '/tmp/containy-escaped', data: 'x' }], /refused entry '\/tmp\/containy-escaped': its path is absolute/],
    ['a write through a symlink pointing outside', [{ name: 'out', type: 'symlink', linkname: '/tmp' }, { name: 'out/containy-escaped', data: 'x' }],
      /refused entry 'out\/containy-escaped': it would be written through the symlink out \(-> \/tmp\)/],
    ['a hard link to a host file', [{ name: 'passwd', type: 'hardlink', linkname: '/etc/passwd' }], /refused entry 'passwd': its link target is absolute/],
    ['a hard link climbing out', [{ name: 'passwd', type: 'hardlink', linkname: '../../etc/passwd' }], /refused entry 'passwd': its link target climbs out/],
    ['a device node, untrusted', [{ name: 'sda', type: 'block', devmajor: 8, devminor: 0 }], /refused entry 'sda': it is a device node \(block 8:0\); import it with --trusted/],
  ];
  for (const [what, entries, message] of refusals) {
    it(`refuses ${what}: exit 125 naming the entry, nothing unpacked, nothing outside written`, async () => {
      const file = write('bad.tar', writeTar([{ name: 'bin/', type: 'dir' }, ...entries]));
      const r = await cli(['image', 'import', file, 'bad'], { env });
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(message);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(storeContents()).toEqual([]);
      expect(fs.existsSync('/tmp/containy-escaped')).toBe(false);
      expect(fs.existsSync(path.join(os.tmpdir(), 'escaped'))).toBe(false);
    });
  }

  it('makes a device node when the import is --trusted', async () => {
    const file = write('dev.tar', writeTar([...rootEntries, { name: 'dev/', type: 'dir' }, { name: 'dev/null2', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 }]));
    const r = await cli(['image', 'import', '--trusted', file, 'devs'], { env });
    expect(r.status, r.stderr).toBe(0);
    const image = JSON.parse(fs.readFileSync(path.join(state, 'images', 'refs', 'devs%3Alatest.json'), 'utf8')) as { layers: string[] };
    const st = fs.lstatSync(path.join(state, 'images', 'layers', image.layers[0], 'dev', 'null2'));
    expect([st.isCharacterDevice(), st.rdev]).toEqual([true, (1 << 8) | 3]);
  });

  const broken: Array<[string, () => Buffer, RegExp]> = [
    ['not a tarball', () => Buffer.from('just some text, no tar header here\n'.repeat(40)), /image load: .*bad\.tar is not a tar archive \(it does not start with a tar header\)/],
    ['a manifest naming a missing layer', () => dockerSave([[{ name: 'a', data: 'a' }]], { missingLayer: true }), /manifest\.json\[0\]\.Layers\[1\] names gone\/layer\.tar, which is not in the archive/],
    ['a config digest that does not match', () => dockerSave([[{ name: 'a', data: 'a' }]], { wrongConfigDigest: true }), /the image config [0-9a-f]{64}\.json has the digest sha256:[0-9a-f]{64}, not the one its name says/],
    ['no RepoTags', () => dockerSave([[{ name: 'a', data: 'a' }]], { repoTags: [] }), /has no RepoTags/],
  ];
  for (const [what, make, message] of broken) {
    it(`image load refuses ${what}: exit 125, one sentence, nothing left`, async () => {
      const r = await cli(['image', 'load', write('bad.tar', make())], { env });
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(message);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(storeContents()).toEqual([]);
    });
  }
});
