// The image store: layers unpacked once each, and named images that list them.
//
//   <stateRoot>/images/layers/<hex>/     one layer, unpacked (hex: sha256 of its uncompressed tar, docker's diff_id)
//   <stateRoot>/images/refs/<name>.json  an image: its layers bottom first and the defaults from its config
//   <stateRoot>/images/tmp/              partial unpacks, renamed into place only when complete
//
// The lessons' base (rootfs/base) is the image `base`: the store only points at
// it, so nothing imported or loaded can change it.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../runtime/errors.js';
import { defaultRootfs, stateRoot } from '../runtime/paths.js';
import { resolveInRoot } from '../rootfs/root-paths.js';
import { fileChunks, tarProblem } from './tar.js';
import { UnsafeEntryError, unpackTar } from './unpack.js';

export const BASE_IMAGE = 'base:latest';

/** What an image's config says a container starts with (docker's config.Env, Cmd, Entrypoint, WorkingDir, User). */
export interface ImageDefaults {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
}

export interface ImageRecord {
  name: string;
  /** Layer ids (hex), bottom first. */
  layers: string[];
  defaults: ImageDefaults;
  /** Bytes of file data over all layers. */
  sizeBytes: number;
  createdAt: string;
  source: { file: string; kind: 'rootfs tar' | 'docker save' | 'oci layout'; configDigest?: string };
}

export interface Image extends ImageRecord {
  /** Host directories of the layers, bottom first. */
  layerDirs: string[];
}

export type ImportProgress = (p: { step: string; done: number; total: number }) => void;

const storeRoot = () => path.join(stateRoot(), 'images');
const layersDir = () => path.join(storeRoot(), 'layers');
const refsDir = () => path.join(storeRoot(), 'refs');
const tmpDir = () => path.join(storeRoot(), 'tmp');
const layerDir = (id: string) => path.join(layersDir(), id);
const layerInfo = (id: string) => path.join(layersDir(), `${id}.json`);

/** docker's reading of a name: NAME is NAME:latest. */
export function canonicalName(name: string): string {
  const lastSlash = name.lastIndexOf('/');
  return name.slice(lastSlash + 1).includes(':') ? name : `${name}:latest`;
}

const NAME_RE = /^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;

export function checkImageName(name: string, what: string): string {
  if (!NAME_RE.test(name) || name.includes('..') || name.length > 200) {
    throw new UserError(`${what}: '${name}' is not an image name: use lowercase letters, digits, '.', '-', '_' and '/', and an optional :TAG, e.g. debian:12`);
  }
  return canonicalName(name);
}

const refFile = (name: string) => path.join(refsDir(), `${encodeURIComponent(name)}.json`);

function readRecord(file: string): ImageRecord | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ImageRecord;
  } catch {
    return null;
  }
}

function baseImage(): Image {
  const dir = defaultRootfs();
  return { name: BASE_IMAGE, layers: ['base'], layerDirs: [dir], defaults: { Cmd: ['/bin/sh'] }, sizeBytes: 0, createdAt: '', source: { file: dir, kind: 'rootfs tar' } };
}

function withDirs(record: ImageRecord): Image {
  return { ...record, layerDirs: record.layers.map(layerDir) };
}

/** The image, or null. `base` is the lessons' base rootfs. */
export function findImage(name: string): Image | null {
  const canonical = canonicalName(name);
  if (canonical === BASE_IMAGE) return baseImage();
  const record = readRecord(refFile(canonical));
  return record && withDirs(record);
}

export function getImage(name: string, what: string): Image {
  const image = findImage(name);
  if (!image) throw new UserError(`${what}: no image named ${canonicalName(name)}: see \`containy-learn image ls\`, or load one with \`containy-learn image load FILE\``);
  return image;
}

export function listImages(): Image[] {
  let files: string[] = [];
  try {
    files = fs.readdirSync(refsDir()).filter((f) => f.endsWith('.json'));
  } catch {
    // no store yet
  }
  const images = files.map((f) => readRecord(path.join(refsDir(), f))).filter((r): r is ImageRecord => r !== null).map(withDirs);
  return [baseImage(), ...images.sort((a, b) => a.name.localeCompare(b.name))];
}

function checkNameFree(name: string, what: string): void {
  if (name === BASE_IMAGE) throw new UserError(`${what}: the name base is the lessons' own base image and cannot be replaced: choose another name`);
  if (fs.existsSync(refFile(name))) throw new UserError(`${what}: an image named ${name} already exists: remove it first (\`containy-learn image rm ${name}\`) or choose another name`);
}

