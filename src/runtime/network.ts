// A container's network, docker's `--network` and `-p`, wired from the blocks in
// net/: planned from the spec before anything is created (a taken port or a
// container:NAME that does not run refuses the start with nothing made),
// attached from the launcher once the stage exists and before its order is
// sent, detached when the container ends (exit, stop, process exit, a failed
// start). Modes:
//   none (default)   a new, empty network namespace: only lo, down (lesson 2)
//   bridge           a veth pair to the bridge containy0, eth0 with an address
//   host             no network namespace: the host's links
//   container:NAME   the network namespace of another running container
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { stateRoot } from './paths.js';
import * as records from './records.js';
import type { NamespaceName } from './namespaces.js';
import type { RootSetup } from './start/protocol.js';
import {
  hostnameFileText, hostsFileText, listenPublished, parsePublishList, setupBridgeNetwork, teardownBridgeNetwork,
  type BridgeAttachment, type PortProxy,
} from './net/index.js';

export type NetworkMode = 'none' | 'bridge' | 'host' | `container:${string}`;


/** Check a --network value: none, bridge, host or container:NAME. */
export function parseNetworkMode(text: string): NetworkMode {
  if (text === 'none' || text === 'bridge' || text === 'host') return text;
  if (text.startsWith('container:') && text.length > 'container:'.length) return text as NetworkMode;
  throw new UserError(`--network: unknown network mode '${text}': use none, bridge, host or container:NAME`);
}

export class ContainerNetwork {
  private attachment?: BridgeAttachment;
  private detached = false;
  /** How long the bridge's netlink setup and teardown took (bridge mode), for the benchmark. */
  setupMs?: number;
  teardownMs?: number;

  private constructor(
    readonly mode: NetworkMode,
    /** The namespaces the container lists (net kept for container:NAME, so exec joins it). */
    readonly namespaces: NamespaceName[],
    /** container:NAME: the spawning thread joins this PID's network namespace instead of making one. */
    readonly joinNetPid: number | undefined,
    private readonly proxies: PortProxy[],
  ) {}

  /**
   * Check the mode and the -p values, and listen on every published port (a
   * taken port is refused here, before anything is created).
   */
  static async plan(spec: { network?: string; publish?: string[] }, namespaces: NamespaceName[]): Promise<ContainerNetwork> {
    const mode = parseNetworkMode(spec.network ?? 'none');
    const publish = parsePublishList(spec.publish ?? []);
    if (publish.length > 0 && mode !== 'bridge') {
      throw new UserError(`-p needs --network bridge: a port is published to the container's bridge address (this run's network is ${mode})`);
    }
    const withNet = namespaces.includes('net') ? namespaces : [...namespaces, 'net' as const];
    let joinNetPid: number | undefined;
    if (mode.startsWith('container:')) {
      const other = mode.slice('container:'.length);
      const record = records.findLive(other);
      if (!record?.pid) throw new UserError(`--network ${mode}: no running container named '${other}': start it first, or use --network bridge`);
      joinNetPid = record.pid;
    }
    const proxies: PortProxy[] = [];
    try {
      for (const p of publish) proxies.push(await listenPublished(p));
    } catch (err) {
      for (const p of proxies) void p.close();
      throw err;
    }
    const chosen = mode === 'host' ? namespaces.filter((ns) => ns !== 'net') : mode === 'none' && !spec.network ? namespaces : withNet;
    return new ContainerNetwork(mode, chosen, joinNetPid, proxies);
  }

  /** Whether the stage may be spawned from the launcher's own thread: not if this thread must stay in the host's netns. */
  get allowsOnThisThread(): boolean {
    return this.mode !== 'bridge';
  }

  /** Whether the spawning thread unshares a network namespace. */
  get unsharesNet(): boolean {
    return this.namespaces.includes('net') && this.joinNetPid === undefined;
  }

  get address(): string | undefined {
    return this.attachment?.address;
  }

  get record(): records.NetworkRecord | undefined {
    const a = this.attachment;
    return a && { bridge: a.bridge, hostVeth: a.hostVeth, address: a.address };
  }

  /**
   * From the launcher's thread, in the host's network namespace, once the stage
   * exists: the bridge, the veth pair and eth0's address (bridge mode), the
   * proxies' target, and /etc/hosts and /etc/hostname added to the root's binds.
   */
  attach(stagePid: number, name: string, hostname: string | undefined, root: RootSetup | undefined): void {
    if (this.mode === 'bridge') {
      const t0 = performance.now();
      this.attachment = setupBridgeNetwork({ pid: stagePid, containerName: name, stateDir: stateRoot(), ownerPid: process.pid });
      this.setupMs = performance.now() - t0;
      records.update(name, { network: this.record });
      for (const p of this.proxies) p.forwardTo(this.attachment.address);
    }
    if (!root || this.mode === 'none' || this.mode === 'host') return;
    const dir = records.etcDir(name);
    fs.mkdirSync(dir, { recursive: true });
    const host = hostname ?? name;
    fs.writeFileSync(path.join(dir, 'hosts'), hostsFileText(host, this.attachment?.address));
    fs.writeFileSync(path.join(dir, 'hostname'), hostnameFileText(host));
    for (const file of ['hosts', 'hostname']) {
      const target = `/etc/${file}`;
      if (!root.binds.some((b) => b.target === target)) root.binds.push({ source: path.join(dir, file), target, readonly: false });
    }
  }

  /** Stop listening on the published ports (a start refused before anything was attached). */
  closePorts(): void {
    for (const p of this.proxies) void p.close();
  }

  /** Synchronous, so it can run at process exit: the proxies stop, the veth, lease and (if last) the bridge go. */
  detach(name: string): void {
    if (this.detached) return;
    this.detached = true;
    this.closePorts();
    fs.rmSync(records.etcDir(name), { recursive: true, force: true });
    const record = this.record;
    if (!record) return;
    const t0 = performance.now();
    teardownBridgeNetwork(record, { stateDir: stateRoot() });
    this.teardownMs = performance.now() - t0;
  }
}
