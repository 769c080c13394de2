// OCI runtime bundles: <bundle>/config.json (the runtime spec, as runc reads it),
// and the example config.json `runc spec` writes (runc's libcontainer/specconv/example.go).
// Every field is read or refused by its JSON path: nothing is silently ignored.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { MS } from './linux.js';
import type { CgroupLimits } from './cgroups/index.js';
import type { ContainerSpec, NamespaceName } from './spec.js';
import type { BindMount, FilesystemMount, ResourceLimit } from './start/protocol.js';
import { CONTAINER_PATH } from './paths.js';
import { CAPABILITY_NAMES, kernelLastCap, type CapabilityName } from './security/capabilities.js';
import type { CapabilitySetNames, SecuritySpec } from './security/options.js';
import type { ResolvedProfile } from './security/profile.js';

/** The spec version our config.json says (Debian 12's runc 1.1.5 writes the same). */
export const OCI_VERSION = '1.0.2-dev';

/** What `runc spec` writes: runc's Example(), the cgroup namespace only on a cgroup v2 host. */
export function exampleConfig(cgroupV2: boolean): Record<string, unknown> {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: [`PATH=${CONTAINER_PATH.join(':')}`, 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, ...(cgroupV2 ? [{ type: 'cgroup' }] : [])],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/**
 * The config.json fields that say a container's security (the reverse of readSecurity):
 * what a container with `security` gets, as runc reads it. Its seccomp filter is not
 * among them: our reader refuses linux.seccomp, so a bundle we export must not carry one
 * (ociSeccomp writes it for runc alone, in the benchmark).
 */
export function ociSecurityFields(security: SecuritySpec): { process: Record<string, unknown>; linux: Record<string, unknown> } {
  const caps = security.capabilities;
  const sets = security.sets ?? { effective: caps, permitted: caps, inheritable: caps, ambient: [] };
  return {
    process: { capabilities: { bounding: caps, ...sets }, noNewPrivileges: security.noNewPrivileges },
    linux: { maskedPaths: security.maskedPaths, readonlyPaths: security.readonlyPaths },
  };
}

/**
 * A resolved seccomp profile (docker's, with the container's capabilities
 * applied) as config.json's linux.seccomp, which runc hands to libseccomp
 * as we do: rules of the same action, errno and argument checks share one
 * entry. For the benchmark's runc bundle, so that runc installs the same
 * filter as our default container (our reader refuses linux.seccomp still).
 */
export function ociSeccomp(profile: ResolvedProfile): Record<string, unknown> {
  const entries = new Map<string, { names: string[]; action: string; errnoRet?: number; args?: ResolvedProfile['rules'][number]['args'] }>();
  for (const rule of profile.rules) {
    const key = JSON.stringify([rule.action, rule.errnoRet, rule.args]);
    const entry = entries.get(key) ?? { names: [], action: rule.action, ...(rule.errnoRet === undefined ? {} : { errnoRet: rule.errnoRet }), ...(rule.args.length ? { args: rule.args } : {}) };
    entry.names.push(rule.name);
    entries.set(key, entry);
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet === undefined ? {} : { defaultErrnoRet: profile.defaultErrnoRet }),
    architectures: profile.architectures,
    syscalls: [...entries.values()],
  };
}

type Json = Record<string, unknown>;

