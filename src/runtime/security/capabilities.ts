// Linux capabilities: the kernel's names and numbers (linux/capability.h),
// docker's default set, and docker's rules for --cap-add, --cap-drop and
// --privileged. Pure: nothing here makes a syscall (apply-caps.ts does).
import fs from 'node:fs';
import { UserError } from '../errors.js';

/** Index = the capability's number (linux/capability.h, CAP_CHOWN 0 … CAP_CHECKPOINT_RESTORE 40). */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID',
  'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

const NUMBERS = new Map<string, number>(CAPABILITY_NAMES.map((name, n) => [name, n]));

/** The newest capability this table knows; the running kernel may know fewer. */
export const LAST_KNOWN_CAP = CAPABILITY_NAMES.length - 1;

/** Docker's default set for a container (moby's oci/caps defaults): CapBnd 00000000a80425fb. */
export const DOCKER_DEFAULT_CAPABILITIES: readonly CapabilityName[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export function capabilityNumber(name: CapabilityName): number {
  return NUMBERS.get(name)!;
}

/** The running kernel's highest capability number (/proc/sys/kernel/cap_last_cap), at most ours. */
export function kernelLastCap(): number {
  try {
    const n = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    if (Number.isInteger(n) && n >= 0) return Math.min(n, LAST_KNOWN_CAP);
  } catch {
    // no /proc: assume the kernel knows every capability we do
  }
  return LAST_KNOWN_CAP;
}

/** Every capability the kernel knows, as --privileged gives. */
export function allCapabilities(lastCap = kernelLastCap()): CapabilityName[] {
  return CAPABILITY_NAMES.slice(0, lastCap + 1);
}

/**
 * A docker-style name: case-insensitive, `CAP_` optional; `ALL` is kept as 'ALL'.
 * `flag` names the option in the error, e.g. '--cap-add'.
 */
export function parseCapabilityName(raw: string, flag: string): CapabilityName | 'ALL' {
  const upper = raw.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!NUMBERS.has(name)) {
    throw new UserError(`${flag}: unknown capability '${raw}': use a name from capabilities(7), e.g. NET_ADMIN or CAP_SYS_ADMIN, or ALL`);
  }
  return name as CapabilityName;
}

export interface CapabilityChoice {
  privileged?: boolean;
  add?: string[];
  drop?: string[];
}

/**
 * The container's capability set, by docker's rules (moby oci/caps TweakCapabilities):
 * --privileged gives everything; else `--cap-add ALL` gives everything but what
 * --cap-drop names; else `--cap-drop ALL` gives exactly what --cap-add names;
 * else the defaults minus --cap-drop plus --cap-add. Capabilities newer than
 * the kernel are left out. Sorted by number.
 */
export function computeCapabilities(choice: CapabilityChoice, lastCap = kernelLastCap()): CapabilityName[] {
  const all = allCapabilities(lastCap);
  if (choice.privileged) return all;
  const add = (choice.add ?? []).map((n) => parseCapabilityName(n, '--cap-add'));
  const drop = (choice.drop ?? []).map((n) => parseCapabilityName(n, '--cap-drop'));
  let chosen: Iterable<CapabilityName | 'ALL'>;
  if (add.includes('ALL')) chosen = all.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) chosen = add;
  else chosen = [...DOCKER_DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  const known = new Set<string>(all);
  return [...new Set(chosen)].filter((c): c is CapabilityName => known.has(c)).sort((a, b) => capabilityNumber(a) - capabilityNumber(b));
}

/** A set as the kernel's 64-bit mask. */
export function capabilityMask(caps: Iterable<CapabilityName>): bigint {
  let mask = 0n;
  for (const c of caps) mask |= 1n << BigInt(capabilityNumber(c));
  return mask;
}

/** As /proc/PID/status prints it: 16 hex digits. */
export function formatCapMask(mask: bigint): string {
  return mask.toString(16).padStart(16, '0');
}

/**
 * Names for a CapEff/CapPrm/CapBnd value from /proc/PID/status (hex, as printed).
 * Bits this table does not know come back as `cap_N`, the way capsh prints them.
 */
export function decodeCapMask(hex: string): string[] {
  const text = hex.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,16}$/i.test(text)) throw new UserError(`not a capability mask: '${hex}' (expected up to 16 hex digits, as in /proc/PID/status)`);
  const mask = BigInt(`0x${text}`);
  const names: string[] = [];
  for (let n = 0; n < 64; n++) {
    if (mask & (1n << BigInt(n))) names.push(CAPABILITY_NAMES[n] ?? `cap_${n}`);
  }
  return names;
}
