// Can this machine run a step? Root, overlayfs, user namespaces, the cgroup
// controllers a step's limits use, and the commands it needs in the base
// rootfs. The answer is a sentence saying what to change, shown in place of
// running the step (a learner's laptop may lack what the VM has). The machine
// is read through the runtime's host facts.
import fs from 'node:fs';
import path from 'node:path';
import {
  cgroupRoot, detectLayout, readOverlayFact, readUsernsFacts, v1Hierarchies, type OverlayFact, type UsernsFacts,
} from '../runtime/index.js';
import { rootfsStatus } from '../rootfs/rootfs-marker.js';
import { findExecutable, pathDirs } from '../runtime/host-files.js';

export const NEEDS_ROOT = 'this step needs root: run sudo containy-learn';

/** The kernel offers overlayfs once the module is loaded; "nodev overlay" in /proc/filesystems says so. */
export function overlayProblem(overlay: OverlayFact = readOverlayFact()): string | undefined {
  switch (overlay) {
    case 'available':
      return undefined;
    case 'loadable':
      return 'this step needs overlayfs, which this kernel does not offer now: load it with `sudo modprobe overlay` (CONFIG_OVERLAY_FS)';
    case 'missing':
      return 'this step needs overlayfs, and this kernel has it neither loaded nor as a module: use a kernel built with CONFIG_OVERLAY_FS (every distribution kernel is), or the VM the instructor provides';
    default:
      return 'this step needs overlayfs, and /proc/filesystems cannot be read to tell whether the kernel has it';
  }
}

/**
 * We run as root, so only what stops root matters: a kernel without user
 * namespaces, or user.max_user_namespaces = 0 (clone and unshare then fail with
 * ENOSPC for every user). Debian's unprivileged_userns_clone and Ubuntu's AppArmor
 * restriction only apply to processes without CAP_SYS_ADMIN.
 */
export function usernsProblem(userns: UsernsFacts = readUsernsFacts()): string | undefined {
  if (!userns.supported) {
    return 'this step needs user namespaces, which this kernel lacks (no /proc/self/ns/user): use a kernel built with CONFIG_USER_NS (every distribution kernel is), or the VM the instructor provides';
  }
  if (userns.maxUserNamespaces === 0) {
    return 'this step needs a user namespace, and user.max_user_namespaces is 0, so no process may create one, root included: `sudo sysctl -w user.max_user_namespaces=10000`';
  }
  return undefined;
}

/** Controllers a step uses ('memory', 'pids', 'cpu', 'io'); an empty list means any cgroup at all. */
export function cgroupProblem(controllers: string[], root = cgroupRoot()): string | undefined {
  let layout;
  try {
    layout = detectLayout(root);
  } catch (err) {
    return `this step needs cgroups: ${(err as Error).message}`;
  }
  let available: Set<string>;
  if (layout === 'v2') {
    try {
      available = new Set(fs.readFileSync(path.join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/));
    } catch {
      return `this step needs cgroups, and ${root}/cgroup.controllers cannot be read`;
    }
  } else {
    available = new Set(v1Hierarchies(root).keys());
    if (available.has('blkio')) available.add('io');
  }
  const missing = controllers.filter((c) => !available.has(c));
  if (missing.length === 0) return undefined;
  const where = layout === 'v2' ? `${root}/cgroup.controllers` : `the v1 hierarchies under ${root}`;
  return (
    `this step needs the cgroup ${missing.join(' and ')} controller${missing.length > 1 ? 's' : ''}, missing from ${where}: ` +
    `it may be turned off on the kernel command line (cgroup_disable=${missing[0]}) or, on cgroup v2, held by a v1 mount; ` +
    'boot with it enabled, or run the workshop in the VM the instructor provides'
  );
}

/**
 * Commands a step runs on the host (`needs-host: [runc, strace]`) that are not on the
 * host's PATH (the one containy-learn runs with, which the step's command gets).
 */
export function hostToolProblem(tools: string[], searchPath = process.env.PATH ?? ''): string | undefined {
  const missing = tools.filter((t) => !findExecutable(t, pathDirs(searchPath)));
  if (missing.length === 0) return undefined;
  const names = missing.join(' and ');
  return `this step runs ${names} on the host, which has ${missing.length > 1 ? 'neither' : 'no'} ${names} on its PATH: install ${missing.length > 1 ? 'them' : 'it'} (Debian and Ubuntu: \`sudo apt-get install ${missing.join(' ')}\`), or put ${missing.length > 1 ? 'their directories' : 'its directory'} on PATH`;
}

/**
 * Commands a step needs (`needs: [python3]`) that the base rootfs at `rootfs` lacks on its PATH.
 * A missing base is the runtime's to report (it says how to build one), so it is no tool problem.
 */
export function toolProblem(tools: string[], rootfs: string): string | undefined {
  if (tools.length === 0) return undefined;
  const status = rootfsStatus(rootfs);
  if (!status.exists) return undefined;
  const have = new Set(status.commands);
  const missing = tools.filter((t) => !have.has(t));
  if (missing.length === 0) return undefined;
  const names = missing.join(' and ');
  const rebuild = status.kind === 'imported'
    ? `install ${names} in that tree, or build the workshop's own base: install ${names} on the host and run \`sudo containy-learn rootfs build --force\``
    : `install ${names} on the host and run \`sudo containy-learn rootfs build --force\`, which copies ${missing.length > 1 ? 'them' : 'it'} in`;
  return `this step needs ${names} in the base rootfs (${rootfs}), which has none: ${rebuild}`;
}
