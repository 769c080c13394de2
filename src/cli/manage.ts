// `containy-learn cleanup`, `ps` and `rm`: looking after what containers leave on the host.
import { UserError } from '../runtime/errors.js';
import { cleanupLeftovers, listRecords, storedContainers, removeStored, isAlive } from '../runtime/records.js';
import { removeStalePartials } from '../rootfs/rootfs.js';
import { defaultRootfs } from '../runtime/paths.js';

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new UserError(`${what} needs root (it removes cgroups and root-owned directories): run it with sudo`);
}

function noArguments(command: string, argv: string[]): void {
  if (argv.length) throw new UserError(`${command}: unexpected '${argv[0]}': see \`containy-learn ${command} --help\``);
}

export async function cleanupCommand(argv: string[]): Promise<number> {
  noArguments('cleanup', argv);
  requireRoot('cleanup');
  const report = cleanupLeftovers();
  // A killed `rootfs build` leaves its half-built tree beside the target.
  report.directories.push(...(await removeStalePartials(defaultRootfs())));
  const removed = [
    ...report.records.map((r) => `run record of ${r}`),
    ...report.cgroups.map((c) => `cgroup ${c}`),
    ...report.directories.map((d) => `directory ${d}`),
  ];
  process.stdout.write(removed.length ? `removed:\n${removed.map((r) => `  ${r}`).join('\n')}\n` : 'nothing to clean up: the host is as containy-learn found it\n');
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
  requireRoot('rm');
  removeStored(argv[0]);
  process.stdout.write(`${argv[0]}\n`);
  return 0;
}