function writeRecord(record: ImageRecord): void {
  fs.mkdirSync(refsDir(), { recursive: true });
  const file = refFile(record.name);
  const partial = `${file}.partial-${process.pid}`;
  fs.writeFileSync(partial, JSON.stringify(record, null, 2) + '\n');
  fs.renameSync(partial, file);
}

/** Remove an image; layers no other image uses go with it. */
export function removeImage(name: string): void {
  const canonical = canonicalName(name);
  if (canonical === BASE_IMAGE) throw new UserError("image rm: base is the lessons' own base image: it cannot be removed (rebuild it with `containy-learn rootfs build --force`)");
  const file = refFile(canonical);
  if (!fs.existsSync(file)) throw new UserError(`image rm: no image named ${canonical}: see \`containy-learn image ls\``);
  fs.rmSync(file);
  const used = new Set(listImages().flatMap((i) => i.layers));
  for (const entry of fs.readdirSync(layersDir())) {
    const id = entry.replace(/\.json$/, '');
    if (!used.has(id)) fs.rmSync(path.join(layersDir(), entry), { recursive: true, force: true });
  }
  removeEmptyStore();
}

/** The last image gone, the store's own directories go too: the state dir is left as it was before any import. */
function removeEmptyStore(): void {
  for (const dir of [refsDir(), layersDir(), tmpDir(), storeRoot()]) {
    try {
      fs.rmdirSync(dir); // only when empty: another import may be under way in tmp
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  }
}

function fileProblem(file: string, what: string, fix: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new UserError(`${what}: ${file} does not exist: ${fix}`);
  }
  if (!st.isFile()) throw new UserError(`${what}: ${file} is not a file: ${fix}`);
}

/** Turn a tar or unpack failure into one sentence naming the archive. */
function worded(err: unknown, what: string, file: string, fix: string): unknown {
  const problem = tarProblem(err);
  if (problem) return new UserError(`${what}: ${file} is not a tar archive (${problem}): ${fix}`);
  if (err instanceof UnsafeEntryError) return new UserError(`${what}: ${file}: ${err.message}`);
  return err;
}

interface NewLayer {
  id: string;
  sizeBytes: number;
}

/**
 * Unpack one layer (or a whole rootfs tar) into the store, once: a layer
 * already there (same digest) is kept and the new copy dropped.
 */
async function unpackLayer(file: string, opts: { trusted: boolean; expected?: string; onProgress?: ImportProgress; label: string; made: string[] }): Promise<NewLayer> {
  if (opts.expected) {
    const known = layerDir(hexOf(opts.expected));
    if (fs.existsSync(known)) return { id: hexOf(opts.expected), sizeBytes: readLayerSize(hexOf(opts.expected)) };
  }
  fs.mkdirSync(tmpDir(), { recursive: true });
  fs.mkdirSync(layersDir(), { recursive: true });
  const partial = path.join(tmpDir(), `layer-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(partial, { mode: 0o755 });
  try {
    const total = fs.statSync(file).size;
    const MiB = 2 ** 20;
    const chunks = fileChunks(file, (read) => opts.onProgress?.({ step: `${opts.label} (MiB)`, done: Math.round(read / MiB), total: Math.round(total / MiB) }));
    const result = await unpackTar(chunks, partial, { trusted: opts.trusted, layer: true });
    if (opts.expected && result.digest !== opts.expected) {
      throw new UserError(`${opts.label}: the layer's content is ${result.digest}, not the ${opts.expected} its image config names: the archive is damaged or was changed`);
    }
    const id = hexOf(result.digest);
    if (fs.existsSync(layerDir(id))) {
      fs.rmSync(partial, { recursive: true, force: true });
      return { id, sizeBytes: readLayerSize(id) };
    }
    fs.writeFileSync(layerInfo(id), JSON.stringify({ sizeBytes: result.bytes, entries: result.entries }) + '\n');
    fs.renameSync(partial, layerDir(id));
    opts.made.push(id);
    return { id, sizeBytes: result.bytes };
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}

function readLayerSize(id: string): number {
  try {
    return (JSON.parse(fs.readFileSync(layerInfo(id), 'utf8')) as { sizeBytes: number }).sizeBytes;
  } catch {
    return 0;
  }
}

function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

/** Layers made by a failed import, removed so that nothing is left behind. */
function dropLayers(ids: string[]): void {
  for (const id of ids) {
    fs.rmSync(layerDir(id), { recursive: true, force: true });
    fs.rmSync(layerInfo(id), { force: true });
  }
}

const IMPORT_FIX = 'give a .tar from `docker export`, a .tar.gz of a root filesystem, or use `image load` for a `docker save` archive';

