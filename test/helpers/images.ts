// Hand-made archives for the image tests: docker save and docker export
// shapes, written with the project's own small tar writer.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type TarWriteEntry, writeTar } from '../../src/images/tar.js';

/** A directory tree as tar entries (regular files, dirs, symlinks), names relative, "./"-less. */
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
  config?: Record<string, unknown>;
  /** Damage: a config whose digest is not its name, or a manifest naming a missing layer. */
  wrongConfigDigest?: boolean;
  missingLayer?: boolean;
}

/** A `docker save` archive (the legacy layout: <id>/layer.tar, <hex>.json, manifest.json). */
export function dockerSave(layers: TarWriteEntry[][], opts: SaveOptions = {}): Buffer {
  const tars = layers.map((l) => writeTar(l));
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: opts.config ?? {},
    rootfs: { type: 'layers', diff_ids: tars.map((t) => `sha256:${sha(t)}`) },
  }));
  const configName = `${opts.wrongConfigDigest ? sha(Buffer.from('other')) : sha(config)}.json`;
  const layerNames = tars.map((_, i) => `layer${i}/layer.tar`);
  const manifest = [{ Config: configName, RepoTags: opts.repoTags ?? ['two:latest'], Layers: opts.missingLayer ? [...layerNames, 'gone/layer.tar'] : layerNames }];
  return writeTar([
    { name: 'manifest.json', data: JSON.stringify(manifest) },
    { name: configName, data: config },
    ...tars.flatMap((t, i) => [{ name: `layer${i}/`, type: 'dir' as const }, { name: layerNames[i], data: t }]),
  ]);
}

/** Every path under root with its type, mode, owner and content hash: equal before and after means untouched. */
export function treeDigest(root: string): string {
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    hash.update(`${rel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.size}\0${st.mtimeMs}\0`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(rel, e));
    else if (st.isSymbolicLink()) hash.update(fs.readlinkSync(p));
    else if (st.isFile()) hash.update(fs.readFileSync(p));
  };
  walk('');
  return hash.digest('hex');
}