function fail(field: string, problem: string, fix: string): UserError {
  return new UserError(`config.json: ${field}: ${problem}; ${fix}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Refuse any field this reader does not know, by its path. */
function onlyKnown(obj: Json, at: string, known: string[], why: Record<string, string> = {}): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const field = at ? `${at}.${key}` : key;
    throw fail(field, why[key] ?? 'containy-learn does not implement this field', 'remove it to run the bundle here');
  }
}

function str(v: unknown, field: string, fix: string): string {
  if (typeof v !== 'string' || v === '') throw fail(field, v === undefined ? 'missing' : `expected a non-empty string, got ${JSON.stringify(v)}`, fix);
  return v;
}

function strings(v: unknown, field: string, fix: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw fail(field, 'expected a list of strings', fix);
  return v as string[];
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(field, `expected a number, got ${JSON.stringify(v)}`, 'give a number');
  return v;
}

const NAMESPACE_TYPES: Record<string, NamespaceName> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup' };

const RLIMITS = ['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME'];

/** mount(8) options that are flags; the rest go to the filesystem as data. */
const MOUNT_FLAGS: Record<string, [set: number, clear: number]> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY], nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID], nodev: [MS.NODEV, 0], dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC], relatime: [1 << 21, 0], strictatime: [1 << 24, 0], noatime: [1 << 10, 0],
  nodiratime: [1 << 11, 0], sync: [16, 0], async: [0, 16], bind: [MS.BIND, 0], rbind: [MS.BIND | MS.REC, 0],
};

function mountOptions(options: string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = MOUNT_FLAGS[o];
    if (f) flags = (flags | f[0]) & ~f[1];
    else data.push(o);
  }
  return { flags, data: data.join(',') };
}

/** The filesystems our /proc, /sys and /dev step makes, as runc's spec lists them. */
const SPECIAL: Record<string, string> = { '/proc': 'proc', '/sys': 'sysfs', '/dev': 'tmpfs', '/dev/pts': 'devpts', '/dev/shm': 'tmpfs' };

export interface OciLoadOptions {
  /** Is the caller's stdin a terminal? (process.terminal needs one, as with runc run.) */
  stdinIsTerminal: boolean;
  cgroupV2: boolean;
  /** Notes for the user where we carry on as runc would not quite (printed by the caller). */
  warn: (message: string) => void;
}

/** Read <bundle>/config.json (OCI runtime spec) into a container spec; nothing is created. */
export function loadOciBundle(bundleDir: string, opts: OciLoadOptions): ContainerSpec {
  const file = path.join(bundleDir, 'config.json');
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message}): fix the syntax, or write a fresh one with \`containy-learn spec\``);
  }
  if (!isObject(json)) throw new UserError(`${file}: expected a JSON object at the top level`);
  onlyKnown(json, '', ['ociVersion', 'root', 'process', 'hostname', 'mounts', 'linux', 'annotations']);
  const version = str(json.ociVersion, 'ociVersion', `e.g. "ociVersion": "${OCI_VERSION}"`);
  if (!version.startsWith('1.')) throw fail('ociVersion', `version ${version} is not a 1.x runtime spec`, `use "${OCI_VERSION}"`);

  // root: the bundle's own directory is the root itself, as with runc (no overlay: changes stay in it).
  if (!isObject(json.root)) throw fail('root', 'missing', 'give "root": {"path": "rootfs"}');
  onlyKnown(json.root, 'root', ['path', 'readonly']);
  const rootfs = path.resolve(bundleDir, str(json.root.path, 'root.path', 'give the root filesystem directory, relative to the bundle'));
  if (!fs.existsSync(rootfs)) throw fail('root.path', `${rootfs} does not exist`, 'point it at a root filesystem directory (`containy-learn export IMAGE DIR` makes one)');
  if (json.root.readonly !== undefined && typeof json.root.readonly !== 'boolean') throw fail('root.readonly', 'expected true or false', 'e.g. "readonly": true');

  const p = json.process;
  if (!isObject(p)) throw fail('process', 'missing', 'give "process": {"args": ["sh"], "cwd": "/"}');
  onlyKnown(p, 'process', ['terminal', 'consoleSize', 'user', 'args', 'env', 'cwd', 'capabilities', 'rlimits', 'noNewPrivileges']);
  if (p.terminal === true && !opts.stdinIsTerminal) {
    throw fail('process.terminal', 'true, but stdin is not a terminal (runc run fails the same way)', 'set "terminal": false to run it with pipes');
  }
  const argv = strings(p.args, 'process.args', 'e.g. "args": ["sh", "-c", "echo hi"]');
  if (!argv.length) throw fail('process.args', 'empty', 'say what to run, e.g. ["sh"]');
  const cwd = str(p.cwd, 'process.cwd', 'e.g. "cwd": "/"');
  if (!cwd.startsWith('/')) throw fail('process.cwd', `'${cwd}' is not absolute`, 'give a path inside the container, e.g. "/"');
  if (p.user !== undefined) {
    if (!isObject(p.user)) throw fail('process.user', 'expected an object', 'e.g. {"uid": 0, "gid": 0}');
    onlyKnown(p.user, 'process.user', ['uid', 'gid', 'umask', 'additionalGids']);
    for (const id of ['uid', 'gid'] as const) {
      if (p.user[id] !== undefined && num(p.user[id], `process.user.${id}`) !== 0) {
        throw fail(`process.user.${id}`, `${p.user[id]} is not 0: an OCI bundle's user switch is not read yet`, 'use 0, or run the image with `run --user UID[:GID]`');
      }
    }
    if (p.user.umask !== undefined && num(p.user.umask, 'process.user.umask') !== 0o22) throw fail('process.user.umask', 'only 18 (0022, what the stage sets) is supported', 'use 18 or leave it out');
    if (p.user.additionalGids !== undefined && (!Array.isArray(p.user.additionalGids) || p.user.additionalGids.length)) throw fail('process.user.additionalGids', 'supplementary groups are not supported', 'remove it');
  }
  const env: Record<string, string> = {};
  for (const [i, kv] of (p.env === undefined ? [] : strings(p.env, 'process.env', 'e.g. ["PATH=/usr/bin:/bin"]')).entries()) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw fail(`process.env[${i}]`, `'${kv}' is not KEY=VALUE`, 'e.g. "TERM=xterm"');
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  // As runc's init: HOME from the container's /etc/passwd when the bundle does not set it.
  env.HOME ??= rootHome(rootfs);
  const rlimits: ResourceLimit[] = [];
  if (p.rlimits !== undefined) {
    if (!Array.isArray(p.rlimits)) throw fail('process.rlimits', 'expected a list', 'e.g. [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]');
    for (const [i, r] of (p.rlimits as unknown[]).entries()) {
      const at = `process.rlimits[${i}]`;
      if (!isObject(r)) throw fail(at, 'expected an object', 'e.g. {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}');
      onlyKnown(r, at, ['type', 'hard', 'soft']);
      const type = str(r.type, `${at}.type`, 'e.g. "RLIMIT_NOFILE"');
      const resource = RLIMITS.indexOf(type.replace(/^RLIMIT_/, ''));
      if (!type.startsWith('RLIMIT_') || resource < 0) throw fail(`${at}.type`, `unknown limit '${type}'`, `use one of RLIMIT_${RLIMITS.join(', RLIMIT_')}`);
      rlimits.push({ resource, name: type, soft: num(r.soft, `${at}.soft`), hard: num(r.hard, `${at}.hard`) });
    }
  }
  if (p.noNewPrivileges !== undefined && typeof p.noNewPrivileges !== 'boolean') throw fail('process.noNewPrivileges', 'expected true or false', 'e.g. true');

  const spec: ContainerSpec = {
    argv, env, cwd, exactEnv: true, rootfs, overlay: false, pivot: true, rootMountPoint: 'bind',
    rlimits,
    security: readSecurity(p.capabilities, json.linux, rootfs, opts, { readonlyRoot: json.root.readonly === true, noNewPrivileges: p.noNewPrivileges === true }),
    specialFilesystems: false, namespaces: [],
  };
  if (json.hostname !== undefined) spec.hostname = str(json.hostname, 'hostname', 'e.g. "hostname": "box"');
  readMounts(json.mounts, spec, bundleDir, opts);
  readLinux(json.linux, spec, opts);
  return spec;
}

