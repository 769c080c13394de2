// The networking blocks that need no root: rtnetlink bytes both ways, the error
// sentences, -p parsing, the subnet choice and the address leases, and the
// port proxy and reachability check on the loopback.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AF_INET, AF_INET6, IFLA, IFLA_INFO, NLMSG, NLM_F, RTA, RTM, VETH_INFO_PEER, attr, decodeAddress, decodeAttrs,
  decodeError, decodeLink, decodeMessages, decodeRoute, encodeAttrs, encodeMessage, ifaddrmsg, ifinfomsg, rtmsg,
} from '../../src/runtime/net/netlink-messages.js';
import { NetlinkError } from '../../src/runtime/net/rtnetlink.js';
import {
  AddressPool, BRIDGE_SUBNET_CANDIDATES, chooseBridgeSubnet, gatewayOf, overlaps, readLeases, reclaimLeases, subnetOf,
} from '../../src/runtime/net/addresses.js';
import { hostVethName, hostsFileText, hostnameFileText } from '../../src/runtime/net/bridge-network.js';
import { listenPublished, parsePublish, parsePublishList } from '../../src/runtime/net/publish.js';
import { tcpReachable } from '../../src/runtime/net/reachability.js';
import { UserError } from '../../src/runtime/errors.js';

/** What the kernel would send: nlmsghdr + payload. */
function kernelMessage(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(16 + payload.length, 0);
  head.writeUInt16LE(type, 4);
  head.writeUInt16LE(flags, 6);
  head.writeUInt32LE(seq, 8);
  return Buffer.concat([head, payload, Buffer.alloc(((payload.length + 3) & ~3) - payload.length)]);
}

describe('netlink message encoding', () => {
  it('lays out nlmsghdr, the family header and padded attributes as the kernel reads them', () => {
    const msg = encodeMessage(RTM.NEWLINK, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, 7, ifinfomsg(), [
      attr.string(IFLA.IFNAME, 'br0'),
    ]);
    // 16 header + 16 ifinfomsg + rtattr(4 + "br0\0") = 40
    expect(msg.length).toBe(40);
    expect(msg.readUInt32LE(0)).toBe(40);
    expect(msg.readUInt16LE(4)).toBe(16);
    expect(msg.readUInt16LE(6)).toBe(0x1 | 0x4 | 0x400 | 0x200);
    expect(msg.readUInt32LE(8)).toBe(7);
    expect(msg.readUInt16LE(32)).toBe(8); // rta_len
    expect(msg.readUInt16LE(34)).toBe(IFLA.IFNAME);
    expect(msg.subarray(36, 40).toString()).toBe('br0\0');
  });

  it('pads an attribute to 4 bytes, but its length says the real size', () => {
    const b = encodeAttrs([attr.string(IFLA.IFNAME, 'eth0'), attr.u32(IFLA.MASTER, 9)]);
    expect(b.readUInt16LE(0)).toBe(9); // 4 + "eth0\0"
    expect(b.length).toBe(12 + 8);
    expect(b.readUInt16LE(12)).toBe(8);
    expect(b.readUInt32LE(16)).toBe(9);
  });

  it('round-trips a veth request: linkinfo > info_data > veth_info_peer holds an ifinfomsg, the peer name and the netns fd', () => {
    const peerAttrs = encodeAttrs([attr.string(IFLA.IFNAME, 'eth0'), attr.u32(IFLA.NET_NS_FD, 42)]);
    const msg = encodeMessage(RTM.NEWLINK, NLM_F.REQUEST, 1, ifinfomsg(), [
      attr.string(IFLA.IFNAME, 'vethabc'),
      attr.nested(IFLA.LINKINFO, [
        attr.string(IFLA_INFO.KIND, 'veth'),
        attr.nested(IFLA_INFO.DATA, [attr.raw(VETH_INFO_PEER, Buffer.concat([ifinfomsg(), peerAttrs]))]),
      ]),
    ]);
    const [m] = decodeMessages(msg);
    expect(m.type).toBe(RTM.NEWLINK);
    const top = decodeAttrs(m.payload.subarray(16));
    expect(top.get(IFLA.IFNAME)!.toString()).toBe('vethabc\0');
    // the nested flag (0x8000) is set on the wire and stripped when read
    expect(msg.readUInt16LE(16 + 16 + 12 + 2) & 0x8000).toBe(0x8000);
    const info = decodeAttrs(top.get(IFLA.LINKINFO)!);
    expect(info.get(IFLA_INFO.KIND)!.toString()).toBe('veth\0');
    const peer = decodeAttrs(info.get(IFLA_INFO.DATA)!).get(VETH_INFO_PEER)!;
    const inner = decodeAttrs(peer.subarray(16));
    expect(inner.get(IFLA.IFNAME)!.toString()).toBe('eth0\0');
    expect(inner.get(IFLA.NET_NS_FD)!.readUInt32LE(0)).toBe(42);
  });

  it('sets only IFF_UP when bringing a link up (flags and change both IFF_UP)', () => {
    const h = ifinfomsg({ index: 5, flags: 1, change: 1 });
    expect([h.readInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)]).toEqual([5, 1, 1]);
  });

  it('splits a datagram holding several messages', () => {
    const a = kernelMessage(RTM.NEWLINK, NLM_F.MULTI, 3, Buffer.alloc(17));
    const b = kernelMessage(NLMSG.DONE, NLM_F.MULTI, 3, Buffer.alloc(4));
    const msgs = decodeMessages(Buffer.concat([a, b]));
    expect(msgs.map((m) => [m.type, m.seq, m.payload.length])).toEqual([[RTM.NEWLINK, 3, 17], [NLMSG.DONE, 3, 4]]);
  });
});

