// rtnetlink messages as bytes, with no socket attached: what `ip link`, `ip addr`
// and `ip route` send to the kernel, and how its answers are read back. Layouts
// and numbers are linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
// linux/if_addr.h and linux/veth.h. Netlink is in host byte order; the machines
// this runs on (x86_64, arm64) are little-endian.

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_ROUTE = 0;
export const SOL_NETLINK = 270;
/** Ask for the error's original request header only, not the whole request back. */
export const NETLINK_CAP_ACK = 10;
/** Ask for the kernel's own sentence about a refused request (extended ack). */
export const NETLINK_EXT_ACK = 11;

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3 } as const;

export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  DUMP: 0x300,
  EXCL: 0x200,
  CREATE: 0x400,
  /** In an NLMSG_ERROR: extended-ack attributes follow. */
  ACK_TLVS: 0x200,
  /** In an NLMSG_ERROR: the echoed request was cut to its header. */
  CAPPED: 0x100,
} as const;

export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

export const RTM_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RTM).map(([k, v]) => [v, `RTM_${k}`]));

export const IFLA = {
  ADDRESS: 1,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  OPERSTATE: 16,
  LINKINFO: 18,
  NET_NS_FD: 28,
  LINK_NETNSID: 37,
} as const;
export const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
export const VETH_INFO_PEER = 1;
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3 } as const;
export const RTA = { DST: 1, OIF: 4, GATEWAY: 5, PREFSRC: 7, TABLE: 15 } as const;
export const NLMSGERR_ATTR_MSG = 1;

export const IFF_UP = 0x1;
export const IFF_LOWER_UP = 0x10000;
export const RT_TABLE_MAIN = 254;
export const RTPROT_BOOT = 3;
export const RT_SCOPE_UNIVERSE = 0;
export const RTN_UNICAST = 1;

/** IFLA_OPERSTATE values (RFC 2863), as `ip link` prints them. */
const OPER_STATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];

const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;
export const NLMSG_HDRLEN = 16;

const align4 = (n: number) => (n + 3) & ~3;

/** A netlink attribute: raw bytes, or (nested) a list of attributes. */
export interface Attr {
  type: number;
  value: Buffer | Attr[];
}

export const attr = {
  u32(type: number, n: number): Attr {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return { type, value: b };
  },
  /** A C string, NUL included, as the kernel's NLA_STRING/NLA_NUL_STRING policies want. */
  string(type: number, s: string): Attr {
    return { type, value: Buffer.from(`${s}\0`) };
  },
  ipv4(type: number, address: string): Attr {
    return { type, value: ipv4Bytes(address) };
  },
  nested(type: number, attrs: Attr[]): Attr {
    return { type, value: attrs };
  },
  raw(type: number, value: Buffer): Attr {
    return { type, value };
  },
};

export function encodeAttrs(attrs: Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of attrs) {
    const nested = Array.isArray(a.value);
    const payload = nested ? encodeAttrs(a.value as Attr[]) : (a.value as Buffer);
    const head = Buffer.alloc(4);
    head.writeUInt16LE(4 + payload.length, 0);
    head.writeUInt16LE(nested ? a.type | NLA_F_NESTED : a.type, 2);
    parts.push(head, payload, Buffer.alloc(align4(payload.length) - payload.length));
  }
  return Buffer.concat(parts);
}

/** Attributes by type (nested flag stripped); a repeated type keeps its first value. */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (!out.has(type)) out.set(type, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

export interface IfInfoFields {
  family?: number;
  type?: number;
  index?: number;
  flags?: number;
  change?: number;
}

/** struct ifinfomsg: family, pad, type, index, flags, change (16 bytes). */
export function ifinfomsg(m: IfInfoFields = {}): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(m.family ?? AF_UNSPEC, 0);
  b.writeUInt16LE(m.type ?? 0, 2);
  b.writeInt32LE(m.index ?? 0, 4);
  b.writeUInt32LE(m.flags ?? 0, 8);
  b.writeUInt32LE(m.change ?? 0, 12);
  return b;
}