const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

/**
 * What config.json says of the container's security, and nothing more, as runc
 * reads it: a set it leaves out is empty (no process.capabilities: no capability
 * at all), no maskedPaths or readonlyPaths: none, no linux.seccomp: no filter.
 */
function readSecurity(caps: unknown, linux: unknown, rootfs: string, opts: OciLoadOptions, root: Pick<SecuritySpec, 'readonlyRoot' | 'noNewPrivileges'>): SecuritySpec {
  const sets = readCapabilities(caps, opts);
  const { bounding, ...others } = sets;
  const l = isObject(linux) ? linux : {};
  return {
    privileged: false,
    capabilities: bounding,
    sets: others,
    seccomp: { kind: 'unconfined' },
    maskedPaths: readPaths(l.maskedPaths, 'linux.maskedPaths', rootfs),
    readonlyPaths: readPaths(l.readonlyPaths, 'linux.readonlyPaths', rootfs),
    // runc appends its default device rules to a bundle's own, always.
    devices: 'runc-default',
    ...root,
  };
}

function readCapabilities(v: unknown, opts: OciLoadOptions): CapabilitySetNames & { bounding: CapabilityName[] } {
  const sets = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] } as CapabilitySetNames & { bounding: CapabilityName[] };
  if (v === undefined) return sets;
  const example = 'e.g. {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}';
  if (!isObject(v)) throw fail('process.capabilities', 'expected an object of capability sets', example);
  onlyKnown(v, 'process.capabilities', [...CAPABILITY_SETS]);
  // runc 1.1.5 (libcontainer/capabilities) knows a name only as the kernel spells it, "CAP_" and
  // upper case, and only up to the running kernel's last capability; it warns of the others and
  // carries on without them.
  const known = new Set<string>(CAPABILITY_NAMES.slice(0, kernelLastCap() + 1));
  const ignored = new Set<string>();
  for (const set of CAPABILITY_SETS) {
    if (v[set] === undefined) continue;
    for (const name of strings(v[set], `process.capabilities.${set}`, `${example}; names as capabilities(7) spells them`)) {
      if (known.has(name)) sets[set].push(name as CapabilityName);
      else ignored.add(name);
    }
  }
  if (ignored.size) opts.warn(`process.capabilities: ignoring unknown or unavailable capabilities: ${[...ignored].sort().join(', ')} (as runc does; names are "CAP_" and upper case, as in capabilities(7))`);
  // What capset(2) refuses, refused here, before anything exists (runc fails at the start: "unable to apply caps").
  const notIn = (set: 'effective' | 'inheritable', within: 'permitted' | 'bounding', why: string) => {
    const extra = sets[set].find((c) => !sets[within].includes(c));
    if (extra) throw fail(`process.capabilities.${set}`, `${extra} is not in ${within}: ${why} (runc fails the same way)`, `add it to ${within} or remove it from ${set}`);
  };
  notIn('effective', 'permitted', 'capset(2) refuses an effective capability that is not permitted');
  notIn('inheritable', 'bounding', 'capset(2) refuses an inheritable capability outside the bounding set');
  const lost = sets.ambient.filter((c) => !(sets.permitted.includes(c) && sets.inheritable.includes(c)));
  if (lost.length) opts.warn(`process.capabilities.ambient: ${lost.join(', ')} not both permitted and inheritable, so the kernel does not raise ${lost.length > 1 ? 'them' : 'it'} (runc carries on the same)`);
  return sets;
}

