// Writing a `docker save` archive (the layout docker wrote before 25: manifest.json,
// <hex>.json for the config, <id>/layer.tar per layer), for lessons and tests
// that need a real one without docker.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type TarWriteEntry, writeTar } from './tar.js';

/** A directory tree as tar entries (regular files, dirs, symlinks), names relative to root, after `prefix`. */
export function treeEntries(root: string, prefix = ''): TarWriteEntry[] {
  const out: TarWriteEntry[] = [];
  const walk = (rel: string) => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    const name = prefix + rel;
    if (st.isDirectory()) {
      if (rel) out.push({ name: `${name}/`, type: 'dir', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
      for (const e of fs.readdirSync(p).sort()) walk(rel ? `${rel}/${e}` : e);
    } else if (st.isSymbolicLink()) out.push({ name, type: 'symlink', linkname: fs.readlinkSync(p), uid: st.uid, gid: st.gid });
    else if (st.isFile()) out.push({ name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, data: fs.readFileSync(p) });
  };
  walk('');
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface SaveOptions {
  repoTags?: string[];
  /** The image config's "config": Env, Cmd, Entrypoint, WorkingDir. */
  config?: Record<string, unknown>;
  /** Damage, for tests: a config whose digest is not its name, or a manifest naming a missing layer. */
  wrongConfigDigest?: boolean;
  missingLayer?: boolean;
}

export function dockerSave(layers: TarWriteEntry[][], opts: SaveOptions = {}): Buffer {
  const tars = layers.map((l) => writeTar(l));
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: opts.config ?? {},
    rootfs: { type: 'layers', diff_ids: tars.map((t) => `sha256:${sha(t)}`) },
  }));
  const configName = `${opts.wrongConfigDigest ? sha(Buffer.from('other')) : sha(config)}.json`;
  const layerNames = tars.map((t) => `${sha(t)}/layer.tar`);
  const manifest = [{ Config: configName, RepoTags: opts.repoTags ?? ['two:latest'], Layers: opts.missingLayer ? [...layerNames, 'gone/layer.tar'] : layerNames }];
  return writeTar([
    { name: 'manifest.json', data: JSON.stringify(manifest) },
    { name: configName, data: config },
    ...tars.flatMap((t, i) => [{ name: `${sha(t)}/`, type: 'dir' as const }, { name: layerNames[i], data: t }]),
  ]);
}

/** A lesson's layer: `base` (the lessons' base rootfs) or files by path (a path ending in / is a directory). */
export type LayerSpec = 'base' | Record<string, string>;

function layerEntries(layer: LayerSpec, baseDir: string): TarWriteEntry[] {
  if (layer === 'base') return treeEntries(baseDir);
  return Object.entries(layer).map(([name, content]) => (name.endsWith('/') ? { name, type: 'dir' as const } : { name, data: content }));
}

function describeEntry(name: string): string {
  const base = path.posix.basename(name);
  if (base === '.wh..wh..opq') return `${name}   (opaque: hides everything below ${path.posix.dirname(name)}/)`;
  if (base.startsWith('.wh.')) return `${name}   (whiteout: deletes ${path.posix.join(path.posix.dirname(name), base.slice(4))})`;
  return name;
}

/** Write a docker save archive of these layers to `file`; the anatomy a learner reads. */
export function saveArchiveFile(file: string, layers: LayerSpec[], opts: { name: string; config?: Record<string, unknown>; baseDir: string }): string {
  const archive = dockerSave(layers.map((l) => layerEntries(l, opts.baseDir)), { repoTags: [opts.name], config: opts.config });
  fs.writeFileSync(file, archive);
  const manifestJson = JSON.stringify(JSON.parse(writeTarMember(archive, 'manifest.json')));
  const lines = [`${path.basename(file)}: ${(archive.length / 2 ** 20).toFixed(1)} MiB, as docker save writes it`, '', 'manifest.json:', `  ${manifestJson}`, ''];
  lines.push('the image config (<sha256>.json): its name is its own digest', `  config: ${JSON.stringify(opts.config ?? {})}`, '  rootfs.diff_ids: the sha256 of each layer.tar', '');
  layers.forEach((l, i) => {
    lines.push(`layer ${i + 1} (<sha256>/layer.tar):`);
    if (l === 'base') lines.push(`  the base rootfs: ${layerEntries(l, opts.baseDir).length} entries`);
    else for (const name of Object.keys(l)) lines.push(`  ${describeEntry(name)}`);
  });
  return lines.join('\n') + '\n';
}

/** A member of an uncompressed tar we wrote ourselves (ustar, 512-byte blocks). */
function writeTarMember(archive: Buffer, name: string): string {
  for (let off = 0; off + 512 <= archive.length;) {
    const header = archive.subarray(off, off + 512);
    const entryName = header.subarray(0, 100).toString().replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString().replace(/\0.*$/s, ''), 8) || 0;
    if (entryName === name) return archive.subarray(off + 512, off + 512 + size).toString();
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return 'null';
}
