// Seccomp filters compiled by libseccomp (libseccomp.so.2) through koffi, to BPF.
//
// libseccomp runs where the container is asked for (the launcher), not in the
// stage: building docker's profile for x86_64 + x86 + x32 takes 25-50 ms here,
// which the launcher spends while the stage boots (and keeps: compile.ts), and
// a missing library is reported before anything is created. The stage installs the BPF it is handed
// with prctl(PR_SET_SECCOMP) (libc.setSeccompFilter), as seccomp_load would.
// We turn libseccomp's own no_new_privs off (SCMP_FLTATR_CTL_NNP): docker
// leaves it off by default, and --security-opt no-new-privileges sets it
// itself. So, in the stage, the filter must go in while the thread still has
// CAP_SYS_ADMIN, i.e. before capset() drops it, unless no_new_privs is set.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { SyscallError, UserError } from '../errors.js';
import { errnoName, memfdCreate } from '../libc.js';
import type { ResolvedProfile, SeccompActionName, SeccompOperator } from './profile.js';

const require = createRequire(import.meta.url);
const koffi = require('koffi') as typeof import('koffi');

const LIBRARY = 'libseccomp.so.2';

// seccomp.h: actions, comparison operators, filter attributes.
const ACTION_BASE: Record<SeccompActionName, number> = {
  SCMP_ACT_KILL: 0x00000000,
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
};
const OPERATOR: Record<SeccompOperator, number> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};
const SCMP_FLTATR_CTL_NNP = 3;
const SCMP_FLTATR_CTL_OPTIMIZE = 8; // libseccomp >= 2.5
const NR_SCMP_ERROR = -1;
const { EPERM, EEXIST } = constants.errno;
const ARG_CMP_SIZE = 24; // struct scmp_arg_cmp { u32 arg; enum op; u64 datum_a; u64 datum_b; }

interface Libseccomp {
  init: (action: number) => unknown;
  release: (ctx: unknown) => void;
  archAdd: (ctx: unknown, token: number) => number;
  archResolve: (name: string) => number;
  attrSet: (ctx: unknown, attr: number, value: number) => number;
  resolveName: (name: string) => number;
  ruleAdd: (ctx: unknown, action: number, syscall: number, count: number, args: Buffer | null) => number;
  exportBpf: (ctx: unknown, fd: number) => number;
  /** e.g. "2.5.4": a compiled filter is only as good as the libseccomp that made it. */
  version: string;
}

let bound: Libseccomp | undefined;

/** Bind libseccomp once; a missing library is the user's to fix, with the way out named. */
export function libseccomp(): Libseccomp {
  if (bound) return bound;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(LIBRARY);
  } catch {
    throw new UserError(`seccomp: ${LIBRARY} cannot be loaded: install libseccomp2 (apt install libseccomp2), or run with --security-opt seccomp=unconfined`);
  }
  koffi.struct('scmp_version', { major: 'unsigned int', minor: 'unsigned int', micro: 'unsigned int' });
  const v = koffi.decode(lib.func('const scmp_version *seccomp_version(void)')(), 'scmp_version') as { major: number; minor: number; micro: number };
  bound = {
    version: `${v.major}.${v.minor}.${v.micro}`,
    init: lib.func('void *seccomp_init(uint32_t def_action)'),
    release: lib.func('void seccomp_release(void *ctx)'),
    archAdd: lib.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    archResolve: lib.func('uint32_t seccomp_arch_resolve_name(const char *arch_name)'),
    attrSet: lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    resolveName: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
    ruleAdd: lib.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *arg_array)'),
    exportBpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
  };
  return bound;
}