/** `image import FILE NAME`: a flat root filesystem tar (docker export, debian.tar.gz) as a one-layer image. */
export async function importImage(file: string, name: string, opts: { trusted?: boolean; onProgress?: ImportProgress } = {}): Promise<Image> {
  const what = 'image import';
  const canonical = checkImageName(name, what);
  fileProblem(file, what, IMPORT_FIX);
  checkNameFree(canonical, what);
  const made: string[] = [];
  try {
    const layer = await unpackLayer(path.resolve(file), { trusted: opts.trusted ?? false, onProgress: opts.onProgress, label: 'unpacking', made });
    const top = stripSingleTopDir(layerDir(layer.id));
    if (!top) throw new UserError(`${what}: ${file} has no bin/sh: is it a root filesystem? ${IMPORT_FIX}`);
    const record: ImageRecord = {
      name: canonical,
      layers: [layer.id],
      defaults: { Cmd: ['/bin/sh'] },
      sizeBytes: layer.sizeBytes,
      createdAt: new Date().toISOString(),
      source: { file: path.resolve(file), kind: 'rootfs tar' },
    };
    writeRecord(record);
    return withDirs(record);
  } catch (err) {
    dropLayers(made);
    throw worded(err, what, file, IMPORT_FIX);
  }
}

/**
 * A rootfs tar made as `tar czf debian.tar.gz debian/` holds one directory with
 * the root inside: lift its contents up. False when there is no shell either way.
 */
function stripSingleTopDir(dir: string): boolean {
  // Resolved inside the root: sh -> busybox without a busybox is no shell.
  const hasShell = (d: string) => resolveInRoot(d, '/bin/sh').exists;
  if (hasShell(dir)) return true;
  const tops = fs.readdirSync(dir);
  if (tops.length !== 1) return false;
  const inner = path.join(dir, tops[0]);
  if (!fs.lstatSync(inner).isDirectory() || !hasShell(inner)) return false;
  const moved = path.join(dir, `.lift-${randomBytes(4).toString('hex')}`);
  fs.renameSync(inner, moved);
  for (const entry of fs.readdirSync(moved)) fs.renameSync(path.join(moved, entry), path.join(dir, entry));
  fs.rmdirSync(moved);
  return true;
}


const LOAD_FIX = 'give an archive made by `docker save` (manifest.json, the image config and the layer tars)';

interface ManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

interface ImageConfig {
  config?: ImageDefaults;
  rootfs?: { type?: string; diff_ids?: string[] };
}

interface LoadPlan {
  names: string[];
  configFile: string;
  configDigest: string;
  layerFiles: string[];
  config: ImageConfig;
}

function readJson(file: string, what: string, field: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${what}: ${field} is not valid JSON (${(err as Error).message}): ${LOAD_FIX}`);
  }
}

/** Inside the unpacked archive only (its own paths are archive-relative). */
function inArchive(dir: string, name: unknown, what: string, field: string): string {
  if (typeof name !== 'string' || name === '' || name.startsWith('/') || name.split('/').includes('..')) {
    throw new UserError(`${what}: ${field} is ${JSON.stringify(name)}, not a path inside the archive: ${LOAD_FIX}`);
  }
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) throw new UserError(`${what}: ${field} names ${name}, which is not in the archive: ${LOAD_FIX}`);
  return file;
}

function sha256File(file: string): string {
  return `sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
}

/** manifest.json (docker save) or index.json (an OCI image layout), checked before any layer is unpacked. */
function planLoad(dir: string, what: string): LoadPlan[] {
  if (fs.existsSync(path.join(dir, 'manifest.json'))) {
    const manifest = readJson(path.join(dir, 'manifest.json'), what, 'manifest.json');
    if (!Array.isArray(manifest) || !manifest.length) throw new UserError(`${what}: manifest.json is not a list of images: ${LOAD_FIX}`);
    return (manifest as ManifestEntry[]).map((m, i) => {
      const field = `manifest.json[${i}]`;
      const configFile = inArchive(dir, m.Config, what, `${field}.Config`);
      if (!Array.isArray(m.Layers)) throw new UserError(`${what}: ${field}.Layers is not a list: ${LOAD_FIX}`);
      const layerFiles = m.Layers.map((l, j) => inArchive(dir, l, what, `${field}.Layers[${j}]`));
      // The config's file name is its digest (<hex>.json, or blobs/sha256/<hex>).
      const named = /([0-9a-f]{64})(\.json)?$/.exec(m.Config)?.[1];
      const configDigest = sha256File(configFile);
      if (named && `sha256:${named}` !== configDigest) {
        throw new UserError(`${what}: the image config ${m.Config} has the digest ${configDigest}, not the one its name says: the archive is damaged or was changed`);
      }
      const names = (m.RepoTags ?? []).map((t) => checkImageName(t, `${what}: ${field}.RepoTags`));
      if (!names.length) throw new UserError(`${what}: ${field} has no RepoTags, so the image has no name: save it with a name (\`docker save NAME:TAG\`)`);
      return { names, configFile, configDigest, layerFiles, config: readJson(configFile, what, m.Config) as ImageConfig };
    });
  }
  if (fs.existsSync(path.join(dir, 'index.json')) && fs.existsSync(path.join(dir, 'oci-layout'))) return planOciLayout(dir, what);
  throw new UserError(`${what}: the archive has no manifest.json (nor an OCI index.json): ${LOAD_FIX}`);
}

