// The actions on the lesson's work directory: copy a host program into it,
// write a file there, list a directory. The files are touched by the runtime
// (ctx.runtime); what is here is the report a learner reads.
import { describeError } from '../../runtime/errors.js';
import type { TreeEntry } from '../../runtime/host-files.js';
import { bool, text, wholeNumber, workdirPath } from '../params.js';
import { inWorkdir } from './containers.js';
import type { ActionDef, ActionOutcome } from './types.js';

/** inspect lists at most this many entries. */
const MAX_LISTED = 300;

export const copyBinary: ActionDef = {
  name: 'copy-binary',
  summary: 'copy a host program (and with libraries: true, every library ldd names) into a directory of the work directory',
  params: {
    binary: { describe: 'a path such as /bin/sh or a command name on the host', required: true, validate: text('/bin/sh') },
    into: { describe: 'the directory in the work directory (default jail)', validate: workdirPath, default: 'jail' },
    libraries: { describe: 'copy its ldd libraries too (default true)', validate: bool },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    const into = (p.into as string | undefined) ?? 'jail';
    const withLibraries = (p.libraries as boolean | undefined) ?? true;
    try {
      const report = await ctx.runtime.copyWithLibraries(p.binary as string, inWorkdir(ctx, into), { withLibraries });
      const lines = [`${report.program} -> ${into}${report.program}`];
      if (report.libraries.length === 0) lines.push('it needs no shared libraries (a static program)');
      else {
        lines.push(`it needs (ldd ${report.program}):`);
        for (const lib of report.libraries) lines.push(`  ${lib}${withLibraries ? '' : '   (not copied)'}`);
      }
      lines.push(`copied: ${report.copied.length ? report.copied.join(' ') : 'nothing new (already there)'}`);
      return { output: lines.join('\n') + '\n', files: report.copied };
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

export const writeFile: ActionDef = {
  name: 'write-file',
  summary: 'write a file in the work directory (a secret above the jail, for the chroot escape)',
  params: {
    path: { describe: 'the file, relative to the work directory', required: true, validate: workdirPath },
    content: { describe: 'what to write', required: true, validate: (v) => (typeof v === 'string' ? undefined : 'must be text') },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    try {
      ctx.runtime.writeHostFile(inWorkdir(ctx, p.path as string), p.content as string);
    } catch (err) {
      return { error: describeError(err) };
    }
    return { output: `wrote ${Buffer.byteLength(p.content as string)} bytes to ${p.path as string}\n`, files: [p.path as string] };
  },
};

export const inspect: ActionDef = {
  name: 'inspect',
  summary: 'list a directory on the host, recursively: types, sizes, owners (uid:gid), and overlay whiteouts (0/0 character devices)',
  params: {
    path: { describe: 'a directory: ${layers.upper}, ${workdir}/jail, or relative to the work directory', required: true, validate: workdirPath },
    depth: { describe: 'how many levels down (default 8)', validate: wholeNumber },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    const dir = inWorkdir(ctx, p.path as string);
    try {
      const tree = ctx.runtime.listTree(dir, { depth: (p.depth as number | undefined) ?? 8, max: MAX_LISTED });
      return listing(dir, tree.entries, tree.more);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { error: `nothing at ${dir}: it does not exist (an unnamed container's layers are removed when it stops)` };
      return { error: describeError(err) };
    }
  },
};

const pad = (s: string) => s.padStart(9);
const TYPE_LETTER: Record<TreeEntry['type'], string> = {
  'directory': 'd', 'symlink': 'l', 'character-device': 'c', 'block-device': 'b', 'fifo': 'p', 'socket': 's', 'file': '-',
};

function entryLine(e: TreeEntry): string {
  const letter = TYPE_LETTER[e.type];
  // The owner as the host sees it, uid:gid, as `ls -n` shows it.
  const owner = `  ${e.uid}:${e.gid}`;
  switch (e.type) {
    case 'directory':
      return `${letter}  ${pad('')}  ${e.path}/${owner}`;
    case 'symlink':
      return `${letter}  ${pad('')}  ${e.path} -> ${e.linkTarget}${owner}`;
    case 'character-device':
    case 'block-device':
      return `${letter}  ${pad(`${e.device!.major}/${e.device!.minor}`)}  ${e.path}${owner}${e.whiteout ? '   <- whiteout: deleted in the container, still there in the lower layer' : ''}`;
    case 'file':
      return `${letter}  ${pad(`${e.size} B`)}  ${e.path}${owner}`;
    default:
      return `${letter}  ${pad('')}  ${e.path}${owner}`;
  }
}

/** A recursive listing like `ls -lR`, one entry a line, with overlay whiteouts pointed out. */
export function listing(dir: string, entries: TreeEntry[], more: number): ActionOutcome {
  const lines = entries.map(entryLine);
  if (more) lines.push(`... and ${more} more`);
  return {
    output: `${dir}:\n${lines.length ? lines.join('\n') : '(empty)'}\n`,
    files: entries.map((e) => e.path),
    whiteouts: entries.filter((e) => e.whiteout).map((e) => e.path),
  };
}