describe('netlink answers', () => {
  it('decodes an ack (error 0) and a refusal with the kernel\'s extended-ack message', () => {
    const ack = Buffer.alloc(4 + 16);
    expect(decodeError(decodeMessages(kernelMessage(NLMSG.ERROR, NLM_F.CAPPED, 1, ack))[0])).toEqual({ errno: 0, kernelMessage: undefined });
    const refusal = Buffer.concat([Buffer.alloc(4 + 16), encodeAttrs([attr.string(1, 'Unknown device type')])]);
    refusal.writeInt32LE(-95, 0); // -EOPNOTSUPP
    const m = decodeMessages(kernelMessage(NLMSG.ERROR, NLM_F.CAPPED | NLM_F.ACK_TLVS, 1, refusal))[0];
    expect(decodeError(m)).toEqual({ errno: 95, kernelMessage: 'Unknown device type' });
  });

  it('says a refusal in one sentence, naming the request and the link', () => {
    const e = new NetlinkError(RTM.NEWLINK, 17, 'create bridge containy0', 'a link named containy0 already exists');
    expect(e.message).toBe('RTM_NEWLINK (create bridge containy0) failed with EEXIST: a link named containy0 already exists');
    expect(e.code).toBe('EEXIST');
    const generic = new NetlinkError(RTM.NEWLINK, 95, 'create bridge x', undefined, 'Unknown device type');
    expect(generic.message).toMatch(/^RTM_NEWLINK \(create bridge x\) failed with EOPNOTSUPP: this kernel does not offer that link type .*\(the kernel says: Unknown device type\)$/);
  });

  it('reads a link: name, state, kind, veth peer index and master', () => {
    const payload = Buffer.concat([
      ifinfomsg({ index: 6, flags: 0x1 | 0x10000 }),
      encodeAttrs([
        attr.string(IFLA.IFNAME, 'veth04d588c'),
        attr.u32(IFLA.MTU, 1500),
        attr.u32(IFLA.LINK, 2),
        attr.u32(IFLA.MASTER, 5),
        { type: IFLA.OPERSTATE, value: Buffer.from([6]) },
        attr.nested(IFLA.LINKINFO, [attr.string(IFLA_INFO.KIND, 'veth')]),
        { type: IFLA.LINK_NETNSID, value: Buffer.from([0, 0, 0, 0]) },
      ]),
    ]);
    expect(decodeLink(payload)).toEqual({
      index: 6, name: 'veth04d588c', up: true, lowerUp: true, state: 'UP', kind: 'veth', peerIndex: 2, peerNetnsId: 0, master: 5, mtu: 1500,
    });
  });

  it('reads IPv4 and IPv6 addresses, writing IPv6 as ip does', () => {
    const v4 = Buffer.concat([ifaddrmsg({ family: AF_INET, prefixLength: 16, index: 2 }), encodeAttrs([attr.ipv4(2, '10.88.0.2'), attr.string(3, 'eth0')])]);
    expect(decodeAddress(v4)).toEqual({ index: 2, family: 'inet', address: '10.88.0.2', prefixLength: 16, scope: 0, label: 'eth0' });
    const raw = Buffer.alloc(16);
    raw.writeUInt16BE(0xfe80, 0);
    raw.writeUInt16BE(0xfc, 8);
    raw.writeUInt16BE(0xff, 10);
    raw.writeUInt16BE(0xfe00, 12);
    raw.writeUInt16BE(1, 14);
    const v6 = Buffer.concat([ifaddrmsg({ family: AF_INET6, prefixLength: 64, scope: 253, index: 4 }), encodeAttrs([{ type: 1, value: raw }])]);
    expect(decodeAddress(v6).address).toBe('fe80::fc:ff:fe00:1');
    const loop = Buffer.alloc(16);
    loop[15] = 1;
    expect(decodeAddress(Buffer.concat([ifaddrmsg({ family: AF_INET6, prefixLength: 128 }), encodeAttrs([{ type: 1, value: loop }])])).address).toBe('::1');
  });

  it('reads a default route and a subnet route of the main table', () => {
    const dflt = Buffer.concat([rtmsg({ family: AF_INET, table: 254, protocol: 3, type: 1 }), encodeAttrs([attr.ipv4(RTA.GATEWAY, '10.88.0.1'), attr.u32(RTA.OIF, 2), attr.u32(RTA.TABLE, 254)])]);
    expect(decodeRoute(dflt)).toEqual({ family: 'inet', destination: 'default', prefixLength: 0, table: 254, protocol: 3, scope: 0, type: 1, gateway: '10.88.0.1', outIndex: 2 });
    const subnet = Buffer.concat([rtmsg({ family: AF_INET, dstLength: 16, table: 254, protocol: 2, scope: 253, type: 1 }), encodeAttrs([attr.ipv4(RTA.DST, '10.88.0.0'), attr.u32(RTA.OIF, 5), attr.ipv4(RTA.PREFSRC, '10.88.0.1')])]);
    expect(decodeRoute(subnet)).toMatchObject({ destination: '10.88.0.0', prefixLength: 16, outIndex: 5, preferredSource: '10.88.0.1', scope: 253 });
  });
});