/** struct ifaddrmsg: family, prefixlen, flags, scope, index (8 bytes). */
export function ifaddrmsg(m: { family?: number; prefixLength?: number; scope?: number; index?: number } = {}): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(m.family ?? AF_UNSPEC, 0);
  b.writeUInt8(m.prefixLength ?? 0, 1);
  b.writeUInt8(m.scope ?? RT_SCOPE_UNIVERSE, 3);
  b.writeUInt32LE(m.index ?? 0, 4);
  return b;
}

/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (12 bytes). */
export function rtmsg(m: { family?: number; dstLength?: number; table?: number; protocol?: number; scope?: number; type?: number } = {}): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(m.family ?? AF_UNSPEC, 0);
  b.writeUInt8(m.dstLength ?? 0, 1);
  b.writeUInt8(m.table ?? 0, 4);
  b.writeUInt8(m.protocol ?? 0, 5);
  b.writeUInt8(m.scope ?? RT_SCOPE_UNIVERSE, 6);
  b.writeUInt8(m.type ?? 0, 7);
  return b;
}

/** One message: nlmsghdr (len, type, flags, seq, pid), then the family header, then attributes. */
export function encodeMessage(type: number, flags: number, seq: number, header: Buffer, attrs: Attr[] = []): Buffer {
  const body = Buffer.concat([header, Buffer.alloc(align4(header.length) - header.length), encodeAttrs(attrs)]);
  const head = Buffer.alloc(NLMSG_HDRLEN);
  head.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
  head.writeUInt16LE(type, 4);
  head.writeUInt16LE(flags, 6);
  head.writeUInt32LE(seq, 8);
  head.writeUInt32LE(0, 12); // to the kernel
  return Buffer.concat([head, body]);
}

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Buffer;
}

/** The messages of one datagram. */
export function decodeMessages(buf: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/**
 * struct nlmsgerr: a negative errno (0 is the ack of success), the request's
 * header (all of the request unless capped), then, with NLM_F_ACK_TLVS, the
 * kernel's own message as NLMSGERR_ATTR_MSG.
 */
export function decodeError(msg: NetlinkMessage): { errno: number; kernelMessage?: string } {
  const errno = Math.abs(msg.payload.readInt32LE(0)); // the kernel sends -errno
  let kernelMessage: string | undefined;
  if (msg.flags & NLM_F.ACK_TLVS && msg.payload.length >= 4 + NLMSG_HDRLEN) {
    const echoed = msg.flags & NLM_F.CAPPED ? NLMSG_HDRLEN : msg.payload.readUInt32LE(4);
    const tlvs = decodeAttrs(msg.payload.subarray(4 + align4(echoed)));
    const text = tlvs.get(NLMSGERR_ATTR_MSG);
    if (text) kernelMessage = cString(text);
  }
  return { errno, kernelMessage };
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul === -1 ? b.length : nul).toString();
}

export function ipv4Bytes(address: string): Buffer {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return Buffer.from(parts);
}

function formatAddress(family: number, b: Buffer): string {
  if (family === AF_INET) return [...b.subarray(0, 4)].join('.');
  // IPv6, with the longest run of zero groups written "::" (RFC 5952).
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at === -1) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

export interface LinkInfo {
  index: number;
  name: string;
  /** IFF_UP: set up by someone. */
  up: boolean;
  /** IFF_LOWER_UP: has carrier (a veth has it once both ends are up). */
  lowerUp: boolean;
  /** IFLA_OPERSTATE as `ip link` prints it: UP, DOWN, LOWERLAYERDOWN, UNKNOWN... */
  state: string;
  /** IFLA_INFO_KIND: bridge, veth, ... (none for lo or a physical NIC). */
  kind?: string;
  /** IFLA_LINK: for a veth, the peer's index (in the peer's own namespace). */
  peerIndex?: number;
  /** IFLA_LINK_NETNSID: set when the peer lives in another network namespace. */
  peerNetnsId?: number;
  /** IFLA_MASTER: the bridge this link is a port of. */
  master?: number;
  mtu?: number;
}

