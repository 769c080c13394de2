// Seccomp profiles in docker's JSON format (the format `docker run --security-opt
// seccomp=FILE` reads), checked field by field, and resolved for one container:
// which rules apply on this architecture, this kernel and this capability set.
// Pure: libseccomp is bound in seccomp.ts. The rules of resolution follow moby's
// profiles/seccomp (setupSeccomp): includes/excludes on caps are judged against the
// container's bounding set, arches against the native architecture, minKernel
// against the running kernel; archMap adds the native architecture's entry and its
// sub-architectures, `architectures` (the older format) adds every one listed.
import fs from 'node:fs';
import os from 'node:os';
import { UserError } from '../errors.js';
import { CAPABILITY_NAMES, type CapabilityName } from './capabilities.js';

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG', 'SCMP_ACT_ALLOW',
] as const;
export type SeccompActionName = (typeof SECCOMP_ACTIONS)[number];

export const SECCOMP_OPERATORS = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
] as const;
export type SeccompOperator = (typeof SECCOMP_OPERATORS)[number];

/** libseccomp's architecture names, as docker's profiles spell them. */
export const SECCOMP_ARCHES = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64',
] as const;
export type SeccompArch = (typeof SECCOMP_ARCHES)[number];

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo: number;
  op: SeccompOperator;
}

/** A condition on where a rule applies; `arches` uses Go's names (amd64, arm64, x86 …) as docker's do. */
export interface SeccompCondition {
  caps?: CapabilityName[];
  arches?: string[];
  minKernel?: string;
}

export interface SeccompRule {
  names: string[];
  action: SeccompActionName;
  errnoRet?: number;
  args?: SeccompArg[];
  includes?: SeccompCondition;
  excludes?: SeccompCondition;
}

/** A profile, checked; serialisable as JSON (it travels to the stage in its order). */
export interface SeccompProfile {
  defaultAction: SeccompActionName;
  defaultErrnoRet?: number;
  archMap?: Array<{ architecture: SeccompArch; subArchitectures: SeccompArch[] }>;
  architectures?: SeccompArch[];
  syscalls: SeccompRule[];
}

/** One rule as it goes into the filter: a single syscall, its action and its argument checks. */
export interface ResolvedRule {
  name: string;
  action: SeccompActionName;
  errnoRet?: number;
  args: SeccompArg[];
}

export interface ResolvedProfile {
  defaultAction: SeccompActionName;
  defaultErrnoRet?: number;
  /** Besides the native one, which libseccomp includes by itself. */
  architectures: SeccompArch[];
  rules: ResolvedRule[];
}

/** The architecture we run on, in libseccomp's and in Go's (docker's `arches`) names. */
export interface NativeArch {
  seccomp: SeccompArch;
  go: string;
}

const NATIVE: Record<string, NativeArch> = {
  x64: { seccomp: 'SCMP_ARCH_X86_64', go: 'amd64' },
  ia32: { seccomp: 'SCMP_ARCH_X86', go: 'x86' },
  arm64: { seccomp: 'SCMP_ARCH_AARCH64', go: 'arm64' },
  arm: { seccomp: 'SCMP_ARCH_ARM', go: 'arm' },
  ppc64: { seccomp: 'SCMP_ARCH_PPC64LE', go: 'ppc64le' },
  s390x: { seccomp: 'SCMP_ARCH_S390X', go: 's390x' },
  riscv64: { seccomp: 'SCMP_ARCH_RISCV64', go: 'riscv64' },
  loong64: { seccomp: 'SCMP_ARCH_LOONGARCH64', go: 'loong64' },
  mips64el: { seccomp: 'SCMP_ARCH_MIPSEL64', go: 'mipsel64' },
};

export function nativeArch(arch: string = process.arch): NativeArch {
  const native = NATIVE[arch];
  if (!native) throw new UserError(`seccomp: no architecture mapping for '${arch}': run with --security-opt seccomp=unconfined`);
  return native;
}

