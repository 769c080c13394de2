// User-namespace id maps: how they are asked for (--uidmap/--gidmap, --userns,
// --user, configy's "userns" section), the kernel's rules for them, and the
// text written to /proc/PID/uid_map. Pure: nothing here touches the system
// except usedHostRanges(), which reads /proc.
import fs from 'node:fs';
import { UserError } from '../errors.js';

/** One line of uid_map/gid_map: `size` ids from `containerID` inside are `hostID`... outside. */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** A user namespace's maps and the ids its first process takes inside. */
export interface UsernsSpec {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  /** The ids the container's command runs as, inside (configy's userns.user). */
  user: { uid: number; gid: number };
}

// kernel/user_namespace.c, map_write(): ids are u32 and (u32)-1 is invalid;
// first + count must not wrap, so a range ends at 2^32 - 1 at the latest;
// at most UID_GID_MAP_MAX_EXTENTS lines; the whole map is one write() of
// fewer than PAGE_SIZE bytes (4096 on x86_64 and most arm64 kernels).
export const ID_LIMIT = 2 ** 32 - 1;
export const MAX_MAP_LINES = 340;
export const MAX_MAP_BYTES = 4095;

/** podman's and the common /etc/subuid default: 65536 ids, from 100000. */
export const AUTO_SIZE = 65536;
export const AUTO_BASE = 100000;

function isId(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < ID_LIMIT;
}

/** `--uidmap 0:100000:65536` (podman and docker's CONTAINER:HOST:SIZE). */
export function parseMapFlag(flag: string, value: string): IdMapping {
  const parts = value.split(':');
  const nums = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (parts.length !== 3 || nums.some((n) => Number.isNaN(n))) {
    throw new UserError(`${flag} ${value}: expected CONTAINER:HOST:SIZE in decimal, e.g. ${flag} 0:100000:65536`);
  }
  return { containerID: nums[0], hostID: nums[1], size: nums[2] };
}

/** `--user UID[:GID]`, numeric: names would need the container's /etc/passwd. */
export function parseUserFlag(value: string): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(value);
  const uid = m ? Number(m[1]) : NaN;
  const gid = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!m || !isId(uid) || (gid !== undefined && !isId(gid))) {
    throw new UserError(`--user ${value}: expected UID[:GID] as numbers below 4294967295, e.g. --user 1000 or --user 1000:1000`);
  }
  return gid === undefined ? { uid } : { uid, gid };
}

function overlaps(a0: number, aSize: number, b0: number, bSize: number): boolean {
  return a0 < b0 + bSize && b0 < a0 + aSize;
}

