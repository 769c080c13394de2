// What a container is asked to be (ContainerSpec), and the checks made on it
// before anything is created: a bad spec is one sentence and exit 125.
import fs from 'node:fs';
import { CLONE } from './linux.js';
import { containerNameProblem } from './container-name.js';
import { UserError } from './errors.js';
import { NAMESPACES, type NamespaceName } from './namespaces.js';
import { requireRoot as requireRootFor } from './privilege.js';
import { CONTAINER_PATH as CONTAINER_PATH_DIRS, defaultRootfs } from './paths.js';
import type { BindMount, FilesystemMount, ResourceLimit, RootMountPoint, StdioMode } from './start/protocol.js';
import type { CgroupLimits } from './cgroups/index.js';
import type { SecuritySpec } from './security/options.js';
import { validateUserns, type UsernsSpec } from './userns/idmap.js';

export { NAMESPACES, type NamespaceName };

export const NAMESPACE_FLAGS: Record<NamespaceName, number> = {
  pid: CLONE.NEWPID, uts: CLONE.NEWUTS, ipc: CLONE.NEWIPC, net: CLONE.NEWNET, mnt: CLONE.NEWNS, cgroup: CLONE.NEWCGROUP,
};

const CONTAINER_PATH = CONTAINER_PATH_DIRS.join(':');

export interface ContainerSpec {
  /** A named container keeps its changes (its overlay upper dir) across runs, unless `remove`. */
  name?: string;
  hostname?: string;
  /**
   * The base rootfs (overlay lowerdir); default rootfs/base. null keeps the host's filesystem.
   * A list is an image's layers, bottom first: they stack as the overlay's lowerdirs.
   */
  rootfs?: string | string[] | null;
  /** Overlay over the rootfs (default), or the rootfs directory itself as the root. */
  overlay?: boolean;
  namespaces?: NamespaceName[];
  /** pivot_root (default) or chroot. */
  pivot?: boolean;
  /** Without an overlay: bind the root onto itself so pivot_root accepts it ('bind', the default), or leave it 'as-given' (pivot_root answers EINVAL). */
  rootMountPoint?: RootMountPoint;
  /** /proc, read-only /sys and a minimal /dev (default with a mount namespace). */
  specialFilesystems?: boolean;
  /** Discard the container's changes when it exits. Unnamed containers are always discarded. */
  remove?: boolean;
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  limits?: CgroupLimits;
  /** Host paths bound into the container (docker's -v SRC:DST[:ro]); need a rootfs and the mnt namespace. */
  binds?: BindMount[];
  tmpfs?: string[];
  stdio?: StdioMode;
  /** A user namespace with these maps (validated: idmap.ts), made first, owning the others. */
  userns?: UsernsSpec;
  /** --user: the command's ids inside, in any container (with userns, its `user`). */
  user?: { uid: number; gid: number };
  /** `env` is the whole environment, as an OCI bundle's process.env is: no PATH, HOME, TERM or HOSTNAME added. */
  exactEnv?: boolean;
  /** Filesystems mounted inside besides /proc, /sys, /dev and the tmpfs ones (an OCI bundle's mqueue, cgroup). */
  mounts?: FilesystemMount[];
  /** setrlimit before exec (OCI process.rlimits). */
  rlimits?: ResourceLimit[];
  /** The stage records its libc calls (Container.stageTrace). */
  trace?: boolean;
  /** Capabilities, seccomp, masked/read-only paths, no_new_privs (security/options.ts); default docker's defaults. */
  security?: SecuritySpec;
  /** docker's --network: none (default: an empty netns), bridge, host, container:NAME (network.ts). */
  network?: string;
  /** docker's -p [IP:]HOSTPORT:CONTAINERPORT[/tcp], each; needs network bridge. */
  publish?: string[];
}

