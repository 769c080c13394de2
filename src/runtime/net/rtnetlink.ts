// rtnetlink, the kernel interface under `ip link`, `ip addr` and `ip route`,
// spoken over an AF_NETLINK socket opened through koffi (Node's `net` cannot).
// Every change is sent with NLM_F_ACK and waits for the kernel's answer, so a
// refusal surfaces here, at the request that caused it, as one sentence.
//
// Which namespace a socket talks to: a netlink socket belongs to the network
// namespace of the thread that called socket(), for its whole life, whichever
// thread later uses it. Namespaces are per thread in a Node process
// (DESIGN.md §2.2), and setns(CLONE_NEWNET), unlike a user namespace, is
// allowed in a multithreaded process. So `RouteSocket.inNetns` joins the
// target namespace on the calling thread, calls socket(), and joins back at
// once, all synchronously: no other JavaScript runs on this thread in between,
// and libuv's pool threads never move. The socket then speaks for the
// container's namespace from anywhere. Measured here: 0.08 ms for setns,
// socket, setns back; a worker thread that joins the namespace and opens the
// socket there costs ~120 ms (worker start and koffi load) for the same fd.
import fs from 'node:fs';
import * as libc from '../libc.js';
import { SyscallError, UserError } from '../errors.js';
import {
  AF_INET, AF_NETLINK, IFF_UP, IFLA, IFLA_INFO, NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_ROUTE, NLMSG, NLM_F,
  RTA, RTM, RTM_NAMES, RTN_UNICAST, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, SOCK_CLOEXEC, SOCK_RAW,
  SOL_NETLINK, VETH_INFO_PEER, attr, decodeAddress, decodeError, decodeLink, decodeMessages, decodeRoute,
  encodeAttrs, encodeMessage, ifaddrmsg, ifinfomsg, rtmsg,
  type AddressInfo, type Attr, type LinkInfo, type NetlinkMessage, type RouteInfo,
} from './netlink-messages.js';

/** Longest interface name: IFNAMSIZ (16) less the NUL. */
export const IFNAME_MAX = 15;

// Why rtnetlink refuses, in general; a request may know better (it names the link).
const NETLINK_EXPLANATIONS: Record<string, string> = {
  EPERM: 'needs root (CAP_NET_ADMIN in that network namespace)',
  EEXIST: 'it already exists',
  ENODEV: 'there is no such link',
  EOPNOTSUPP: 'this kernel does not offer that link type (is the bridge or veth module available?)',
  ENETUNREACH: 'the gateway is not on the subnet of any link in that namespace',
  ENETDOWN: 'the link is down',
  EADDRNOTAVAIL: 'there is no such address on that link',
  ESRCH: 'there is no such route',
  EINVAL: 'the kernel refused the request as malformed',
  EBUSY: 'the link is busy',
};

/** A refused rtnetlink request: "RTM_NEWLINK (create bridge containy0) failed with EEXIST: a link named containy0 already exists". */
export class NetlinkError extends SyscallError {
  constructor(request: number, readonly errno: number, what: string, explanation?: string, readonly kernelMessage?: string) {
    const code = libc.errnoName(errno);
    const why = explanation ?? NETLINK_EXPLANATIONS[code] ?? 'the kernel refused it';
    super(RTM_NAMES[request] ?? `netlink message ${request}`, code, what, kernelMessage ? `${why} (the kernel says: ${kernelMessage})` : why);
    this.name = 'NetlinkError';
  }
}

type Explain = Partial<Record<string, string>>;

function checkName(name: string): void {
  if (Buffer.byteLength(name) > IFNAME_MAX || name.length === 0 || /[\s/:]/.test(name)) {
    throw new UserError(`'${name}' is not a valid link name: at most ${IFNAME_MAX} bytes, no spaces, '/' or ':'`);
  }
}

/** A NETLINK_ROUTE socket, bound to the network namespace it was opened in. */
export class RouteSocket {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly buf = Buffer.alloc(64 * 1024);
  private fd: number;

  private constructor(fd: number, readonly where: string) {
    this.fd = fd;
  }