/** The map as the kernel takes it: "inside outside count" per line. */
export function formatIdMap(map: IdMapping[]): string {
  return map.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/**
 * Refuse, before anything is created, every map the kernel would refuse
 * with EINVAL, naming the entry: `field` is how the user wrote it
 * ("--uidmap", "configy.json: userns.uidMappings").
 */
export function validateIdMap(field: string, map: IdMapping[]): void {
  if (map.length === 0) throw new UserError(`${field}: no mapping given; give at least one, e.g. 0:100000:65536`);
  if (map.length > MAX_MAP_LINES) {
    throw new UserError(`${field}: ${map.length} ranges, and the kernel takes at most ${MAX_MAP_LINES} lines per map; merge adjacent ranges`);
  }
  map.forEach((m, i) => {
    const at = map.length > 1 ? `${field}[${i}]` : field;
    for (const key of ['containerID', 'hostID', 'size'] as const) {
      if (!isId(m[key])) throw new UserError(`${at}: ${key} must be a whole number from 0 to ${ID_LIMIT - 1}, got ${JSON.stringify(m[key])}`);
    }
    if (m.size === 0) throw new UserError(`${at}: size 0 maps nothing; give a size of 1 or more`);
    for (const [key, start] of [['containerID', m.containerID], ['hostID', m.hostID]] as const) {
      if (start + m.size > ID_LIMIT) {
        throw new UserError(`${at}: ${key} ${start} + size ${m.size} runs past ${ID_LIMIT - 1}, the last valid id (ids are 32 bits, and ${ID_LIMIT} means "none"); make the range smaller`);
      }
    }
    for (let j = 0; j < i; j++) {
      const o = map[j];
      if (overlaps(o.containerID, o.size, m.containerID, m.size)) {
        throw new UserError(`${at}: container ids ${m.containerID}-${m.containerID + m.size - 1} overlap entry ${j} (${o.containerID}-${o.containerID + o.size - 1}); an id inside may map only once`);
      }
      if (overlaps(o.hostID, o.size, m.hostID, m.size)) {
        throw new UserError(`${at}: host ids ${m.hostID}-${m.hostID + m.size - 1} overlap entry ${j} (${o.hostID}-${o.hostID + o.size - 1}); a host id may be mapped only once`);
      }
    }
  });
  const bytes = Buffer.byteLength(formatIdMap(map));
  if (bytes > MAX_MAP_BYTES) {
    throw new UserError(`${field}: the map is ${bytes} bytes as text, and the kernel takes it in one write of at most ${MAX_MAP_BYTES}; use fewer, larger ranges`);
  }
}

/** The host id that `id` inside maps to, or undefined when it is not mapped. */
export function hostIdOf(map: IdMapping[], id: number): number | undefined {
  const m = map.find((r) => id >= r.containerID && id < r.containerID + r.size);
  return m ? m.hostID + (id - m.containerID) : undefined;
}

/**
 * Validate a whole spec. The ids the container starts as must be mapped:
 * the helper becomes root inside (container id 0) to mount and pivot, and
 * the command's user (uid/gid) must have an id inside, or setresuid fails.
 */
export function validateUserns(spec: UsernsSpec, fields: { uidMappings: string; gidMappings: string; user: string }): void {
  validateIdMap(fields.uidMappings, spec.uidMappings);
  validateIdMap(fields.gidMappings, spec.gidMappings);
  for (const [kind, map, field] of [['uid', spec.uidMappings, fields.uidMappings], ['gid', spec.gidMappings, fields.gidMappings]] as const) {
    if (hostIdOf(map, 0) === undefined) {
      throw new UserError(`${field}: container ${kind} 0 is not mapped, and the container starts as root inside (to mount its filesystems); add a range from container ${kind} 0, e.g. 0:100000:65536`);
    }
    const wanted = spec.user[kind];
    if (hostIdOf(map, wanted) === undefined) {
      throw new UserError(`${fields.user}: ${kind} ${wanted} is not mapped by ${field}; map it, or run as an id the map covers`);
    }
  }
}

/** The same map for uids and gids, from one --userns auto range. */
export function rangeSpec(hostID: number, size = AUTO_SIZE): IdMapping[] {
  return [{ containerID: 0, hostID, size }];
}

/**
 * --userns auto: the lowest range of `size` ids from `base` on, aligned to
 * `size`, that overlaps no range in `used` (podman's auto mode picks from
 * /etc/subuid the same way).
 */
export function pickFreeRange(used: Array<{ hostID: number; size: number }>, size = AUTO_SIZE, base = AUTO_BASE): number {
  for (let start = base; start + size <= ID_LIMIT; start += size) {
    if (!used.some((u) => overlaps(u.hostID, u.size, start, size))) return start;
  }
  throw new UserError(`--userns auto: no free range of ${size} host ids is left; give --uidmap and --gidmap yourself`);
}

/** Parse uid_map/gid_map text (as /proc shows it: three columns per line). */
export function parseIdMapText(text: string): IdMapping[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((cols) => cols.length === 3 && cols.every(Number.isInteger))
    .map(([containerID, hostID, size]) => ({ containerID, hostID, size }));
}

/**
 * Host id ranges in use by any user namespace of a running process (every
 * container of ours, and rootless podman's), read from /proc/PID/{uid,gid}_map,
 * plus those /etc/subuid and /etc/subgid hand to users for their own rootless
 * containers. The initial namespace's identity map (0 0 4294967295) is not a use.
 */
export function usedHostRanges(procRoot = '/proc', subidFiles = ['/etc/subuid', '/etc/subgid']): Array<{ hostID: number; size: number }> {
  const used = new Map<string, { hostID: number; size: number }>();
  const add = (r: { hostID: number; size: number }) => used.set(`${r.hostID}:${r.size}`, { hostID: r.hostID, size: r.size });
  for (const entry of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    for (const file of ['uid_map', 'gid_map']) {
      let text: string;
      try {
        text = fs.readFileSync(`${procRoot}/${entry}/${file}`, 'utf8');
      } catch {
        continue; // the process is gone
      }
      for (const m of parseIdMapText(text)) if (!(m.containerID === 0 && m.hostID === 0 && m.size === ID_LIMIT)) add(m);
    }
  }
  for (const file of subidFiles) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const [, start, count] = line.split(':');
      if (/^\d+$/.test(start ?? '') && /^\d+$/.test(count ?? '')) add({ hostID: Number(start), size: Number(count) });
    }
  }
  return [...used.values()];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function configyMappings(value: unknown, field: string): IdMapping[] {
  // containy writes one object; a list of them is the OCI shape.
  const list = Array.isArray(value) ? value : [value];
  if (value === undefined) throw new UserError(`${field}: missing; give {"containerID": 0, "hostID": 100000, "size": 65536}`);
  return list.map((item, i) => {
    const at = Array.isArray(value) ? `${field}[${i}]` : field;
    if (!isObject(item)) throw new UserError(`${at}: expected an object like {"containerID": 0, "hostID": 100000, "size": 65536}`);
    for (const key of ['containerID', 'hostID', 'size']) {
      if (!isId(item[key])) throw new UserError(`${at}.${key}: expected a whole number from 0 to ${ID_LIMIT - 1}, got ${JSON.stringify(item[key])}`);
    }
    return { containerID: item.containerID as number, hostID: item.hostID as number, size: item.size as number };
  });
}