/** True when the kernel release (e.g. "6.18.0-1-amd64") is at least `min` (e.g. "4.8"). */
export function kernelAtLeast(min: string, release: string = os.release()): boolean {
  const parse = (v: string) => (v.match(/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/) ?? []).slice(1, 4).map((n) => Number(n ?? 0));
  const [a, b] = [parse(release), parse(min)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

export interface ResolveContext {
  /** The container's capability set (its bounding set). */
  capabilities: readonly CapabilityName[];
  arch?: NativeArch;
  kernelRelease?: string;
}

export function resolveProfile(profile: SeccompProfile, ctx: ResolveContext): ResolvedProfile {
  const arch = ctx.arch ?? nativeArch();
  const release = ctx.kernelRelease ?? os.release();
  const caps = new Set<string>(ctx.capabilities);
  const architectures = profile.architectures
    ? [...profile.architectures]
    : (() => {
        const entry = profile.archMap?.find((a) => a.architecture === arch.seccomp);
        return entry ? [entry.architecture, ...entry.subArchitectures] : [];
      })();
  const excluded = (c?: SeccompCondition) =>
    !!c && (!!c.arches?.includes(arch.go) || !!c.caps?.some((cap) => caps.has(cap)) || (c.minKernel !== undefined && kernelAtLeast(c.minKernel, release)));
  const included = (c?: SeccompCondition) =>
    !c || ((!c.arches?.length || c.arches.includes(arch.go)) && (c.caps ?? []).every((cap) => caps.has(cap)) && (c.minKernel === undefined || kernelAtLeast(c.minKernel, release)));
  const rules: ResolvedRule[] = [];
  for (const rule of profile.syscalls) {
    if (excluded(rule.excludes) || !included(rule.includes)) continue;
    for (const name of rule.names) rules.push({ name, action: rule.action, errnoRet: rule.errnoRet, args: rule.args ?? [] });
  }
  return { defaultAction: profile.defaultAction, defaultErrnoRet: profile.defaultErrnoRet, architectures, rules };
}

// ---- reading docker's JSON format, with the JSON path of anything wrong ----

class ProfileError extends Error {
  constructor(readonly jsonPath: string, readonly problem: string) {
    super(`${jsonPath}: ${problem}`);
  }
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneOf<T extends string>(v: Json, allowed: readonly T[], at: string): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new ProfileError(at, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function uint(v: Json, at: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new ProfileError(at, `expected a whole number from 0 to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function stringList(v: Json, at: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ProfileError(at, 'expected a list of strings');
  return v as string[];
}

function optionalList(v: Json, at: string): string[] {
  return v === undefined || v === null ? [] : stringList(v, at);
}

function condition(v: Json, at: string): SeccompCondition | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new ProfileError(at, 'expected an object with caps, arches or minKernel');
  const out: SeccompCondition = {};
  const caps = optionalList(v.caps, `${at}.caps`);
  caps.forEach((c, i) => oneOf(c, CAPABILITY_NAMES, `${at}.caps[${i}]`));
  if (caps.length) out.caps = caps as CapabilityName[];
  const arches = optionalList(v.arches, `${at}.arches`);
  if (arches.length) out.arches = arches;
  if (v.minKernel !== undefined && v.minKernel !== null) {
    if (typeof v.minKernel !== 'string' || !/^\d+(\.\d+){0,2}$/.test(v.minKernel)) throw new ProfileError(`${at}.minKernel`, `expected a kernel version such as "4.8", got ${JSON.stringify(v.minKernel)}`);
    out.minKernel = v.minKernel;
  }
  return out;
}

function rule(v: Json, at: string): SeccompRule {
  if (!isObject(v)) throw new ProfileError(at, 'expected an object with names and action');
  if (v.name !== undefined && v.names !== undefined) throw new ProfileError(at, "give either 'name' or 'names', not both");
  const names = v.name !== undefined ? [v.name] : v.names;
  const list = stringList(names, v.name !== undefined ? `${at}.name` : `${at}.names`);
  if (!list.length) throw new ProfileError(`${at}.names`, 'expected at least one syscall name');
  const out: SeccompRule = { names: list, action: oneOf(v.action, SECCOMP_ACTIONS, `${at}.action`) };
  if (v.errnoRet !== undefined && v.errnoRet !== null) out.errnoRet = uint(v.errnoRet, `${at}.errnoRet`, 0xffff);
  if (v.args !== undefined && v.args !== null) {
    if (!Array.isArray(v.args)) throw new ProfileError(`${at}.args`, 'expected a list');
    out.args = v.args.map((a, i) => {
      const ap = `${at}.args[${i}]`;
      if (!isObject(a)) throw new ProfileError(ap, 'expected an object with index, value, op');
      return {
        index: uint(a.index, `${ap}.index`, 5),
        value: uint(a.value, `${ap}.value`),
        valueTwo: a.valueTwo === undefined ? 0 : uint(a.valueTwo, `${ap}.valueTwo`),
        op: oneOf(a.op, SECCOMP_OPERATORS, `${ap}.op`),
      };
    });
  }
  const includes = condition(v.includes, `${at}.includes`);
  if (includes) out.includes = includes;
  const excludes = condition(v.excludes, `${at}.excludes`);
  if (excludes) out.excludes = excludes;
  return out;
}

/** Check a parsed docker profile; throws ProfileError naming the JSON path. */
function checkProfile(v: Json): SeccompProfile {
  if (!isObject(v)) throw new ProfileError('$', 'expected an object with defaultAction and syscalls');
  const profile: SeccompProfile = { defaultAction: oneOf(v.defaultAction, SECCOMP_ACTIONS, '$.defaultAction'), syscalls: [] };
  if (v.defaultErrnoRet !== undefined && v.defaultErrnoRet !== null) profile.defaultErrnoRet = uint(v.defaultErrnoRet, '$.defaultErrnoRet', 0xffff);
  if (v.archMap && v.architectures) throw new ProfileError('$', "give either 'archMap' or 'architectures', not both");
  if (v.architectures !== undefined && v.architectures !== null) {
    profile.architectures = stringList(v.architectures, '$.architectures').map((a, i) => oneOf(a, SECCOMP_ARCHES, `$.architectures[${i}]`));
  }
  if (v.archMap !== undefined && v.archMap !== null) {
    if (!Array.isArray(v.archMap)) throw new ProfileError('$.archMap', 'expected a list');
    profile.archMap = v.archMap.map((m, i) => {
      const at = `$.archMap[${i}]`;
      if (!isObject(m)) throw new ProfileError(at, 'expected an object with architecture and subArchitectures');
      return {
        architecture: oneOf(m.architecture, SECCOMP_ARCHES, `${at}.architecture`),
        subArchitectures: optionalList(m.subArchitectures, `${at}.subArchitectures`).map((a, j) => oneOf(a, SECCOMP_ARCHES, `${at}.subArchitectures[${j}]`)),
      };
    });
  }
  if (v.syscalls !== undefined && v.syscalls !== null) {
    if (!Array.isArray(v.syscalls)) throw new ProfileError('$.syscalls', 'expected a list');
    profile.syscalls = v.syscalls.map((r, i) => rule(r, `$.syscalls[${i}]`));
  }
  return profile;
}

/** A profile from JSON text; `file` names it in the error. */
export function parseSeccompProfile(text: string, file: string): SeccompProfile {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`--security-opt seccomp=${file}: not valid JSON (${(err as Error).message}): give a docker seccomp profile`);
  }
  try {
    return checkProfile(json);
  } catch (err) {
    if (err instanceof ProfileError) throw new UserError(`--security-opt seccomp=${file}: ${err.jsonPath}: ${err.problem}`);
    throw err;
  }
}

export function readSeccompProfile(file: string): SeccompProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`--security-opt seccomp=${file}: cannot read the profile (${code === 'ENOENT' ? 'no such file' : code}): give the path of a docker seccomp JSON profile, or 'unconfined'`);
  }
  return parseSeccompProfile(text, file);
}
