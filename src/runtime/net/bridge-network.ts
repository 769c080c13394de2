// A container on the bridge, as docker's default network and CNI's bridge
// plugin make it, built with our own rtnetlink requests:
//
//   host:      containy0 (10.88.0.1/16, up) <- port - vethXXXXXXX (up)
//                                                       | veth pair
//   container:                       eth0 (10.88.0.N/16, up), lo up,
//                                    default via 10.88.0.1
//
// The peer is created straight inside the container's network namespace, so
// it never appears on the host. A veth pair dies with its namespace; the
// bridge, with its address and its subnet's route, is ours to remove when no
// container uses it. Leases (addresses.ts) say who uses it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as libc from '../libc.js';
import { isAlive } from '../pids.js';
import { BugError } from '../errors.js';
import { AddressPool, chooseBridgeSubnet, formatSubnet, gatewayOf, readLeases, reclaimLeases, subnetOf, type AddressLease, type Subnet } from './addresses.js';
import { NetlinkError, RouteSocket, withRouteSocket } from './rtnetlink.js';

export const DEFAULT_BRIDGE = 'containy0';
/** The container's end of its veth pair. */
export const CONTAINER_INTERFACE = 'eth0';

/** "veth" and 7 hex digits of the container's name: 11 bytes, within IFNAMSIZ, stable for one name. */
export function hostVethName(containerId: string): string {
  return `veth${crypto.createHash('sha256').update(containerId).digest('hex').slice(0, 7)}`;
}

const leaseDir = (stateDir: string, bridge: string) => path.join(stateDir, 'net', bridge);

/**
 * One process at a time decides on a bridge: creating it, leasing from it,
 * removing it. The lock is flock(2) on the state's net/ directory itself, not
 * on a lock file: a lock file could never be removed safely (a process that
 * opened it before the unlink would lock the old inode while the next one
 * locks a new file), and the host is to be left as it was found.
 */
