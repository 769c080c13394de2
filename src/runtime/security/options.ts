// docker run's security flags → a SecuritySpec: what the stage applies to one
// container. Pure and serialisable (it travels to the stage as JSON); a bad flag
// or profile is a UserError here, before anything is created.
import { UserError } from '../errors.js';
import { computeCapabilities, type CapabilityName } from './capabilities.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from './docker-paths.js';
import { readSeccompProfile, type SeccompProfile } from './profile.js';

export type SeccompChoice =
  | { kind: 'unconfined' }
  | { kind: 'docker-default' }
  | { kind: 'profile'; file: string; profile: SeccompProfile };

/**
 * The other four sets of capabilities(7), where they differ from the bounding set:
 * an OCI bundle's process.capabilities, which runc applies set by set.
 */
export interface CapabilitySetNames {
  effective: CapabilityName[];
  permitted: CapabilityName[];
  inheritable: CapabilityName[];
  /** Raised after capset, each only where the kernel allows it (in permitted and inheritable), as runc does. */
  ambient: CapabilityName[];
}

export interface SecuritySpec {
  /** --privileged: every capability, no seccomp, nothing masked or read-only, every device (as docker). */
  privileged: boolean;
  /** The bounding set; without `sets` also permitted, effective and inheritable, and ambient is cleared (docker's flags). */
  capabilities: CapabilityName[];
  /** An OCI bundle's own effective, permitted, inheritable and ambient sets. */
  sets?: CapabilitySetNames;
  seccomp: SeccompChoice;
  noNewPrivileges: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  /** --read-only: the container's root is remounted read-only. */
  readonlyRoot: boolean;
  /** Which device nodes may be opened: runc's default rules (cgroups/devices.ts), or every device (--privileged, as docker). */
  devices: 'runc-default' | 'all';
}

export interface SecurityFlags {
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** Each --security-opt value, e.g. 'seccomp=unconfined', 'no-new-privileges:true'. */
  securityOpt?: string[];
  readOnly?: boolean;
}

/** What a container gets with no flags: docker's defaults. */
export function defaultSecuritySpec(): SecuritySpec {
  return securitySpecFrom({});
}

function parseBool(value: string, opt: string): boolean {
  if (value === 'true' || value === '') return true;
  if (value === 'false') return false;
  throw new UserError(`--security-opt ${opt}: expected true or false, e.g. --security-opt no-new-privileges:true`);
}

export function securitySpecFrom(flags: SecurityFlags, readProfile: (file: string) => SeccompProfile = readSeccompProfile): SecuritySpec {
  const privileged = !!flags.privileged;
  let seccomp: SeccompChoice = { kind: 'docker-default' };
  let noNewPrivileges = false;
  let systemPaths = true;
  for (const opt of flags.securityOpt ?? []) {
    // docker takes key=value, and the older key:value
    const sep = opt.search(/[=:]/);
    const key = sep < 0 ? opt : opt.slice(0, sep);
    const value = sep < 0 ? '' : opt.slice(sep + 1);
    if (key === 'no-new-privileges') noNewPrivileges = parseBool(value, opt);
    else if (key === 'seccomp') {
      if (!value) throw new UserError(`--security-opt ${opt}: give seccomp=unconfined or seccomp=PROFILE.json`);
      seccomp = value === 'unconfined' ? { kind: 'unconfined' } : { kind: 'profile', file: value, profile: readProfile(value) };
    } else if (key === 'systempaths') {
      // docker's systempaths=unconfined: no masked and no read-only paths
      if (value !== 'unconfined') throw new UserError(`--security-opt ${opt}: the only value is systempaths=unconfined`);
      systemPaths = false;
    } else if (key === 'apparmor' || key === 'label') {
      throw new UserError(`--security-opt ${opt}: containy-learn applies no AppArmor or SELinux profile; leave this option out`);
    } else {
      throw new UserError(`--security-opt ${opt}: unknown option: use seccomp=unconfined|PROFILE.json, no-new-privileges[:true|false] or systempaths=unconfined`);
    }
  }
  // Names are checked even with --privileged (docker ignores them then): a typo is still a typo.
  const capabilities = computeCapabilities({ add: flags.capAdd, drop: flags.capDrop });
  if (privileged) {
    return {
      privileged,
      capabilities: computeCapabilities({ privileged }),
      seccomp: { kind: 'unconfined' },
      noNewPrivileges,
      maskedPaths: [],
      readonlyPaths: [],
      readonlyRoot: !!flags.readOnly,
      devices: 'all',
    };
  }
  return {
    privileged,
    capabilities,
    seccomp,
    noNewPrivileges,
    maskedPaths: systemPaths ? [...DOCKER_MASKED_PATHS] : [],
    readonlyPaths: systemPaths ? [...DOCKER_READONLY_PATHS] : [],
    readonlyRoot: !!flags.readOnly,
    devices: 'runc-default',
  };
}
