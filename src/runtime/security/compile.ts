// The launcher's half of a container's security: resolve the seccomp profile for
// the container's capabilities and compile it to BPF with libseccomp, so the
// stage needs no libseccomp and a missing one is reported before anything is
// created. The stage's half is enter.ts.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stateRoot } from '../paths.js';
import { kernelLastCap, type CapabilityName } from './capabilities.js';
import { DOCKER_DEFAULT_SECCOMP } from './default-profile.js';
import type { CapabilitySetNames, SecuritySpec } from './options.js';
import { resolveProfile, type SeccompProfile } from './profile.js';
import { compileSeccompFilter, libseccomp } from './seccomp.js';

/** What the stage applies; serialisable (it goes in the stage's order). */
export interface StageSecurity {
  /** The bounding set (and, without `sets`, the permitted, effective and inheritable ones). */
  capabilities: CapabilityName[];
  sets?: CapabilitySetNames;
  /** The kernel's highest capability number, read here: the stage's /proc may not be the host's. */
  lastCap: number;
  noNewPrivileges: boolean;
  /** Which filter (for explaining a refusal): none, docker's default, or a profile file. */
  seccomp?: 'unconfined' | 'docker-default' | 'profile';
  /** The compiled filter, base64 of struct sock_filter[]; absent = unconfined. */
  seccompBpf?: string;
  /** On fd 3 only (protocol.ts encodeOrder): the filter follows the order's line as this many bytes. */
  seccompBpfBytes?: number;
  maskedPaths: string[];
  readonlyPaths: string[];
  readonlyRoot: boolean;
}

function profileOf(spec: SecuritySpec): SeccompProfile | undefined {
  if (spec.seccomp.kind === 'unconfined') return undefined;
  return spec.seccomp.kind === 'docker-default' ? DOCKER_DEFAULT_SECCOMP : spec.seccomp.profile;
}

// Building docker's profile takes libseccomp 25-50 ms here (three architectures),
// as long as the stage takes to boot. The same spec compiles to the same BPF, so
// it is kept: in memory for a session's many containers, and in the state
// directory (root's) for the next `run`. The key holds everything the BPF
// depends on: the resolved rules (arch, kernel, capabilities already applied)
// and libseccomp's version.
const compiled = new Map<string, string>();

function cachedBpf(resolved: ReturnType<typeof resolveProfile>): string {
  const key = createHash('sha256').update(`${libseccomp().version}\n${process.arch}\n${JSON.stringify(resolved)}`).digest('hex');
  const inMemory = compiled.get(key);
  if (inMemory !== undefined) return inMemory;
  const file = path.join(stateRoot(), 'seccomp', `${key}.bpf`);
  let bpf: Buffer | undefined;
  try {
    bpf = fs.readFileSync(file);
  } catch {
    // not compiled yet
  }
  if (!bpf || bpf.length === 0 || bpf.length % 8 !== 0) {
    bpf = compileSeccompFilter(resolved).bpf;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, bpf, { mode: 0o600 });
      fs.renameSync(tmp, file); // whole or not at all, for a run starting at the same time
    } catch {
      // a state directory we cannot write only costs the next run its compile
    }
  }
  const text = bpf.toString('base64');
  compiled.set(key, text);
  return text;
}

/** In the launcher, before the stage's order is sent (it may run while the stage boots). */
export function compileSecurity(spec: SecuritySpec): StageSecurity {
  const { capabilities, noNewPrivileges, maskedPaths, readonlyPaths, readonlyRoot } = spec;
  const stage: StageSecurity = { capabilities, lastCap: kernelLastCap(), noNewPrivileges, maskedPaths, readonlyPaths, readonlyRoot, seccomp: spec.seccomp.kind };
  if (spec.sets) stage.sets = spec.sets;
  const profile = profileOf(spec);
  if (!profile) return stage;
  return { ...stage, seccompBpf: cachedBpf(resolveProfile(profile, { capabilities })) };
}
