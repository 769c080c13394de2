// runc's default device rules as a cgroup v2 BPF program: the program is run
// here by a small interpreter of the opcodes it uses, on requests the kernel
// would make, and must decide as the v1 devices cgroup would with the same lines.
import { describe, expect, it } from 'vitest';
import { deviceFilterProgram, encodeProgram, type BpfInsn } from '../../src/runtime/cgroups/device-filter.js';
import { RUNC_DEFAULT_DEVICE_RULES, deviceRuleLine } from '../../src/runtime/cgroups/devices.js';

const ACC = { m: 1, r: 2, w: 4 } as const;
const DEV = { b: 1, c: 2 } as const;

/** Run the program on struct bpf_cgroup_dev_ctx { access_type, major, minor }. */
function run(prog: BpfInsn[], type: 'b' | 'c', access: string, major: number, minor: number): number {
  const ctx = [[...access].reduce((a, ch) => a | ACC[ch as 'r'], 0) << 16 | DEV[type], major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc];
    switch (i.code) {
      case 0x61: expect(i.src).toBe(1); r[i.dst] = ctx[i.off / 4]; break;
      case 0x54: r[i.dst] = (r[i.dst] & i.imm) >>> 0; break;
      case 0x74: r[i.dst] = r[i.dst] >>> i.imm; break;
      case 0xb4: r[i.dst] = i.imm >>> 0; break;
      case 0xbc: r[i.dst] = r[i.src]; break;
      case 0x55: if (r[i.dst] !== i.imm >>> 0) pc += i.off; break;
      case 0x5d: if (r[i.dst] !== r[i.src]) pc += i.off; break;
      case 0x95: return r[0];
      default: throw new Error(`opcode 0x${i.code.toString(16)}`);
    }
  }
  throw new Error('fell off the end');
}

/** What devices.allow lines mean (Documentation/admin-guide/cgroup-v1/devices.rst), after devices.deny "a". */
function v1Allows(type: 'b' | 'c', access: string, major: number, minor: number): boolean {
  return RUNC_DEFAULT_DEVICE_RULES.some((rule) => rule.type === type && (rule.major === '*' || rule.major === major)
    && (rule.minor === '*' || rule.minor === minor) && [...access].every((a) => rule.access.includes(a)));
}

describe("runc's default devices as a BPF_PROG_TYPE_CGROUP_DEVICE program", () => {
  const prog = deviceFilterProgram(RUNC_DEFAULT_DEVICE_RULES);

  it("is runc's size (64 instructions, devicefilter_test.go's BuiltInAllowList) and ends in return 0", () => {
    expect(prog).toHaveLength(64);
    expect(prog.slice(-2).map((i) => [i.code, i.imm])).toEqual([[0xb4, 0], [0x95, 0]]);
  });

  it.each([
    ['c', 'rw', 1, 3, 1], ['c', 'r', 1, 5, 1], ['c', 'rwm', 1, 9, 1], ['c', 'rw', 136, 7, 1], ['c', 'rw', 5, 2, 1], ['c', 'rw', 10, 200, 1],
    ['b', 'm', 8, 0, 1], ['c', 'm', 1, 11, 1],
    ['b', 'r', 8, 0, 0], ['b', 'rw', 254, 0, 0], ['b', 'rm', 8, 0, 0], ['c', 'r', 1, 11, 0], ['c', 'r', 1, 1, 0], ['c', 'w', 5, 1, 0], ['c', 'r', 10, 229, 0],
  ] as const)('%s %s %d:%d -> %d', (type, access, major, minor, expected) => {
    expect(run(prog, type, access, major, minor)).toBe(expected);
    expect(v1Allows(type, access, major, minor)).toBe(expected === 1);
  });

  it('decides every request as the v1 lines do', () => {
    for (const type of ['b', 'c'] as const) {
      for (const access of ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm']) {
        for (const [major, minor] of [[1, 3], [1, 4], [1, 9], [5, 0], [5, 1], [5, 2], [7, 0], [8, 1], [10, 200], [136, 0], [136, 99], [254, 0]]) {
          expect(run(prog, type, access, major, minor) === 1, `${type} ${major}:${minor} ${access}`).toBe(v1Allows(type, access, major, minor));
        }
      }
    }
  });

  it('encodes struct bpf_insn: code, src<<4|dst, off (s16), imm (s32), little-endian', () => {
    const buf = encodeProgram(prog);
    expect(buf.length).toBe(64 * 8);
    expect([...buf.subarray(0, 8)]).toEqual([0x61, 0x12, 0, 0, 0, 0, 0, 0]); // r2 = *(u32 *)(r1 + 0)
    expect([...buf.subarray(8, 16)]).toEqual([0x54, 0x02, 0, 0, 0xff, 0xff, 0, 0]); // w2 &= 0xffff
  });

  it('the v1 lines are devices.allow syntax', () => {
    expect(RUNC_DEFAULT_DEVICE_RULES.map(deviceRuleLine)).toEqual([
      'c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm',
    ]);
  });
});
