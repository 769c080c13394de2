// `containy-learn rootfs ...`, and building the base rootfs on first use.
import { parseArgs, flag, one } from './args.js';
import { progressPrinter } from './progress.js';
import { UserError } from '../runtime/errors.js';
import { defaultRootfs } from '../runtime/paths.js';
import { requireRoot as requireRootFor } from '../runtime/privilege.js';
import { rootfsStatus, ROOTFS_BUILD_VERSION, type RootfsTools } from '../rootfs/rootfs-marker.js';
import type { BuildOptions } from '../rootfs/rootfs.js';

// The builder itself loads only when something is built or imported: the
// up-to-date check runs before every menu, whose first frame it must not slow.
const builder = () => import('../rootfs/rootfs.js');

function requireRoot(what: string): void {
  requireRootFor(what, `it copies device-owned files into ${defaultRootfs()}`);
}

/** The first run or workshop launch builds the base rootfs when it is missing. */
export async function ensureBaseRootfs(): Promise<void> {
  const target = defaultRootfs();
  // Complete, and imported or built by this version of the builder: nothing to do.
  const status = rootfsStatus(target);
  if (status.complete && (status.kind === 'imported' || status.version === ROOTFS_BUILD_VERSION)) return;
  requireRoot('building the base rootfs');
  process.stderr.write(`containy-learn: the base rootfs is ${status.exists ? 'out of date' : 'missing'}; building it at ${target} from this host (no network)\n`);
  await build({ force: status.exists });
}

type BuildChoice = Pick<BuildOptions, 'force' | 'tools' | 'busyboxFile'>;

async function build(choice: BuildChoice): Promise<void> {
  const progress = progressPrinter();
  const started = Date.now();
  try {
    const { buildBaseRootfs } = await builder();
    const result = await buildBaseRootfs({ target: defaultRootfs(), ...choice, onProgress: (p) => progress.update(p) });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const tools = result.tools === 'busybox' ? 'busybox' : 'host tools';
    const missing = result.missingCommands.length ? `; the host lacks ${result.missingCommands.join(' ')}` : '';
    progress.end(result.built
      ? `built ${result.target} (${tools}): ${result.files} files, ${(result.sizeBytes / 2 ** 20).toFixed(0)} MiB, ${result.commands.length} commands${result.python ? `, python ${result.python}` : ', no python3'} (${seconds} s)${missing}`
      : `${result.target} is already complete (${tools}; use --force to rebuild)`);
  } catch (err) {
    progress.end();
    throw err;
  }
}

export async function rootfsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'build') {
    const p = parseArgs('rootfs', rest, [{ name: 'force' }, { name: 'tools', value: true }, { name: 'busybox', value: true }]);
    if (p.rest.length) throw new UserError(`rootfs build: unexpected '${p.rest[0]}': see \`containy-learn rootfs --help\``);
    const tools = one(p, 'tools');
    if (tools !== undefined && tools !== 'busybox' && tools !== 'host') {
      throw new UserError(`rootfs build: --tools must be busybox or host, not '${tools}'`);
    }
    requireRoot('rootfs build');
    await build({ force: flag(p, 'force'), tools: tools as RootfsTools | undefined, busyboxFile: one(p, 'busybox') });
    return 0;
  }
  if (sub === 'import') {
    // It used to replace the lessons' base; an import is now an image of its own.
    if (rest.filter((a) => !a.startsWith('-')).length < 2) {
      throw new UserError('rootfs import: the lessons\' base is no longer replaced: import the archive as an image of its own with `containy-learn image import FILE NAME`, and run it with `run --image NAME`');
    }
    return (await import('./image.js')).imageImport(rest, 'rootfs import');
  }
  if (sub === 'status' || sub === undefined) {
    const target = defaultRootfs();
    const s = rootfsStatus(target);
    if (!s.exists) process.stdout.write(`${target}: missing (build it with \`sudo containy-learn rootfs build\`)\n`);
    else process.stdout.write(`${target}: ${s.complete ? 'complete' : 'incomplete'}, ${s.base ?? 'not a containy rootfs'}, ${s.commands.length} commands\n`);
    return s.complete ? 0 : 1;
  }
  throw new UserError(`rootfs: unknown subcommand '${sub}': use build, import or status`);
}
