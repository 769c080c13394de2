// cgroup v2 has no devices.allow: a BPF_PROG_TYPE_CGROUP_DEVICE program attached
// to the cgroup decides each open and mknod of a device node (return 1 allows,
// 0 refuses with EPERM). This turns a list of allow rules into that program, the
// way runc's libcontainer/cgroups/ebpf/devicefilter/devicefilter.go does (itself
// from crun's ebpf.c): load the request into registers, then one block per rule
// that jumps to the next block on any mismatch and returns 1 at its end, and a
// final "return 0". For runc's default rules that is runc's 64 instructions.
import type { DeviceRule } from './devices.js';

// struct bpf_cgroup_dev_ctx (include/uapi/linux/bpf.h): the program's one argument, in R1.
const CTX_ACCESS_TYPE = 0; // u32: (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*
const CTX_MAJOR = 4; // u32
const CTX_MINOR = 8; // u32
const BPF_DEVCG_ACC = { m: 1, r: 2, w: 4 } as const; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE
const BPF_DEVCG_DEV = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, _CHAR

// Opcodes (include/uapi/linux/bpf.h, bpf_common.h): class | operation | source.
const LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
const ALU32_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K: dst &= imm (32-bit)
const ALU32_RSH_K = 0x74; // BPF_ALU | BPF_RSH | BPF_K: dst >>= imm
const ALU32_MOV_K = 0xb4; // BPF_ALU | BPF_MOV | BPF_K: dst = imm
const ALU32_MOV_X = 0xbc; // BPF_ALU | BPF_MOV | BPF_X: dst = src
const JMP_JNE_K = 0x55; // BPF_JMP | BPF_JNE | BPF_K: if dst != imm, pc += off
const JMP_JNE_X = 0x5d; // BPF_JMP | BPF_JNE | BPF_X: if dst != src, pc += off
const JMP_EXIT = 0x95; // BPF_JMP | BPF_EXIT: return R0

const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

/** One struct bpf_insn: code, dst and src registers, a jump offset, an immediate. */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });

function accessBits(access: string): number {
  let bits = 0;
  for (const ch of access) {
    const bit = BPF_DEVCG_ACC[ch as keyof typeof BPF_DEVCG_ACC];
    if (bit === undefined) throw new Error(`device rule access '${access}': only r, w and m exist`);
    bits |= bit;
  }
  return bits;
}

/** The program for these allow rules; anything they do not allow is refused. */
export function deviceFilterProgram(rules: readonly DeviceRule[]): BpfInsn[] {
  // Prologue: R2 = device type, R3 = access asked for, R4 = major, R5 = minor.
  const prog: BpfInsn[] = [
    insn(LDX_MEM_W, R2, R1, CTX_ACCESS_TYPE, 0),
    insn(ALU32_AND_K, R2, 0, 0, 0xffff),
    insn(LDX_MEM_W, R3, R1, CTX_ACCESS_TYPE, 0),
    insn(ALU32_RSH_K, R3, 0, 0, 16),
    insn(LDX_MEM_W, R4, R1, CTX_MAJOR, 0),
    insn(LDX_MEM_W, R5, R1, CTX_MINOR, 0),
  ];
  for (const rule of rules) {
    // Each test jumps to the next rule's block when it fails; the offsets are
    // filled in once the block's length is known (a jump counts from the next insn).
    const block: BpfInsn[] = [insn(JMP_JNE_K, R2, 0, 0, BPF_DEVCG_DEV[rule.type])];
    const bits = accessBits(rule.access);
    if (bits !== 7) {
      // The access asked for must be within the rule's: (R3 & bits) == R3, R1 as a scratch register.
      block.push(insn(ALU32_MOV_X, R1, R3, 0, 0), insn(ALU32_AND_K, R1, 0, 0, bits), insn(JMP_JNE_X, R1, R3, 0, 0));
    }
    if (rule.major !== '*') block.push(insn(JMP_JNE_K, R4, 0, 0, rule.major));
    if (rule.minor !== '*') block.push(insn(JMP_JNE_K, R5, 0, 0, rule.minor));
    // Every test passed: allow.
    block.push(insn(ALU32_MOV_K, R0, 0, 0, 1), insn(JMP_EXIT, 0, 0, 0, 0));
    block.forEach((b, i) => {
      if (b.code === JMP_JNE_K || b.code === JMP_JNE_X) b.off = block.length - (i + 1);
    });
    prog.push(...block);
  }
  // No rule allowed it: refuse (the kernel answers EPERM).
  prog.push(insn(ALU32_MOV_K, R0, 0, 0, 0), insn(JMP_EXIT, 0, 0, 0, 0));
  return prog;
}

/** The instructions as the kernel reads them: 8 bytes each, little-endian (x86_64, arm64). */
export function encodeProgram(prog: readonly BpfInsn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    buf.writeUInt8(p.code, i * 8);
    buf.writeUInt8((p.src << 4) | p.dst, i * 8 + 1);
    buf.writeInt16LE(p.off, i * 8 + 2);
    buf.writeInt32LE(p.imm, i * 8 + 4);
  });
  return buf;
}