describe('-p/--publish', () => {
  it('reads [IP:]HOSTPORT:CONTAINERPORT[/tcp], defaulting to every address as docker does', () => {
    expect(parsePublish('8080:80')).toEqual({ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80 });
    expect(parsePublish('127.0.0.1:8080:80/tcp')).toEqual({ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 });
    expect(parsePublish('1:65535/TCP')).toEqual({ hostIp: '0.0.0.0', hostPort: 1, containerPort: 65535 });
  });

  it.each([
    ['8080:80/udp', /^-p 8080:80\/udp: only TCP ports can be published here .*drop \/udp$/],
    ['0:80', /the host port 0 is out of range: ports go from 1 to 65535/],
    ['8080:70000', /the container port 70000 is out of range/],
    ['80', /give the host port too: -p HOSTPORT:80/],
    ['x:80', /the host port 'x' is not a number/],
    ['localhost:8080:80', /'localhost' is not an IPv4 address/],
    ['8000-8001:80', /port ranges are not supported/],
    ['8080:80/tcp/tcp', /write the protocol once/],
    ['8080:80/http', /unknown protocol 'http'/],
  ])('refuses %s with one sentence', (flag, message) => {
    expect(() => parsePublish(flag)).toThrow(UserError);
    expect(() => parsePublish(flag)).toThrow(message);
  });

  it('refuses the same host port twice', () => {
    expect(() => parsePublishList(['8080:80', '127.0.0.1:8080:81'])).toThrow(/host port 8080 is published twice/);
    expect(parsePublishList(['127.0.0.1:8080:80', '127.0.0.2:8080:80'])).toHaveLength(2);
  });
});

