// The launcher's half of a container's security: resolve the seccomp profile for
// the container's capabilities and compile it to BPF with libseccomp, so the
// stage needs no libseccomp and a missing one is reported before anything is
// created. The stage's half is enter.ts.
import { kernelLastCap, type CapabilityName } from './capabilities.js';
import { DOCKER_DEFAULT_SECCOMP } from './default-profile.js';
import type { SecuritySpec } from './options.js';
import { resolveProfile, type SeccompProfile } from './profile.js';
import { compileSeccompFilter } from './seccomp.js';

/** What the stage applies; serialisable (it goes in the stage's order). */
export interface StageSecurity {
  capabilities: CapabilityName[];
  /** The kernel's highest capability number, read here: the stage's /proc may not be the host's. */
  lastCap: number;
  noNewPrivileges: boolean;
  /** The compiled filter, base64 of struct sock_filter[]; absent = unconfined. */
  seccompBpf?: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  readonlyRoot: boolean;
}

function profileOf(spec: SecuritySpec): SeccompProfile | undefined {
  if (spec.seccomp.kind === 'unconfined') return undefined;
  return spec.seccomp.kind === 'docker-default' ? DOCKER_DEFAULT_SECCOMP : spec.seccomp.profile;
}

// A workshop session starts many containers with the same few specs: compile each once.
const compiled = new Map<string, string>();

/** In the launcher, before the stage's order is sent (it may run while the stage boots). */
export function compileSecurity(spec: SecuritySpec): StageSecurity {
  const { capabilities, noNewPrivileges, maskedPaths, readonlyPaths, readonlyRoot } = spec;
  const stage: StageSecurity = { capabilities, lastCap: kernelLastCap(), noNewPrivileges, maskedPaths, readonlyPaths, readonlyRoot };
  const profile = profileOf(spec);
  if (!profile) return stage;
  const resolved = resolveProfile(profile, { capabilities });
  const key = JSON.stringify(resolved);
  let bpf = compiled.get(key);
  if (bpf === undefined) {
    bpf = compileSeccompFilter(resolved).bpf.toString('base64');
    compiled.set(key, bpf);
  }
  return { ...stage, seccompBpf: bpf };
}