  /** A socket for the network namespace of the calling thread (the host's, on the main thread). */
  static open(where = 'host'): RouteSocket {
    const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE, 'AF_NETLINK, NETLINK_ROUTE');
    try {
      // Errors carry the kernel's own sentence, and echo only the request's header back.
      libc.setsockoptInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, 'NETLINK_EXT_ACK');
      libc.setsockoptInt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1, 'NETLINK_CAP_ACK');
      libc.setReceiveTimeout(fd, 5000);
      const sockaddr = Buffer.alloc(12); // sockaddr_nl: family, pad, nl_pid 0 (the kernel picks our port), groups 0
      sockaddr.writeUInt16LE(AF_NETLINK, 0);
      libc.bind(fd, sockaddr, 'netlink socket');
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return new RouteSocket(fd, where);
  }

  /** A socket for the network namespace `netnsFd` refers to (an open /proc/PID/ns/net). See the note at the top. */
  static inNetns(netnsFd: number, where: string): RouteSocket {
    const own = fs.openSync('/proc/thread-self/ns/net', 'r');
    try {
      libc.setns(netnsFd, libc.CLONE.NEWNET, `network namespace of ${where}`);
      try {
        return RouteSocket.open(where);
      } finally {
        libc.setns(own, libc.CLONE.NEWNET, 'back to our own network namespace');
      }
    } finally {
      fs.closeSync(own);
    }
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  private send(type: number, flags: number, header: Buffer, attrs: Attr[]): number {
    if (this.fd < 0) throw new Error('netlink socket used after close');
    const seq = (this.seq = (this.seq + 1) >>> 0);
    libc.send(this.fd, encodeMessage(type, NLM_F.REQUEST | flags, seq, header, attrs), `netlink ${RTM_NAMES[type]}`);
    return seq;
  }

  /** The kernel's answers to request `seq` (stale answers to others are skipped). */
  private *answers(seq: number): Generator<NetlinkMessage> {
    for (;;) {
      // Copied out: the next recv() reuses the buffer.
      const n = libc.recv(this.fd, this.buf, `netlink answer in ${this.where}`);
      for (const m of decodeMessages(Buffer.from(this.buf.subarray(0, n)))) if (m.seq === seq) yield m;
    }
  }

  /** Send a change and wait for its ack; a refusal throws a NetlinkError. */
  request(type: number, flags: number, header: Buffer, attrs: Attr[], what: string, explain: Explain = {}): void {
    const seq = this.send(type, flags | NLM_F.ACK, header, attrs);
    for (const m of this.answers(seq)) {
      if (m.type !== NLMSG.ERROR) continue;
      const { errno, kernelMessage } = decodeError(m);
      if (errno === 0) return;
      throw new NetlinkError(type, errno, what, explain[libc.errnoName(errno)], kernelMessage);
    }
  }

  /** Ask for one object; undefined when the kernel answers `absent` (e.g. ENODEV). */
  private get(type: number, header: Buffer, attrs: Attr[], what: string, absent: string): Buffer | undefined {
    const seq = this.send(type, 0, header, attrs);
    for (const m of this.answers(seq)) {
      if (m.type !== NLMSG.ERROR) return m.payload;
      const { errno, kernelMessage } = decodeError(m);
      if (libc.errnoName(errno) === absent) return undefined;
      throw new NetlinkError(type, errno, what, undefined, kernelMessage);
    }
    return undefined;
  }

  /** A dump: every object of a kind, in as many datagrams as it takes, up to NLMSG_DONE. */
  dump(type: number, header: Buffer, what: string): Buffer[] {
    const seq = this.send(type, NLM_F.DUMP, header, []);
    const out: Buffer[] = [];
    for (const m of this.answers(seq)) {
      if (m.type === NLMSG.DONE) {
        const errno = m.payload.length >= 4 ? Math.abs(m.payload.readInt32LE(0)) : 0;
        if (errno > 0) throw new NetlinkError(type, errno, what);
        return out;
      }
      if (m.type === NLMSG.ERROR) {
        const { errno, kernelMessage } = decodeError(m);
        if (errno !== 0) throw new NetlinkError(type, errno, what, undefined, kernelMessage);
        continue;
      }
      out.push(m.payload);
    }
    return out;
  }

  // ip link add NAME type bridge
  createBridge(name: string): void {
    checkName(name);
    this.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, ifinfomsg(), [
      attr.string(IFLA.IFNAME, name),
      attr.nested(IFLA.LINKINFO, [attr.string(IFLA_INFO.KIND, 'bridge')]),
    ], `create bridge ${name}`, { EEXIST: `a link named ${name} already exists` });
  }

  /**
   * ip link add NAME type veth peer name PEER netns NSFD: the peer is created
   * straight in the namespace `peerNetnsFd` refers to (or here, without one),
   * so its name only has to be free there.
   */
  createVethPair(name: string, peer: string, peerNetnsFd?: number): void {
    checkName(name);
    checkName(peer);
    const peerAttrs = [attr.string(IFLA.IFNAME, peer), ...(peerNetnsFd === undefined ? [] : [attr.u32(IFLA.NET_NS_FD, peerNetnsFd)])];
    this.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, ifinfomsg(), [
      attr.string(IFLA.IFNAME, name),
      attr.nested(IFLA.LINKINFO, [
        attr.string(IFLA_INFO.KIND, 'veth'),
        // VETH_INFO_PEER holds a whole ifinfomsg and its own attributes, as RTM_NEWLINK does.
        attr.nested(IFLA_INFO.DATA, [attr.raw(VETH_INFO_PEER, Buffer.concat([ifinfomsg(), encodeAttrs(peerAttrs)]))]),
      ]),
    ], `create veth pair ${name} and ${peer}`, {
      EEXIST: `a link named ${name} already exists here, or one named ${peer} in the peer's namespace`,
      EBADF: 'the network namespace file descriptor is not open',
      EINVAL: 'the kernel refused the veth request (is the peer namespace fd a network namespace?)',
    });
  }

  // ip link set dev INDEX master MASTER
  setMaster(index: number, masterIndex: number, what = `link ${index}`): void {
    this.request(RTM.NEWLINK, 0, ifinfomsg({ index }), [attr.u32(IFLA.MASTER, masterIndex)], `make ${what} a port of link ${masterIndex}`, {
      ENODEV: `link ${index} or ${masterIndex} is gone`,
      EINVAL: `link ${masterIndex} is not a bridge, or ${what} cannot be its port`,
    });
  }

  // ip link set dev INDEX up: change only IFF_UP, leave every other flag as it is.
  setUp(index: number, what = `link ${index}`): void {
    this.request(RTM.NEWLINK, 0, ifinfomsg({ index, flags: IFF_UP, change: IFF_UP }), [], `set ${what} up`, { ENODEV: `${what} is gone` });
  }

  // ip link del NAME
  deleteLink(name: string): void {
    this.request(RTM.DELLINK, 0, ifinfomsg(), [attr.string(IFLA.IFNAME, name)], `delete link ${name}`, { ENODEV: `there is no link named ${name}` });
  }

  // ip addr add ADDRESS/PREFIX dev INDEX
  addAddress(index: number, address: string, prefixLength: number, what = `link ${index}`): void {
    this.request(RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, ifaddrmsg({ family: AF_INET, prefixLength, index }), [
      attr.ipv4(2 /* IFA_LOCAL */, address),
      attr.ipv4(1 /* IFA_ADDRESS */, address),
    ], `add ${address}/${prefixLength} to ${what}`, { EEXIST: `${address}/${prefixLength} is already on ${what}` });
  }

  // ip route add default via GATEWAY dev INDEX
  addDefaultRoute(gateway: string, outIndex: number): void {
    this.request(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL, rtmsg({
      family: AF_INET, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT, scope: RT_SCOPE_UNIVERSE, type: RTN_UNICAST,
    }), [attr.ipv4(RTA.GATEWAY, gateway), attr.u32(RTA.OIF, outIndex)], `add default route via ${gateway}`, {
      EEXIST: 'there is a default route already',
      ENETUNREACH: `${gateway} is not on the subnet of the link the route goes out of`,
    });
  }

  /** ip link show NAME; undefined when there is none. */
  link(name: string): LinkInfo | undefined {
    checkName(name);
    const payload = this.get(RTM.GETLINK, ifinfomsg(), [attr.string(IFLA.IFNAME, name)], `look up link ${name}`, 'ENODEV');
    return payload && decodeLink(payload);
  }

  /** The index of link `name`, or a sentence saying there is none. */
  indexOf(name: string): number {
    const link = this.link(name);
    if (!link) throw new NetlinkError(RTM.GETLINK, 19 /* ENODEV */, `look up link ${name}`, `there is no link named ${name} in ${this.where}`);
    return link.index;
  }

  // ip link show
  links(): LinkInfo[] {
    return this.dump(RTM.GETLINK, ifinfomsg(), 'list links').map(decodeLink);
  }

  // ip addr show
  addresses(): AddressInfo[] {
    return this.dump(RTM.GETADDR, ifaddrmsg(), 'list addresses').map(decodeAddress);
  }

  // ip route show [table main]: IPv4 routes of one table (all tables with `table` undefined).
  routes(table: number | undefined = RT_TABLE_MAIN): RouteInfo[] {
    const all = this.dump(RTM.GETROUTE, rtmsg({ family: AF_INET }), 'list routes').map(decodeRoute);
    return table === undefined ? all : all.filter((r) => r.table === table);
  }
}

/** Open a socket, use it, close it. */
export function withRouteSocket<T>(fn: (s: RouteSocket) => T, netns?: { fd: number; where: string }): T {
  const s = netns ? RouteSocket.inNetns(netns.fd, netns.where) : RouteSocket.open();
  try {
    return fn(s);
  } finally {
    s.close();
  }
}