describe('the port proxy and the reachability check (loopback only)', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  function listen(handler: (s: net.Socket) => void): Promise<number> {
    const server = net.createServer(handler);
    servers.push(server);
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  }

  function fetchAll(port: number, send: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('end', () => {
        s.end();
        resolve(got);
      });
      s.on('error', reject);
      s.end(send); // half-close: the far side sees our FIN and still answers
    });
  }

  it('copies both ways, passes a half-close through, and waits for forwardTo', async () => {
    const upstream = await listen((s) => {
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('end', () => s.end(`echo:${got}`));
    });
    const proxy = await listenPublished({ hostIp: '127.0.0.1', hostPort: await freePort(), containerPort: upstream });
    const answer = fetchAll(proxy.spec.hostPort, 'hello');
    await new Promise((r) => setTimeout(r, 50)); // the connection waits for a target
    proxy.forwardTo('127.0.0.1');
    expect(await answer).toBe('echo:hello');
    await proxy.close();
    expect((await tcpReachable('127.0.0.1', proxy.spec.hostPort, 1000)).reachable).toBe(false);
  });

  it('says a taken port is in use, naming the port and the address', async () => {
    const taken = await listen(() => {});
    await expect(listenPublished({ hostIp: '127.0.0.1', hostPort: taken, containerPort: 80 })).rejects.toThrow(
      `port ${taken} is already in use on 127.0.0.1: pick another host port for -p`,
    );
  });

  it('tells reachable from refused', async () => {
    const open = await listen((s) => s.end());
    expect(await tcpReachable('127.0.0.1', open, 1000)).toMatchObject({ reachable: true });
    const closed = await freePort();
    const r = await tcpReachable('127.0.0.1', closed, 1000);
    expect(r.reachable).toBe(false);
    expect(r.reason).toMatch(/^ECONNREFUSED: .*nothing listens/);
  });
});

function freePort(): Promise<number> {
  const s = net.createServer();
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => {
    const { port } = s.address() as net.AddressInfo;
    s.close(() => resolve(port));
  }));
}