/** linux.maskedPaths / linux.readonlyPaths: absolute paths inside the container. */
function readPaths(v: unknown, field: string, rootfs: string): string[] {
  if (v === undefined) return [];
  const list = strings(v, field, 'e.g. ["/proc/kcore"]');
  return list.map((p, i) => {
    if (!p.startsWith('/')) throw fail(`${field}[${i}]`, `'${p}' is not absolute`, 'give a path inside the container, e.g. "/proc/kcore"');
    const normal = path.posix.normalize(p); // as after pivot_root, where ".." stops at "/"
    // We apply the paths before pivot_root, at rootfs + path: a symlink in the rootfs on the way
    // would be followed on the host's side, where runc (after pivot_root) follows it in the container.
    const link = symlinkOnTheWay(rootfs, normal);
    if (link) throw fail(`${field}[${i}]`, `${link} in the root filesystem is a symlink, which containy-learn would follow outside the container`, 'give the path it points to');
    return normal;
  });
}

function symlinkOnTheWay(rootfs: string, p: string): string | undefined {
  let at = rootfs;
  for (const part of p.split('/').filter(Boolean)) {
    at = path.join(at, part);
    const st = fs.lstatSync(at, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (st.isSymbolicLink()) return path.posix.join('/', path.relative(rootfs, at));
  }
  return undefined;
}

function rootHome(rootfs: string): string {
  try {
    const line = fs.readFileSync(path.join(rootfs, 'etc', 'passwd'), 'utf8').split('\n').find((l) => l.split(':')[2] === '0');
    return line?.split(':')[5] || '/';
  } catch {
    return '/';
  }
}

function readMounts(list: unknown, spec: ContainerSpec, bundleDir: string, opts: OciLoadOptions): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw fail('mounts', 'expected a list', 'e.g. [{"destination": "/proc", "type": "proc", "source": "proc"}]');
  const binds: BindMount[] = [];
  const mounts: FilesystemMount[] = [];
  for (const [i, m] of (list as unknown[]).entries()) {
    const at = `mounts[${i}]`;
    if (!isObject(m)) throw fail(at, 'expected an object', 'e.g. {"destination": "/proc", "type": "proc", "source": "proc"}');
    onlyKnown(m, at, ['destination', 'type', 'source', 'options']);
    const target = path.posix.normalize(str(m.destination, `${at}.destination`, 'e.g. "/proc"'));
    if (!target.startsWith('/')) throw fail(`${at}.destination`, `'${target}' is not absolute`, 'give a path inside the container');
    const options = m.options === undefined ? [] : strings(m.options, `${at}.options`, 'e.g. ["nosuid", "ro"]');
    const type = m.type === undefined ? '' : str(m.type, `${at}.type`, 'e.g. "proc"');
    const source = m.source === undefined ? type : str(m.source, `${at}.source`, 'e.g. "proc"');
    if (type === 'bind' || options.includes('bind') || options.includes('rbind')) {
      const resolved = path.resolve(bundleDir, source);
      if (!fs.existsSync(resolved)) throw fail(`${at}.source`, `${resolved} does not exist`, 'give an existing host path');
      binds.push({ source: resolved, target, readonly: options.includes('ro') });
      continue;
    }
    if (SPECIAL[target] === type) {
      // Made by our /proc, /sys and /dev step, with runc's own options.
      spec.specialFilesystems = true;
      continue;
    }
    const { flags, data } = mountOptions(options);
    if (type === 'tmpfs' || type === 'mqueue') {
      mounts.push({ source, target, fstype: type, flags, data: data || undefined });
    } else if (type === 'cgroup' && target === '/sys/fs/cgroup') {
      // cgroup2 is the one hierarchy a single mount shows; a v1 host's controllers are not in it.
      if (!opts.cgroupV2) opts.warn(`${at}: this host's cgroup controllers are v1; /sys/fs/cgroup gets the unified (v2) hierarchy, which holds none of them (runc binds each v1 controller)`);
      mounts.push({ source: 'cgroup2', target, fstype: 'cgroup2', flags, data: data || undefined });
    } else {
      throw fail(`${at}.type`, `mounts of type '${type}' are not implemented (proc, sysfs, tmpfs, devpts, mqueue, cgroup and bind are)`, 'remove the mount');
    }
  }
  spec.binds = binds;
  spec.mounts = mounts;
}