function withBridgeLock<T>(stateDir: string, bridge: string, fn: () => T): T {
  fs.mkdirSync(path.join(stateDir, 'net'), { recursive: true });
  const fd = fs.openSync(path.join(stateDir, 'net'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    libc.flock(fd, libc.LOCK_EX, `lock for bridge ${bridge}`); // held for a few netlink round trips at most
    return fn();
  } finally {
    fs.closeSync(fd); // closing releases the lock
  }
}

const isErrno = (err: unknown, code: string) => err instanceof NetlinkError && err.code === code;

/** Routes (main table) and addresses of the host, but for those on link `except`. */
function hostSubnets(host: RouteSocket, except?: number): Subnet[] {
  const routes = host.routes().filter((r) => r.outIndex !== except && r.destination !== 'default');
  const addrs = host.addresses().filter((a) => a.family === 'inet' && a.index !== except);
  return [
    ...routes.map((r) => ({ network: r.destination, prefixLength: r.prefixLength })),
    ...addrs.map((a) => subnetOf(a.address, a.prefixLength)),
  ];
}

/** The bridge up with its gateway address, created if need be; its index and subnet. */
function ensureBridge(host: RouteSocket, bridge: string): { index: number; subnet: Subnet } {
  let link = host.link(bridge);
  if (!link) {
    try {
      host.createBridge(bridge);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err; // made meanwhile by a containy-learn with another state dir
    }
    link = host.link(bridge)!;
  }
  const own = host.addresses().find((a) => a.index === link.index && a.family === 'inet');
  let subnet: Subnet;
  if (own) {
    subnet = subnetOf(own.address, own.prefixLength);
  } else {
    subnet = chooseBridgeSubnet(hostSubnets(host, link.index));
    host.addAddress(link.index, gatewayOf(subnet), subnet.prefixLength, bridge);
  }
  if (!link.up) host.setUp(link.index, bridge);
  return { index: link.index, subnet };
}

export interface BridgeNetworkOptions {
  /** An open /proc/PID/ns/net of the container (kept open by the caller), or: */
  netnsFd?: number;
  /** the PID of a process in the container's network namespace (the stage). */
  pid?: number;
  containerName: string;
  /** Where leases are kept (the run records' state dir). */
  stateDir: string;
  bridge?: string;
  /** Who owns the lease: the containy-learn process that owns the container. */
  ownerPid?: number;
}

export interface BridgeAttachment {
  bridge: string;
  /** e.g. 10.88.0.0/16 */
  subnet: string;
  hostVeth: string;
  containerInterface: string;
  address: string;
  prefixLength: number;
  gateway: string;
}

/**
 * Put a container on the bridge: the bridge (created if absent), a lease, a
 * veth pair with its peer as eth0 in the container, and in there lo and eth0
 * up, the address and a default route via the bridge. On any failure what was
 * made is undone and the error says which request was refused.
 */
export function setupBridgeNetwork(opts: BridgeNetworkOptions): BridgeAttachment {
  const bridge = opts.bridge ?? DEFAULT_BRIDGE;
  const hostVeth = hostVethName(opts.containerName);
  const ownNsFd = opts.netnsFd === undefined;
  if (ownNsFd && opts.pid === undefined) throw new Error('setupBridgeNetwork needs netnsFd or pid');
  const nsFd = opts.netnsFd ?? fs.openSync(`/proc/${opts.pid}/ns/net`, 'r');
  if (fs.fstatSync(nsFd).ino === fs.statSync('/proc/thread-self/ns/net').ino) {
    if (ownNsFd) fs.closeSync(nsFd);
    // eth0, an address and a default route would land on the host itself
    throw new BugError(`setupBridgeNetwork: container ${opts.containerName} is in this thread's own network namespace, not a new one`);
  }
  const host = RouteSocket.open();
  let pool: AddressPool | undefined;
  let address: string | undefined;
  let vethMade = false;
  try {
    const { index: bridgeIndex, subnet } = withBridgeLock(opts.stateDir, bridge, () => {
      const b = ensureBridge(host, bridge);
      pool = new AddressPool(leaseDir(opts.stateDir, bridge), b.subnet);
      address = pool.allocate({ ownerPid: opts.ownerPid ?? process.pid, container: opts.containerName, hostVeth });
      return b;
    });
    const gateway = gatewayOf(subnet);
    host.createVethPair(hostVeth, CONTAINER_INTERFACE, nsFd);
    vethMade = true;
    const vethIndex = host.indexOf(hostVeth);
    host.setMaster(vethIndex, bridgeIndex, hostVeth);
    host.setUp(vethIndex, hostVeth);
    withRouteSocket((inside) => {
      inside.setUp(inside.indexOf('lo'), 'lo');
      const eth0 = inside.indexOf(CONTAINER_INTERFACE);
      inside.setUp(eth0, CONTAINER_INTERFACE);
      inside.addAddress(eth0, address!, subnet.prefixLength, CONTAINER_INTERFACE);
      inside.addDefaultRoute(gateway, eth0);
    }, { fd: nsFd, where: `container ${opts.containerName}` });
    return { bridge, subnet: formatSubnet(subnet), hostVeth, containerInterface: CONTAINER_INTERFACE, address: address!, prefixLength: subnet.prefixLength, gateway };
  } catch (err) {
    if (vethMade) deleteLinkIfPresent(host, hostVeth); // takes the peer with it
    if (address) pool!.release(address);
    removeBridgeIfUnused({ stateDir: opts.stateDir, bridge }); // a failed first container leaves no bridge
    throw err;
  } finally {
    host.close();
    if (ownNsFd) fs.closeSync(nsFd);
  }
}

function deleteLinkIfPresent(host: RouteSocket, name: string): boolean {
  try {
    host.deleteLink(name);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENODEV')) return false; // gone with its namespace already
    throw err;
  }
}

/**
 * Take a container off the bridge: its veth pair (if its namespace has not
 * taken it already), its lease, and, unless other containers use it, the bridge.
 */
export function teardownBridgeNetwork(attachment: Pick<BridgeAttachment, 'bridge' | 'hostVeth' | 'address'>, opts: { stateDir: string; keepBridge?: boolean }): void {
  withRouteSocket((host) => deleteLinkIfPresent(host, attachment.hostVeth));
  fs.rmSync(path.join(leaseDir(opts.stateDir, attachment.bridge), attachment.address), { force: true });
  if (!opts.keepBridge) removeBridgeIfUnused({ stateDir: opts.stateDir, bridge: attachment.bridge });
}

/** Delete the bridge (its address and route go with it) when no lease and no port is left. True if deleted. */
export function removeBridgeIfUnused(opts: { stateDir: string; bridge?: string }): boolean {
  const bridge = opts.bridge ?? DEFAULT_BRIDGE;
  return withBridgeLock(opts.stateDir, bridge, () => {
    const dir = leaseDir(opts.stateDir, bridge);
    if (readLeases(dir).length > 0) return false;
    const removed = withRouteSocket((host) => {
      const link = host.link(bridge);
      if (!link) return false;
      if (host.links().some((l) => l.master === link.index)) return false; // ports someone else put there
      return deleteLinkIfPresent(host, bridge);
    });
    // No lease is left, and leases are made under this lock: the directory goes too.
    fs.rmSync(dir, { recursive: true, force: true });
    return removed;
  });
}

export interface BridgeCleanupReport {
  leases: AddressLease[];
  links: string[];
  bridgeRemoved: boolean;
}

/**
 * For `cleanup`: leases of dead owners, the host veths they left, then the
 * bridge if unused. `liveOwners` defaults to the lease owners that are alive.
 */
export function cleanupBridgeNetwork(opts: { stateDir: string; bridge?: string; liveOwners?: ReadonlySet<number> }): BridgeCleanupReport {
  const bridge = opts.bridge ?? DEFAULT_BRIDGE;
  const dir = leaseDir(opts.stateDir, bridge);
  const { leases, links } = withBridgeLock(opts.stateDir, bridge, () => {
    const dead = reclaimLeases(dir, opts.liveOwners ?? new Set(readLeases(dir).map((l) => l.ownerPid).filter(isAlive)));
    // A live lease may hold the same veth name (the same container name, started again): leave it.
    const liveVeths = new Set(readLeases(dir).map((l) => l.hostVeth));
    const removed = withRouteSocket((host) => dead.filter((l) => !liveVeths.has(l.hostVeth) && deleteLinkIfPresent(host, l.hostVeth)).map((l) => l.hostVeth));
    return { leases: dead, links: removed };
  });
  return { leases, links, bridgeRemoved: removeBridgeIfUnused({ stateDir: opts.stateDir, bridge }) };
}

/** /etc/hosts for a container, as docker writes it: localhost, and the container's name on its address. */
export function hostsFileText(hostname: string, address?: string): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    ...(address ? [`${address}\t${hostname}`] : []),
    '',
  ].join('\n');
}

export function hostnameFileText(hostname: string): string {
  return `${hostname}\n`;
}
