// Run records: one small JSON file per live container, written before anything
// is created for it, so that `containy-learn cleanup` can find and remove what a
// `kill -9` left behind. Also where a container's overlay directories live.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { stateRoot } from './paths.js';
import { isAlive } from './pids.js';
import type { StageSecurity } from './security/compile.js';

export { isAlive };
import { removeCgroupDirs, sweepCgroups } from './cgroups/index.js';
import { DEFAULT_BRIDGE, cleanupBridgeNetwork, teardownBridgeNetwork, type BridgeAttachment } from './net/index.js';

/** What a run record keeps of a bridge attachment (network.ts), for teardown after a kill -9. */
export type NetworkRecord = Pick<BridgeAttachment, 'bridge' | 'hostVeth' | 'address'>;

export interface RunRecord {
  name: string;
  /** The containy-learn process that owns the container. */
  ownerPid: number;
  /** Host PID of the container's command. */
  pid?: number;
  cgroupPaths?: string[];
  /** Overlay dirs to delete when the container ends (unnamed or --rm). */
  scratchDir?: string;
  /** What an exec into it must enter too (docker exec keeps the container's capabilities and filter). */
  security?: StageSecurity;
  network?: NetworkRecord;
  startedAt: string;
}

const runDir = () => path.join(stateRoot(), 'run');
const recordFile = (name: string) => path.join(runDir(), `${name}.json`);

/** Where a named container keeps its changes across runs. */
export const persistentDir = (name: string) => path.join(stateRoot(), 'containers', name);
/** Where a discarded container's overlay dirs live while it runs. */
export const scratchDir = (name: string) => path.join(stateRoot(), 'scratch', name);
/** Where a container's /etc/hosts and /etc/hostname are written while it runs. */
export const etcDir = (name: string) => path.join(stateRoot(), 'etc', name);

function read(name: string): RunRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(recordFile(name), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

export function listRecords(): RunRecord[] {
  let files: string[] = [];
  try {
    files = fs.readdirSync(runDir()).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.map((f) => read(f.slice(0, -5))).filter((r): r is RunRecord => r !== undefined);
}

const isLive = (r: RunRecord) => isAlive(r.ownerPid) && (r.pid === undefined || isAlive(r.pid));

/** Take the name for a new container, or say it is in use. A stale record of a dead run is cleaned first. */
export function claim(name: string): void {
  fs.mkdirSync(runDir(), { recursive: true });
  const existing = read(name);
  if (existing && isLive(existing)) {
    throw new UserError(`container '${name}' is already running (pid ${existing.pid ?? '?'}): use \`containy-learn exec ${name} -- CMD\` or another --name`);
  }
  if (existing) removeLeftovers(existing);
  const record: RunRecord = { name, ownerPid: process.pid, startedAt: new Date().toISOString() };
  try {
    fs.writeFileSync(recordFile(name), JSON.stringify(record), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`container '${name}' is being started by another containy-learn: pick another --name`);
    throw err;
  }
}

export function update(name: string, patch: Partial<RunRecord>): void {
  const record = read(name);
  if (record) fs.writeFileSync(recordFile(name), JSON.stringify({ ...record, ...patch }));
}

export function release(name: string): void {
  fs.rmSync(recordFile(name), { force: true });
}

export function findLive(name: string): RunRecord | undefined {
  const record = read(name);
  return record && isLive(record) ? record : undefined;
}

/** What a dead run left: its cgroup (and anything still in it), its scratch layers, its record. */
function removeLeftovers(record: RunRecord, opts: { keepBridge?: boolean } = {}): string[] {
  const cgroups = record.cgroupPaths ? removeCgroupDirs(record.cgroupPaths) : [];
  if (record.scratchDir) fs.rmSync(record.scratchDir, { recursive: true, force: true });
  fs.rmSync(etcDir(record.name), { recursive: true, force: true });
  if (record.network) teardownBridgeNetwork(record.network, { stateDir: stateRoot(), keepBridge: opts.keepBridge });
  release(record.name);
  return cgroups;
}

export interface CleanupReport {
  records: string[];
  cgroups: string[];
  directories: string[];
  /** Host veths of dead runs, and the bridge if no container uses it any more. */
  links: string[];
}

/** `containy-learn cleanup`: remove what dead runs left (their cgroups, scratch overlay dirs, records). */
export function cleanupLeftovers(): CleanupReport {
  const report: CleanupReport = { records: [], cgroups: [], directories: [], links: [] };
  const liveNames = new Set<string>();
  for (const record of listRecords()) {
    if (isLive(record)) {
      liveNames.add(record.name);
      continue;
    }
    // The bridge is left to cleanupBridgeNetwork below, which says whether it went.
    report.cgroups.push(...removeLeftovers(record, { keepBridge: true }));
    report.records.push(record.name);
  }
  // Killing what is left in them, cgroups of containers without a live record go.
  report.cgroups.push(...sweepCgroups(liveNames));
  const scratch = path.join(stateRoot(), 'scratch');
  for (const name of safeReaddir(scratch)) {
    if (liveNames.has(name)) continue;
    fs.rmSync(path.join(scratch, name), { recursive: true, force: true });
    report.directories.push(path.join(scratch, name));
  }
  for (const name of safeReaddir(path.join(stateRoot(), 'etc'))) {
    if (!liveNames.has(name)) fs.rmSync(etcDir(name), { recursive: true, force: true });
  }
  // Leases of dead owners, the veths they left, then the bridge if it is unused.
  const net = cleanupBridgeNetwork({ stateDir: stateRoot() });
  report.links.push(...net.links, ...(net.bridgeRemoved ? [DEFAULT_BRIDGE] : []));
  return report;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Named containers with stored changes. */
export function storedContainers(): string[] {
  return safeReaddir(path.join(stateRoot(), 'containers'));
}

/** Delete a named container's stored changes. */
export function removeStored(name: string): void {
  if (findLive(name)) throw new UserError(`container '${name}' is running: stop it first`);
  const dir = persistentDir(name);
  if (!fs.existsSync(dir)) throw new UserError(`no stored container named '${name}' (see \`containy-learn ps\`)`);
  fs.rmSync(dir, { recursive: true, force: true });
}
