// `containy-learn image import|load|ls|rm`: the image store (src/images/store.ts).
import { parseArgs, flag } from './args.js';
import { progressPrinter } from './progress.js';
import { UserError } from '../runtime/errors.js';
import { requireRoot } from '../runtime/privilege.js';
import { type Image, importImage, listImages, loadImages, removeImage } from '../images/store.js';

const TRUSTED = [{ name: 'trusted' }];

function describe(image: Image): string {
  return `${image.name} (${image.layers.length} layer${image.layers.length === 1 ? '' : 's'}, ${mib(image.sizeBytes)})`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

async function withProgress<T>(work: (update: (p: { step: string; done: number; total: number }) => void) => Promise<T>): Promise<T> {
  const progress = progressPrinter();
  try {
    return await work((p) => progress.update(p));
  } finally {
    progress.end();
  }
}

/** `image import FILE NAME` (also reached as `rootfs import FILE NAME`). */
export async function imageImport(argv: string[], command = 'image import'): Promise<number> {
  const p = parseArgs(command, argv, TRUSTED, { stopAtPositional: false });
  if (p.rest.length !== 2) throw new UserError(`${command}: give FILE and NAME, e.g. \`containy-learn ${command} debian.tar.gz debian\` (the lessons' base is never replaced)`);
  requireRoot(command, 'it keeps the archive\'s owners, modes and whiteouts');
  const image = await withProgress((update) => importImage(p.rest[0], p.rest[1], { trusted: flag(p, 'trusted'), onProgress: update }));
  process.stdout.write(`imported ${p.rest[0]} as ${describe(image)}\n`);
  return 0;
}

export async function imageCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'import') return imageImport(rest);
  if (sub === 'load') {
    const p = parseArgs('image load', rest, TRUSTED, { stopAtPositional: false });
    if (p.rest.length !== 1) throw new UserError('image load: give one FILE made by `docker save`, e.g. `containy-learn image load alpine.tar`');
    requireRoot('image load', 'it keeps the layers\' owners, modes and whiteouts');
    const images = await withProgress((update) => loadImages(p.rest[0], { trusted: flag(p, 'trusted'), onProgress: update }));
    for (const image of images) process.stdout.write(`loaded ${describe(image)}\n`);
    return 0;
  }
  if (sub === 'ls' || sub === 'list') {
    if (rest.length) throw new UserError(`image ls: unexpected '${rest[0]}'`);
    const rows = listImages().map((i) => [i.name, String(i.layers.length), i.name === 'base:latest' ? '-' : mib(i.sizeBytes)]);
    const widths = [0, 1, 2].map((c) => Math.max(...[['NAME', 'LAYERS', 'SIZE'], ...rows].map((r) => r[c].length)));
    for (const row of [['NAME', 'LAYERS', 'SIZE'], ...rows]) process.stdout.write(`${row[0].padEnd(widths[0])}  ${row[1].padStart(widths[1])}  ${row[2]}\n`);
    return 0;
  }
  if (sub === 'rm') {
    if (rest.length !== 1) throw new UserError('image rm: give one NAME (see `containy-learn image ls`)');
    requireRoot('image rm', 'the store belongs to root');
    removeImage(rest[0]);
    process.stdout.write(`removed ${rest[0]}\n`);
    return 0;
  }
  throw new UserError(`image: unknown subcommand '${sub ?? ''}': use import, load, ls or rm (see \`containy-learn image --help\`)`);
}