/** configy.json's "userns" section, validated, with each problem named by its field. */
export function parseConfigyUserns(section: unknown): UsernsSpec {
  const field = 'configy.json: userns';
  if (!isObject(section)) throw new UserError(`${field}: expected an object with "uidMappings", "gidMappings" and "user"`);
  const user = section.user ?? { uid: 0, gid: 0 };
  if (!isObject(user)) throw new UserError(`${field}.user: expected {"uid": 0, "gid": 0}`);
  const ids = { uid: user.uid ?? 0, gid: user.gid ?? 0 };
  for (const key of ['uid', 'gid'] as const) {
    if (!isId(ids[key])) throw new UserError(`${field}.user.${key}: expected a whole number from 0 to ${ID_LIMIT - 1}, got ${JSON.stringify(ids[key])}`);
  }
  const spec: UsernsSpec = {
    uidMappings: configyMappings(section.uidMappings, `${field}.uidMappings`),
    gidMappings: configyMappings(section.gidMappings, `${field}.gidMappings`),
    user: ids as { uid: number; gid: number },
  };
  validateUserns(spec, { uidMappings: `${field}.uidMappings`, gidMappings: `${field}.gidMappings`, user: `${field}.user` });
  return spec;
}

export interface UsernsFlags {
  /** --userns host|auto (docker: host; podman: auto). */
  userns?: string;
  uidmap: string[];
  gidmap: string[];
  user?: string;
}

/**
 * The run flags as a spec, or undefined for no user namespace (the default,
 * and --userns host). --uidmap alone applies to gids too, as podman does.
 */
export function usernsFromFlags(flags: UsernsFlags, used: () => Array<{ hostID: number; size: number }> = usedHostRanges): UsernsSpec | undefined {
  const mode = flags.userns;
  if (mode !== undefined && mode !== 'host' && mode !== 'auto') {
    throw new UserError(`--userns ${mode}: expected host or auto (auto: a free range of ${AUTO_SIZE} host ids)`);
  }
  const hasMaps = flags.uidmap.length > 0 || flags.gidmap.length > 0;
  if (mode === 'host' && hasMaps) throw new UserError('--userns host: cannot be combined with --uidmap/--gidmap, which make a user namespace; drop one');
  if (mode === 'auto' && hasMaps) throw new UserError('--userns auto: picks its own range; drop --uidmap/--gidmap, or drop --userns auto');
  const requested = flags.user === undefined ? undefined : parseUserFlag(flags.user);
  const user = { uid: requested?.uid ?? 0, gid: requested?.gid ?? 0 };
  if (mode === 'auto') {
    const start = pickFreeRange(used());
    const spec = { uidMappings: rangeSpec(start), gidMappings: rangeSpec(start), user };
    validateUserns(spec, { uidMappings: '--userns auto', gidMappings: '--userns auto', user: '--user' });
    return spec;
  }
  if (!hasMaps) return undefined;
  const uidMappings = flags.uidmap.map((v) => parseMapFlag('--uidmap', v));
  const gidMappings = flags.gidmap.length ? flags.gidmap.map((v) => parseMapFlag('--gidmap', v)) : uidMappings;
  const spec = { uidMappings, gidMappings, user };
  validateUserns(spec, { uidMappings: '--uidmap', gidMappings: flags.gidmap.length ? '--gidmap' : '--uidmap (used for gids too)', user: '--user' });
  return spec;
}