describe('bridge subnet and address leases', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('takes 10.88.0.0/16 unless a host route or address overlaps it, then the next /16', () => {
    expect(chooseBridgeSubnet([])).toEqual({ network: '10.88.0.0', prefixLength: 16 });
    // a default route overlaps everything and does not count
    expect(chooseBridgeSubnet([{ network: '0.0.0.0', prefixLength: 0 }, { network: '192.0.2.0', prefixLength: 24 }]).network).toBe('10.88.0.0');
    expect(chooseBridgeSubnet([{ network: '10.88.5.0', prefixLength: 24 }]).network).toBe('10.89.0.0');
    expect(chooseBridgeSubnet([{ network: '10.0.0.0', prefixLength: 8 }]).network).toBe('172.30.0.0');
    const all = BRIDGE_SUBNET_CANDIDATES.map((c) => ({ ...c }));
    expect(() => chooseBridgeSubnet(all)).toThrow(/^no free range for the bridge: 10\.88\.0\.0\/16 to 172\.31\.0\.0\/16 all overlap/);
  });

  it('computes subnets, overlaps and the gateway', () => {
    expect(subnetOf('10.88.7.9', 16)).toEqual({ network: '10.88.0.0', prefixLength: 16 });
    expect(overlaps({ network: '10.88.0.0', prefixLength: 16 }, { network: '10.88.255.0', prefixLength: 24 })).toBe(true);
    expect(overlaps({ network: '10.88.0.0', prefixLength: 16 }, { network: '10.89.0.0', prefixLength: 16 })).toBe(false);
    expect(overlaps({ network: '172.30.0.0', prefixLength: 16 }, { network: '172.16.0.0', prefixLength: 12 })).toBe(true);
    expect(gatewayOf({ network: '10.88.0.0', prefixLength: 16 })).toBe('10.88.0.1');
  });

  it('hands out each address once, as files made with O_EXCL, and releases them', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-test-leases-'));
    const subnet = { network: '10.88.0.0', prefixLength: 16 };
    const a = new AddressPool(dir, subnet);
    const b = new AddressPool(dir, subnet); // another process's view of the same dir
    const first = a.allocate({ ownerPid: 1, container: 'one', hostVeth: 'veth1' });
    const second = b.allocate({ ownerPid: 2, container: 'two', hostVeth: 'veth2' });
    expect([first, second]).toEqual(['10.88.0.2', '10.88.0.3']);
    expect(readLeases(dir).map((l) => l.container).sort()).toEqual(['one', 'two']);
    a.release(first);
    expect(b.allocate({ ownerPid: 3, container: 'three', hostVeth: 'veth3' })).toBe('10.88.0.2');
  });

  it('never hands out the network, the gateway or the broadcast address, and says when the subnet is full', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-test-leases-'));
    const pool = new AddressPool(dir, { network: '10.88.0.0', prefixLength: 30 }); // .0 net, .1 gw, .2 host, .3 broadcast
    expect(pool.allocate({ ownerPid: 1, container: 'a', hostVeth: 'v' })).toBe('10.88.0.2');
    expect(() => pool.allocate({ ownerPid: 1, container: 'b', hostVeth: 'v' })).toThrow(/every address of 10\.88\.0\.0\/30 is taken/);
  });

  it('reclaims the leases of owners that are not alive, and keeps the rest', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-test-leases-'));
    const pool = new AddressPool(dir, { network: '10.88.0.0', prefixLength: 16 });
    pool.allocate({ ownerPid: 100, container: 'alive', hostVeth: 'vethaaaaaaa' });
    pool.allocate({ ownerPid: 200, container: 'dead', hostVeth: 'vethbbbbbbb' });
    const reclaimed = reclaimLeases(dir, new Set([100]));
    expect(reclaimed).toEqual([{ address: '10.88.0.3', ownerPid: 200, container: 'dead', hostVeth: 'vethbbbbbbb' }]);
    expect(readLeases(dir).map((l) => l.container)).toEqual(['alive']);
  });
});

describe('names and files for a container on the bridge', () => {
  it('names the host veth "veth" and 7 hex digits of the container, within IFNAMSIZ', () => {
    const name = hostVethName('web');
    expect(name).toMatch(/^veth[0-9a-f]{7}$/);
    expect(name).toBe(hostVethName('web'));
    expect(name).not.toBe(hostVethName('db'));
  });

  it('writes /etc/hosts with localhost and the container on its address, and /etc/hostname', () => {
    const hosts = hostsFileText('web', '10.88.0.2');
    expect(hosts.split('\n')[0]).toBe('127.0.0.1\tlocalhost');
    expect(hosts).toContain('\n10.88.0.2\tweb\n');
    expect(hostsFileText('web')).not.toContain('web');
    expect(hostnameFileText('web')).toBe('web\n');
  });
});
