// `containy-learn cleanup`, `ps` and `rm`: looking after what containers and
// lessons leave on the host.
import { UserError } from '../runtime/errors.js';
import { cleanupLeftovers, listRecords, storedContainers, removeStored, isAlive } from '../runtime/records.js';
import { removeStalePartials } from '../rootfs/rootfs.js';
import { defaultRootfs } from '../runtime/paths.js';
import { requireRoot } from '../runtime/privilege.js';
import { hostFiles } from '../lessons/runtime-like.js';
import { removeStaleWorkdirs } from '../lessons/workdirs.js';

const WHY_ROOT = 'it removes cgroups and root-owned directories';

function noArguments(command: string, argv: string[]): void {
  if (argv.length) throw new UserError(`${command}: unexpected '${argv[0]}': see \`containy-learn ${command} --help\``);
}

export async function cleanupCommand(argv: string[]): Promise<number> {
  noArguments('cleanup', argv);
  requireRoot('cleanup', WHY_ROOT);
  const report = cleanupLeftovers();
  // A killed `rootfs build` leaves its half-built tree beside the target.
  report.directories.push(...(await removeStalePartials(defaultRootfs())));
  // Work directories of lesson sessions that were killed (the lesson layer knows which).
  const workdirs = removeStaleWorkdirs(hostFiles);
  report.directories.push(...workdirs.removed);
  const removed = [
    ...report.records.map((r) => `run record of ${r}`),
    ...report.cgroups.map((c) => `cgroup ${c}`),
    ...report.directories.map((d) => `directory ${d}`),
    ...report.links.map((l) => `link ${l}`),
  ];
  if (removed.length) process.stdout.write(`removed:\n${removed.map((r) => `  ${r}`).join('\n')}\n`);
  if (workdirs.problems.length) throw new UserError(`cleanup could not remove everything: ${workdirs.problems.join('; ')}`);
  if (!removed.length) process.stdout.write('nothing to clean up: the host is as containy-learn found it\n');
  return 0;
}

export async function psCommand(argv: string[]): Promise<number> {
  noArguments('ps', argv);
  const running = listRecords().filter((r) => isAlive(r.ownerPid) && isAlive(r.pid));
  const stored = storedContainers();
  const rows = [['NAME', 'STATUS', 'PID']];
  for (const r of running) rows.push([r.name, 'running', String(r.pid)]);
  for (const name of stored) if (!running.some((r) => r.name === name)) rows.push([name, 'stored', '-']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  process.stdout.write(rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n');
  return 0;
}

export async function rmCommand(argv: string[]): Promise<number> {
  if (argv.length !== 1) throw new UserError('rm: name one container: containy-learn rm NAME');
  requireRoot('rm', WHY_ROOT);
  removeStored(argv[0]);
  process.stdout.write(`${argv[0]}\n`);
  return 0;
}