interface OciDescriptor {
  digest?: string;
  mediaType?: string;
  annotations?: Record<string, string>;
}

function blob(dir: string, d: OciDescriptor | undefined, what: string, field: string): string {
  const digest = d?.digest;
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new UserError(`${what}: ${field}.digest is ${JSON.stringify(digest)}, not sha256:<64 hex>: ${LOAD_FIX}`);
  const file = inArchive(dir, `blobs/sha256/${hexOf(digest)}`, what, field);
  if (sha256File(file) !== digest) throw new UserError(`${what}: the blob ${digest} (${field}) does not match its digest: the archive is damaged or was changed`);
  return file;
}

function planOciLayout(dir: string, what: string): LoadPlan[] {
  const index = readJson(path.join(dir, 'index.json'), what, 'index.json') as { manifests?: OciDescriptor[] };
  return (index.manifests ?? []).map((d, i) => {
    const field = `index.json.manifests[${i}]`;
    const manifest = readJson(blob(dir, d, what, field), what, d.digest!) as { config?: OciDescriptor; layers?: OciDescriptor[] };
    const configFile = blob(dir, manifest.config, what, `${d.digest}.config`);
    const layerFiles = (manifest.layers ?? []).map((l, j) => blob(dir, l, what, `${d.digest}.layers[${j}]`));
    const ref = d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name'];
    if (!ref) throw new UserError(`${what}: ${field} has no image name annotation: save it with a name`);
    return { names: [checkImageName(ref, what)], configFile, configDigest: manifest.config!.digest!, layerFiles, config: readJson(configFile, what, 'the config') as ImageConfig };
  });
}

/** `image load FILE`: a `docker save` archive (or an OCI image layout tar); every image in it gets its RepoTags. */
export async function loadImages(file: string, opts: { trusted?: boolean; onProgress?: ImportProgress } = {}): Promise<Image[]> {
  const what = 'image load';
  fileProblem(file, what, LOAD_FIX);
  fs.mkdirSync(tmpDir(), { recursive: true });
  const outer = path.join(tmpDir(), `load-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(outer, { mode: 0o700 });
  const made: string[] = [];
  try {
    opts.onProgress?.({ step: 'reading the archive', done: 0, total: 1 });
    await unpackTar(fileChunks(path.resolve(file)), outer, { trusted: false, layer: false });
    const plans = planLoad(outer, what);
    for (const name of plans.flatMap((p) => p.names)) checkNameFree(name, what);
    const records: ImageRecord[] = [];
    for (const plan of plans) {
      const diffIds = plan.config.rootfs?.diff_ids;
      if (diffIds !== undefined && (!Array.isArray(diffIds) || diffIds.length !== plan.layerFiles.length)) {
        throw new UserError(`${what}: the image config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} rootfs.diff_ids for ${plan.layerFiles.length} layers: ${LOAD_FIX}`);
      }
      const layers: NewLayer[] = [];
      for (const [i, layerFile] of plan.layerFiles.entries()) {
        layers.push(await unpackLayer(layerFile, {
          trusted: opts.trusted ?? false, expected: diffIds?.[i], onProgress: opts.onProgress, made,
          label: `layer ${i + 1}/${plan.layerFiles.length}`,
        }));
      }
      const c = plan.config.config ?? {};
      const defaults: ImageDefaults = { Env: c.Env, Cmd: c.Cmd, Entrypoint: c.Entrypoint, WorkingDir: c.WorkingDir, User: c.User };
      for (const name of plan.names) {
        records.push({
          name, layers: layers.map((l) => l.id), defaults, sizeBytes: layers.reduce((n, l) => n + l.sizeBytes, 0),
          createdAt: new Date().toISOString(), source: { file: path.resolve(file), kind: 'docker save', configDigest: plan.configDigest },
        });
      }
    }
    for (const record of records) writeRecord(record);
    return records.map(withDirs);
  } catch (err) {
    dropLayers(made);
    throw worded(err, what, file, LOAD_FIX);
  } finally {
    fs.rmSync(outer, { recursive: true, force: true });
  }
}
