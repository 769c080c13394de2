// IPv4 addresses for the bridge's subnet: which /16 the bridge takes, and which
// container holds which address. A lease is one file per address, named by the
// address and created with O_EXCL, so two containy-learn processes can never
// take the same one; it names its owner's PID so that `cleanup` can reclaim the
// leases of owners that died (kill -9) and the host veth they left.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

export interface Subnet {
  network: string;
  prefixLength: number;
}

export function ipv4ToInt(address: string): number {
  const p = address.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const mask = (prefixLength: number) => (prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0);

/** The subnet an address with this prefix is on (10.88.0.7/16 -> 10.88.0.0/16). */
export function subnetOf(address: string, prefixLength: number): Subnet {
  return { network: intToIpv4((ipv4ToInt(address) & mask(prefixLength)) >>> 0), prefixLength };
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  return ((ipv4ToInt(a.network) ^ ipv4ToInt(b.network)) & mask(shorter)) >>> 0 === 0;
}

export const formatSubnet = (s: Subnet) => `${s.network}/${s.prefixLength}`;

/** Where the bridge may live, first choice first: 10.88.0.0/16 (podman's too), up to 10.99, then 172.30 and 172.31. */
export const BRIDGE_SUBNET_CANDIDATES: Subnet[] = [
  ...Array.from({ length: 12 }, (_, i) => ({ network: `10.${88 + i}.0.0`, prefixLength: 16 })),
  { network: '172.30.0.0', prefixLength: 16 },
  { network: '172.31.0.0', prefixLength: 16 },
];

/**
 * The first candidate that overlaps none of the host's routes and addresses.
 * A default route (0/0) overlaps everything and is not counted: traffic for a
 * more specific route of ours never takes it.
 */
export function chooseBridgeSubnet(taken: Subnet[]): Subnet {
  const specific = taken.filter((t) => t.prefixLength > 0);
  const free = BRIDGE_SUBNET_CANDIDATES.find((c) => !specific.some((t) => overlaps(c, t)));
  if (!free) {
    throw new UserError(
      `no free range for the bridge: ${formatSubnet(BRIDGE_SUBNET_CANDIDATES[0])} to ${formatSubnet(BRIDGE_SUBNET_CANDIDATES.at(-1)!)} all overlap this host's routes (see \`ip route\`)`,
    );
  }
  return free;
}

/** The bridge's own address: the subnet's first host (10.88.0.1). */
export const gatewayOf = (s: Subnet) => intToIpv4(ipv4ToInt(s.network) + 1);

export interface AddressLease {
  address: string;
  /** The containy-learn process that owns the container. */
  ownerPid: number;
  container: string;
  /** The host end of the container's veth pair, for cleanup after a kill -9. */
  hostVeth: string;
}

/** The leases of one bridge, as files in `dir`. */
export class AddressPool {
  constructor(readonly dir: string, readonly subnet: Subnet) {}

  /** Take the lowest free address (after the gateway) for `owner`. */
  allocate(owner: Omit<AddressLease, 'address'>): string {
    fs.mkdirSync(this.dir, { recursive: true });
    const held = new Set(fs.readdirSync(this.dir));
    const first = ipv4ToInt(this.subnet.network) + 2;
    const broadcast = (ipv4ToInt(this.subnet.network) | ~mask(this.subnet.prefixLength)) >>> 0;
    for (let n = first; n < broadcast; n++) {
      const address = intToIpv4(n);
      if (held.has(address)) continue;
      try {
        fs.writeFileSync(path.join(this.dir, address), JSON.stringify({ address, ...owner }), { flag: 'wx' });
        return address;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // another process took it between our readdir and now: try the next
      }
    }
    throw new UserError(`every address of ${formatSubnet(this.subnet)} is taken: stop some containers or run \`containy-learn cleanup\``);
  }

  release(address: string): void {
    fs.rmSync(path.join(this.dir, address), { force: true });
  }
}

/** Every lease in `dir`, whatever subnet it was taken from. */
export function readLeases(dir: string): AddressLease[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: AddressLease[] = [];
  for (const name of names) {
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as AddressLease);
    } catch {
      // released while we read, or half-written by a process that died: not a lease
    }
  }
  return out;
}

/** Remove the leases whose owner is not among `liveOwners`; returns them (their host veths may need deleting). */
export function reclaimLeases(dir: string, liveOwners: ReadonlySet<number>): AddressLease[] {
  const dead = readLeases(dir).filter((l) => !liveOwners.has(l.ownerPid));
  for (const l of dead) fs.rmSync(path.join(dir, l.address), { force: true });
  return dead;
}
