// A seccomp filter built and loaded through libseccomp (libseccomp.so.2) via koffi.
//
// Order matters. Loading a filter needs CAP_SYS_ADMIN or no_new_privs (seccomp(2)):
// without no-new-privileges it must be loaded while the thread still has
// CAP_SYS_ADMIN in its effective set, i.e. before capset() drops it. We turn
// libseccomp's own no_new_privs off (SCMP_FLTATR_CTL_NNP), since docker leaves it
// off by default and --security-opt no-new-privileges sets it itself. Without
// TSYNC the filter binds the calling thread only, which is what we want: execve
// follows on that thread and ends the others. libseccomp must be loaded (dlopen)
// before the root changes: it lives on the host, not in the container.
import { createRequire } from 'node:module';
import { SyscallError, UserError } from '../errors.js';
import { errnoName } from '../libc.js';
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
const SCMP_FLTATR_API_SYSRAWRC = 9; // report the kernel's errno (EACCES …) rather than ECANCELED
const NR_SCMP_ERROR = -1;
const EPERM = 1;
const EEXIST = 17;
const EACCES = 13;
const ARG_CMP_SIZE = 24; // struct scmp_arg_cmp { u32 arg; enum op; u64 datum_a; u64 datum_b; }

interface Libseccomp {
  init: (action: number) => unknown;
  release: (ctx: unknown) => void;
  archAdd: (ctx: unknown, token: number) => number;
  archResolve: (name: string) => number;
  attrSet: (ctx: unknown, attr: number, value: number) => number;
  resolveName: (name: string) => number;
  ruleAdd: (ctx: unknown, action: number, syscall: number, count: number, args: Buffer | null) => number;
  load: (ctx: unknown) => number;
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
  bound = {
    init: lib.func('void *seccomp_init(uint32_t def_action)'),
    release: lib.func('void seccomp_release(void *ctx)'),
    archAdd: lib.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    archResolve: lib.func('uint32_t seccomp_arch_resolve_name(const char *arch_name)'),
    attrSet: lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    resolveName: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
    ruleAdd: lib.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *arg_array)'),
    load: lib.func('int seccomp_load(void *ctx)'),
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

export interface SeccompFilter {
  /** Install the filter on the calling thread. Needs CAP_SYS_ADMIN or no_new_privs. */
  load(): void;
  release(): void;
  /** Rules added (one per syscall and argument set). */
  readonly ruleCount: number;
  /** Syscall names this kernel/libseccomp does not know, skipped as docker does. */
  readonly unknownSyscalls: string[];
}

/** Build a filter from a resolved profile (profile.ts); nothing is installed until load(). */
export function buildSeccompFilter(profile: ResolvedProfile): SeccompFilter {
  const scmp = libseccomp();
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const ctx = scmp.init(defaultAction);
  if (!ctx) throw new SyscallError('seccomp_init', 'EINVAL', 'the default action');
  let released = false;
  const release = () => {
    if (!released) scmp.release(ctx);
    released = true;
  };
  let ruleCount = 0;
  const unknownSyscalls: string[] = [];
  try {
    let rc = scmp.attrSet(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc < 0) fail('seccomp_attr_set', rc, 'SCMP_FLTATR_CTL_NNP');
    scmp.attrSet(ctx, SCMP_FLTATR_API_SYSRAWRC, 1); // libseccomp >= 2.5; older ones say ECANCELED
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
        if (rc === -EACCES) continue;
        if (rc < 0) fail('seccomp_rule_add', rc, rule.name);
        ruleCount++;
      }
    }
  } catch (err) {
    release();
    throw err;
  }
  return {
    ruleCount,
    unknownSyscalls,
    release,
    load() {
      if (released) throw new SyscallError('seccomp_load', 'EINVAL', 'the filter was released');
      const rc = scmp.load(ctx);
      if (rc < 0) fail('seccomp_load', rc);
    },
  };
}