function readLinux(linux: unknown, spec: ContainerSpec, opts: OciLoadOptions): void {
  if (linux === undefined) return;
  if (!isObject(linux)) throw fail('linux', 'expected an object', 'e.g. {"namespaces": [{"type": "pid"}]}');
  onlyKnown(linux, 'linux', ['namespaces', 'resources', 'maskedPaths', 'readonlyPaths']);
  const namespaces: NamespaceName[] = [];
  if (linux.namespaces !== undefined) {
    if (!Array.isArray(linux.namespaces)) throw fail('linux.namespaces', 'expected a list', 'e.g. [{"type": "pid"}, {"type": "mount"}]');
    for (const [i, ns] of (linux.namespaces as unknown[]).entries()) {
      const at = `linux.namespaces[${i}]`;
      if (!isObject(ns)) throw fail(at, 'expected an object', 'e.g. {"type": "pid"}');
      onlyKnown(ns, at, ['type'], { path: 'joining an existing namespace is not implemented' });
      const type = str(ns.type, `${at}.type`, 'e.g. "pid"');
      if (type === 'user') throw fail(`${at}.type`, 'an OCI bundle\'s user namespace (with linux.uidMappings) is not read yet', 'remove it, or use `run --userns auto` or a containy bundle\'s userns section');
      const name = NAMESPACE_TYPES[type];
      if (!name) throw fail(`${at}.type`, `unknown namespace '${type}'`, `use one of ${Object.keys(NAMESPACE_TYPES).join(', ')}`);
      namespaces.push(name);
    }
  }
  spec.namespaces = namespaces;
  if (!namespaces.includes('mnt')) throw fail('linux.namespaces', 'no mount namespace', 'add {"type": "mount"}: the root is set up by mounts that must not reach the host');
  spec.limits = readResources(linux.resources, opts);
}