/** A spec with its defaults filled in, checked. */
export interface CheckedSpec {
  namespaces: NamespaceName[];
  /** The top layer (the only one without an overlay), or null for the host's root. */
  rootfs: string | null;
  /** Every layer, bottom first (one for a plain rootfs). */
  layers: string[];
  overlay: boolean;
  pivot: boolean;
  rootMountPoint: RootMountPoint;
  stdio: StdioMode;
}

export function requireRoot(): void {
  requireRootFor('a container', 'namespaces, mounts and cgroups are privileged');
}

export function checkSpec(spec: ContainerSpec): CheckedSpec {
  const namespaces = spec.namespaces ?? [...NAMESPACES];
  for (const ns of namespaces) {
    if (!NAMESPACES.includes(ns)) throw new UserError(`unknown namespace '${ns}': use some of ${NAMESPACES.join(', ')}`);
  }
  const nameProblem = spec.name === undefined ? undefined : containerNameProblem(spec.name);
  if (nameProblem) throw new UserError(`invalid container name '${spec.name}': ${nameProblem}`);
  if (!spec.argv.length || !spec.argv[0]) throw new UserError('no command given: say what to run in the container, e.g. `-- /bin/sh`');
  const layers = spec.rootfs === null ? [] : Array.isArray(spec.rootfs) ? spec.rootfs : [spec.rootfs ?? defaultRootfs()];
  if (spec.rootfs !== null && !layers.length) throw new UserError('the rootfs is an empty list of layers: give at least one directory');
  const rootfs = spec.rootfs === null ? null : layers[layers.length - 1];
  const overlay = rootfs !== null && (spec.overlay ?? true);
  if (layers.length > 1 && !overlay) throw new UserError(`an image of ${layers.length} layers needs the overlay to stack them: drop overlay: false, or give a single rootfs directory`);
  const pivot = rootfs !== null && (spec.pivot ?? true);
  const mnt = namespaces.includes('mnt');
  if (rootfs !== null && (overlay || pivot) && !mnt) {
    throw new UserError(`${overlay ? 'an overlay root' : 'pivot_root'} needs the mnt namespace (its mounts must not reach the host): add mnt to the namespaces, or use --no-pivot with the rootfs directory itself`);
  }
  for (const layer of layers) {
    if (fs.existsSync(layer)) continue;
    throw new UserError(layer === defaultRootfs()
      ? `the base rootfs is missing at ${layer}: build it with \`sudo containy-learn rootfs build\``
      : layers.length > 1
        ? `the image layer ${layer} does not exist: load the image again (\`containy-learn image load\`)`
        : `the rootfs ${layer} does not exist: give a directory holding a root filesystem (with bin/sh)`);
  }
  for (const bind of spec.binds ?? []) {
    if (rootfs === null || !mnt) {
      throw new UserError(`the bind of ${bind.source} needs a root of the container's own and the mnt namespace: add mnt to the namespaces, or drop the bind`);
    }
    if (!fs.existsSync(bind.source)) throw new UserError(`the bind source ${bind.source} does not exist: give an existing host path`);
    if (!bind.target.startsWith('/')) throw new UserError(`the bind target '${bind.target}' is not absolute: give a path inside the container, e.g. /data`);
  }
  // The CLI and the lessons validate their own fields; this names the spec's for any other caller.
  if (spec.userns) validateUserns(spec.userns, { uidMappings: 'userns.uidMappings', gidMappings: 'userns.gidMappings', user: 'userns.user' });
  const rootMountPoint = spec.rootMountPoint ?? 'bind';
  return { namespaces, pivot, overlay, rootfs, layers, rootMountPoint, stdio: spec.stdio ?? 'inherit' };
}

/** The environment a command starts with: docker's PATH (the host's when the root is the host's), then the caller's. */
export function commandEnv(hostRoot: boolean, extra: Record<string, string> | undefined): string[] {
  const env = {
    PATH: hostRoot ? (process.env.PATH ?? CONTAINER_PATH) : CONTAINER_PATH,
    HOME: '/root',
    TERM: process.env.TERM ?? 'xterm',
    ...extra,
  };
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}
