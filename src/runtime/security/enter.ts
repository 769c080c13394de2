// The stage's half of a container's security (compile.ts is the launcher's):
// the last thing before execve, on the thread that calls it. Capabilities,
// no_new_privs and a seccomp filter without TSYNC all belong to a thread
// (capabilities(7), prctl(2), seccomp(2)); execve ends the other threads, so
// only this one needs to be right.
import * as libc from '../libc.js';
import { capabilityMask, capabilityNumber, CAPABILITY_NAMES, type CapabilityName } from './capabilities.js';
import type { StageSecurity } from './compile.js';
import type { CapabilitySetNames } from './options.js';

/** Keep only `keep` in this thread's bounding set, 0..lastCap (prctl PR_CAPBSET_DROP, needs CAP_SETPCAP). */
export function dropBoundingSet(keep: readonly CapabilityName[], lastCap: number): void {
  const kept = new Set(keep.map(capabilityNumber));
  for (let cap = 0; cap <= lastCap; cap++) if (!kept.has(cap)) libc.dropBoundingCapability(cap, CAPABILITY_NAMES[cap]);
}

/**
 * Effective, permitted and inheritable = `keep` (capset, version 3), ambient cleared;
 * or, with an OCI bundle's `sets`, each set as given (runc's ApplyCaps), and then each
 * ambient capability the kernel allows raised: one that is not both permitted and
 * inheritable is refused (EPERM), which runc ignores, so it is left out here.
 */
export function setCapabilitySets(keep: readonly CapabilityName[], sets?: CapabilitySetNames): void {
  if (!sets) {
    const mask = capabilityMask(keep);
    libc.capset({ effective: mask, permitted: mask, inheritable: mask });
    libc.clearAmbientCapabilities();
    return;
  }
  const permitted = heldOf(sets.permitted);
  libc.capset({ effective: capabilityMask(heldOf(sets.effective)), permitted: capabilityMask(permitted), inheritable: capabilityMask(sets.inheritable) });
  libc.clearAmbientCapabilities();
  for (const cap of sets.ambient) {
    if (permitted.includes(cap) && sets.inheritable.includes(cap)) libc.raiseAmbientCapability(capabilityNumber(cap), cap);
  }
}

/**
 * In the stage, last thing before execve:
 *  1. the bounding set (needs CAP_SETPCAP, which we still have);
 *  2. with no-new-privileges: set it, switch to --user's ids, set the other
 *     capability sets, then the filter last (no_new_privs lets a thread
 *     without CAP_SYS_ADMIN install one), so only execve runs under it;
 *     without: the filter while CAP_SYS_ADMIN is still effective, then the
 *     user switch, capset and clearing ambient (docker's profile allows
 *     setgroups, setresgid, setresuid, capset and prctl).
 * `switchUser` is runc's setupUser between the bounding set and the other
 * sets: leaving uid 0 empties the permitted set, so a non-root user keeps
 * none (heldOf again), as docker gives it; uid 0 keeps the container's set.
 * After this the caller may only execve (and, if that fails, write its report and exit).
 */
export function enterSecurity(security: StageSecurity, switchUser?: () => void): void {
  const bpf = security.seccompBpf === undefined ? undefined : Buffer.from(security.seccompBpf, 'base64');
  const keep = heldOf(security.capabilities);
  dropBoundingSet(keep, security.lastCap);
  if (security.noNewPrivileges) {
    libc.setNoNewPrivileges();
    switchUser?.();
    setCapabilitySets(switchUser ? heldOf(keep) : keep, security.sets);
    if (bpf) libc.setSeccompFilter(bpf);
  } else {
    if (bpf) libc.setSeccompFilter(bpf);
    switchUser?.();
    setCapabilitySets(switchUser ? heldOf(keep) : keep, security.sets);
  }
}

/**
 * Only what this thread holds can be kept: capset(2) never adds to the permitted
 * set. So --privileged means every capability the runtime itself has (a host
 * whose root lacks one, as in some VMs, lacks it in the container too).
 */
function heldOf(wanted: readonly CapabilityName[]): CapabilityName[] {
  const { permitted } = libc.capget();
  return wanted.filter((c) => permitted & (1n << BigInt(capabilityNumber(c))));
}