export function decodeLink(payload: Buffer): LinkInfo {
  const index = payload.readInt32LE(4);
  const flags = payload.readUInt32LE(8);
  const attrs = decodeAttrs(payload.subarray(16));
  const u32 = (t: number) => attrs.get(t)?.readUInt32LE(0);
  const linkinfo = attrs.get(IFLA.LINKINFO);
  const kind = linkinfo && decodeAttrs(linkinfo).get(IFLA_INFO.KIND);
  const oper = attrs.get(IFLA.OPERSTATE)?.readUInt8(0);
  const netnsId = attrs.get(IFLA.LINK_NETNSID)?.readInt32LE(0);
  return {
    index,
    name: cString(attrs.get(IFLA.IFNAME) ?? Buffer.alloc(0)),
    up: (flags & IFF_UP) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
    state: oper === undefined ? 'UNKNOWN' : (OPER_STATES[oper] ?? String(oper)),
    ...(kind ? { kind: cString(kind) } : {}),
    ...(u32(IFLA.LINK) !== undefined ? { peerIndex: u32(IFLA.LINK) } : {}),
    ...(netnsId !== undefined ? { peerNetnsId: netnsId } : {}),
    ...(u32(IFLA.MASTER) !== undefined ? { master: u32(IFLA.MASTER) } : {}),
    ...(u32(IFLA.MTU) !== undefined ? { mtu: u32(IFLA.MTU) } : {}),
  };
}

export interface AddressInfo {
  index: number;
  family: 'inet' | 'inet6';
  address: string;
  prefixLength: number;
  scope: number;
  label?: string;
}

export function decodeAddress(payload: Buffer): AddressInfo {
  const family = payload.readUInt8(0);
  const attrs = decodeAttrs(payload.subarray(8));
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on a point-to-point link.
  const raw = attrs.get(IFA.LOCAL) ?? attrs.get(IFA.ADDRESS) ?? Buffer.alloc(16);
  const label = attrs.get(IFA.LABEL);
  return {
    index: payload.readUInt32LE(4),
    family: family === AF_INET ? 'inet' : 'inet6',
    address: formatAddress(family, raw),
    prefixLength: payload.readUInt8(1),
    scope: payload.readUInt8(3),
    ...(label ? { label: cString(label) } : {}),
  };
}

export interface RouteInfo {
  family: 'inet' | 'inet6';
  /** "default" for 0/0, else the destination network. */
  destination: string;
  prefixLength: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  gateway?: string;
  outIndex?: number;
  preferredSource?: string;
}

export function decodeRoute(payload: Buffer): RouteInfo {
  const family = payload.readUInt8(0);
  const prefixLength = payload.readUInt8(1);
  const attrs = decodeAttrs(payload.subarray(12));
  const addr = (t: number) => {
    const b = attrs.get(t);
    return b && formatAddress(family, b);
  };
  const gateway = addr(RTA.GATEWAY);
  const prefsrc = addr(RTA.PREFSRC);
  const oif = attrs.get(RTA.OIF)?.readUInt32LE(0);
  return {
    family: family === AF_INET ? 'inet' : 'inet6',
    destination: prefixLength === 0 ? 'default' : (addr(RTA.DST) ?? '?'),
    prefixLength,
    // RTA_TABLE holds tables above 255, which rtm_table cannot.
    table: attrs.get(RTA.TABLE)?.readUInt32LE(0) ?? payload.readUInt8(4),
    protocol: payload.readUInt8(5),
    scope: payload.readUInt8(6),
    type: payload.readUInt8(7),
    ...(gateway ? { gateway } : {}),
    ...(oif !== undefined ? { outIndex: oif } : {}),
    ...(prefsrc ? { preferredSource: prefsrc } : {}),
  };
}