function readResources(r: unknown, opts: OciLoadOptions): CgroupLimits | undefined {
  if (r === undefined) return undefined;
  if (!isObject(r)) throw fail('linux.resources', 'expected an object', 'e.g. {"memory": {"limit": 536870912}}');
  onlyKnown(r, 'linux.resources', ['devices', 'memory', 'pids', 'cpu']);
  const limits: CgroupLimits = {};
  if (r.devices !== undefined) {
    // runc's default is "deny all" plus the devices it makes; we make the same six nodes and have no device cgroup.
    opts.warn('linux.resources.devices: not enforced (containy-learn has no device cgroup); the container gets the six usual device nodes only');
  }
  if (r.memory !== undefined) {
    if (!isObject(r.memory)) throw fail('linux.resources.memory', 'expected an object', 'e.g. {"limit": 536870912}');
    onlyKnown(r.memory, 'linux.resources.memory', ['limit', 'swap']);
    if (r.memory.limit !== undefined) limits.memory = num(r.memory.limit, 'linux.resources.memory.limit');
    if (r.memory.swap !== undefined) limits.memorySwap = num(r.memory.swap, 'linux.resources.memory.swap');
  }
  if (r.pids !== undefined) {
    if (!isObject(r.pids)) throw fail('linux.resources.pids', 'expected an object', 'e.g. {"limit": 64}');
    onlyKnown(r.pids, 'linux.resources.pids', ['limit']);
    limits.pids = num(r.pids.limit, 'linux.resources.pids.limit');
  }
  if (r.cpu !== undefined) {
    if (!isObject(r.cpu)) throw fail('linux.resources.cpu', 'expected an object', 'e.g. {"quota": 50000, "period": 100000}');
    onlyKnown(r.cpu, 'linux.resources.cpu', ['shares', 'quota', 'period']);
    if (r.cpu.shares !== undefined) limits.cpuShares = num(r.cpu.shares, 'linux.resources.cpu.shares');
    if (r.cpu.quota !== undefined) limits.cpus = num(r.cpu.quota, 'linux.resources.cpu.quota') / (r.cpu.period === undefined ? 100000 : num(r.cpu.period, 'linux.resources.cpu.period'));
  }
  return Object.keys(limits).length ? limits : undefined;
}
