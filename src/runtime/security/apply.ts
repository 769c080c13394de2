// Applying a SecuritySpec to the calling thread, in the one order that works.
// Capabilities, no_new_privs and a seccomp filter without TSYNC all belong to a
// thread (capabilities(7), prctl(2), seccomp(2)), so this runs on the thread that
// calls execve, as the last thing before it; execve ends the other threads.
import * as libc from '../libc.js';
import { capabilityMask, capabilityNumber, CAPABILITY_NAMES, kernelLastCap, type CapabilityName } from './capabilities.js';
import { DOCKER_DEFAULT_SECCOMP } from './default-profile.js';
import type { SecuritySpec } from './options.js';
import { resolveProfile, type SeccompProfile } from './profile.js';
import { buildSeccompFilter, type SeccompFilter } from './seccomp.js';

/** Keep only `keep` in this thread's bounding set (prctl PR_CAPBSET_DROP, needs CAP_SETPCAP). */
export function dropBoundingSet(keep: readonly CapabilityName[], lastCap = kernelLastCap()): void {
  const kept = new Set(keep.map(capabilityNumber));
  for (let cap = 0; cap <= lastCap; cap++) if (!kept.has(cap)) libc.dropBoundingCapability(cap, CAPABILITY_NAMES[cap]);
}

/** Effective, permitted and inheritable = `keep` (capset, version 3); ambient cleared. */
export function setCapabilitySets(keep: readonly CapabilityName[]): void {
  const mask = capabilityMask(keep);
  libc.capset({ effective: mask, permitted: mask, inheritable: mask });
  libc.clearAmbientCapabilities();
}

function profileOf(spec: SecuritySpec): SeccompProfile | undefined {
  if (spec.seccomp.kind === 'unconfined') return undefined;
  return spec.seccomp.kind === 'docker-default' ? DOCKER_DEFAULT_SECCOMP : spec.seccomp.profile;
}

export interface PreparedSecurity {
  spec: SecuritySpec;
  /** Built, not loaded. */
  filter?: SeccompFilter;
}

/**
 * Resolve the profile for the container's capabilities and build the filter.
 * Call before the root changes (libseccomp is loaded from the host's root), e.g.
 * before pivot_root; nothing is enforced yet.
 */
export function prepareSecurity(spec: SecuritySpec): PreparedSecurity {
  const profile = profileOf(spec);
  if (!profile) return { spec };
  return { spec, filter: buildSeccompFilter(resolveProfile(profile, { capabilities: spec.capabilities })) };
}

/**
 * Enforce it, last thing before execve, on the thread that execs:
 *  1. bounding set (needs CAP_SETPCAP, which we still have);
 *  2. with no-new-privileges: set it, drop the other sets, then load the filter
 *     (no_new_privs lets a thread without CAP_SYS_ADMIN load one, so it goes
 *     last and only execve runs under it);
 *     without: load the filter while CAP_SYS_ADMIN is still effective, then
 *     capset and clear ambient, which docker's profile allows (capset, prctl).
 * After this the caller may only execve (and on failure write its report and exit).
 */
export function enterSecurity(prepared: PreparedSecurity): void {
  const { spec, filter } = prepared;
  dropBoundingSet(spec.capabilities);
  if (spec.noNewPrivileges) {
    libc.setNoNewPrivileges();
    setCapabilitySets(spec.capabilities);
    filter?.load();
  } else {
    filter?.load();
    setCapabilitySets(spec.capabilities);
  }
  filter?.release();
}