function actionValue(action: SeccompActionName, errnoRet: number | undefined): number {
  const base = ACTION_BASE[action];
  // ERRNO and TRACE carry a 16-bit value; docker's default for a missing errnoRet is EPERM.
  if (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') return (base | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
  return base >>> 0;
}

function argArray(args: ResolvedProfile['rules'][number]['args']): Buffer {
  const buf = Buffer.alloc(ARG_CMP_SIZE * args.length);
  args.forEach((a, i) => {
    buf.writeUInt32LE(a.index, i * ARG_CMP_SIZE);
    buf.writeInt32LE(OPERATOR[a.op], i * ARG_CMP_SIZE + 4);
    buf.writeBigUInt64LE(BigInt(a.value), i * ARG_CMP_SIZE + 8);
    buf.writeBigUInt64LE(BigInt(a.valueTwo), i * ARG_CMP_SIZE + 16);
  });
  return buf;
}

function fail(call: string, rc: number, detail?: string): never {
  throw new SyscallError(call, errnoName(-rc), detail);
}

export interface CompiledFilter {
  /** The BPF program, 8 bytes an instruction (struct sock_filter). */
  bpf: Buffer;
  /** Rules added (one per syscall and argument set). */
  ruleCount: number;
  /** Syscall names this kernel/libseccomp does not know, skipped as docker does. */
  unknownSyscalls: string[];
}

/** Compile a resolved profile (profile.ts) to BPF for this machine's architectures. */
export function compileSeccompFilter(profile: ResolvedProfile): CompiledFilter {
  const scmp = libseccomp();
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const ctx = scmp.init(defaultAction);
  if (!ctx) throw new SyscallError('seccomp_init', 'EINVAL', 'the default action');
  let ruleCount = 0;
  const unknownSyscalls: string[] = [];
  try {
    let rc = scmp.attrSet(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc < 0) fail('seccomp_attr_set', rc, 'SCMP_FLTATR_CTL_NNP');
    // A binary tree of syscall numbers rather than a list: the kernel takes ~0.35 ms
    // to install docker's profile instead of ~1 ms (it walks the filter for every
    // syscall to cache the always-allowed ones), and each syscall checks fewer rules.
    rc = scmp.attrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc < 0) fail('seccomp_attr_set', rc, 'SCMP_FLTATR_CTL_OPTIMIZE');
    for (const arch of profile.architectures) {
      const token = scmp.archResolve(arch.slice('SCMP_ARCH_'.length).toLowerCase());
      if (!token) throw new UserError(`seccomp: this libseccomp does not know the architecture ${arch}`);
      rc = scmp.archAdd(ctx, token);
      if (rc < 0 && rc !== -EEXIST) fail('seccomp_arch_add', rc, arch);
    }
    for (const rule of profile.rules) {
      const action = actionValue(rule.action, rule.errnoRet);
      if (action === defaultAction) continue; // libseccomp refuses a rule that repeats the default (EACCES)
      const nr = scmp.resolveName(rule.name);
      if (nr === NR_SCMP_ERROR) {
        unknownSyscalls.push(rule.name);
        continue;
      }
      // Several checks on one argument cannot be ANDed by libseccomp: as runc does,
      // such a rule becomes one rule per check (any one lets the call through).
      const indexes = rule.args.map((a) => a.index);
      const groups = new Set(indexes).size < indexes.length ? rule.args.map((a) => [a]) : [rule.args];
      for (const group of groups) {
        rc = scmp.ruleAdd(ctx, action, nr, group.length, group.length ? argArray(group) : null);
        if (rc < 0) fail('seccomp_rule_add', rc, rule.name);
        ruleCount++;
      }
    }
    return { bpf: exportBpf(scmp, ctx), ruleCount, unknownSyscalls };
  } finally {
    scmp.release(ctx);
  }
}

function exportBpf(scmp: Libseccomp, ctx: unknown): Buffer {
  const fd = memfdCreate('seccomp-bpf');
  try {
    const rc = scmp.exportBpf(ctx, fd);
    if (rc < 0) fail('seccomp_export_bpf', rc);
    const bpf = Buffer.alloc(fs.fstatSync(fd).size);
    fs.readSync(fd, bpf, 0, bpf.length, 0);
    return bpf;
  } finally {
    fs.closeSync(fd);
  }
}
