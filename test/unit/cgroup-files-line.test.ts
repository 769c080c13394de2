// cgroup-files' lines: the number under the label's unit, the file's own text
// beside it in the file's own unit. The values are shaped as the v1 and v2
// drivers read them (src/runtime/cgroups/v1.ts, v2.ts): v1's nanosecond files
// scaled by 1e-3 to the labels' µs.
import { describe, expect, it } from 'vitest';
import { cgroupValueLine } from '../../src/lessons/actions/cgroup-files.js';
import type { CgroupValue } from '../../src/runtime/index.js';

const V1 = '/sys/fs/cgroup/cpu,cpuacct/containy/lesson5';
const V2 = '/sys/fs/cgroup/containy/lesson5';
const value = (label: string, raw: string, parsed: number | null, file: string): CgroupValue => ({ label, raw, value: parsed, file });

describe('cgroupValueLine', () => {
  it('v1 cpuacct.usage (ns) is shown in µs as its label says, with the file\'s nanoseconds named as such', () => {
    const line = cgroupValueLine(value('CPU time used (µs)', '1234567891', 1234568, `${V1}/cpuacct.usage`));
    expect(line).toBe(`CPU time used (µs): 1234568   (${V1}/cpuacct.usage: "1234567891" in ns)`);
    // Under 1 µs rounds to 0 µs, still with the file's 400 ns beside it.
    expect(cgroupValueLine(value('CPU time used (µs)', '400', 0, `${V1}/cpuacct.usage`))).toBe(
      `CPU time used (µs): 0   (${V1}/cpuacct.usage: "400" in ns)`,
    );
  });

  it('v1 cpu.stat throttled_time (ns) is shown in µs, with its line from the file in ns', () => {
    expect(cgroupValueLine(value('time throttled (µs)', 'throttled_time 5250000000', 5250000, `${V1}/cpu.stat`))).toBe(
      `time throttled (µs): 5250000   (${V1}/cpu.stat: "throttled_time 5250000000" in ns)`,
    );
  });

  it('v2 counts µs already: the value is the file\'s own number', () => {
    expect(cgroupValueLine(value('time throttled (µs)', 'throttled_usec 5250000', 5250000, `${V2}/cpu.stat`))).toBe(
      `time throttled (µs): 5250000   (${V2}/cpu.stat: "throttled_usec 5250000")`,
    );
    expect(cgroupValueLine(value('CPU time used (µs)', 'usage_usec 0', 0, `${V2}/cpu.stat`))).toBe(
      `CPU time used (µs): 0   (${V2}/cpu.stat: "usage_usec 0")`,
    );
  });

  it('a plain file is its value; one field of cpu.max shows the whole file beside it', () => {
    expect(cgroupValueLine(value('memory limit', '536870912', 536870912, `${V2}/memory.max`))).toBe(`memory limit: 536870912   (${V2}/memory.max)`);
    expect(cgroupValueLine(value('CPU period (µs)', '10000 100000', 100000, `${V2}/cpu.max`))).toBe(
      `CPU period (µs): 100000   (${V2}/cpu.max: "10000 100000")`,
    );
  });

  it('no limit reads as such, whichever way the file writes it', () => {
    expect(cgroupValueLine(value('CPU quota per period (µs)', 'max 100000', null, `${V2}/cpu.max`))).toBe(
      `CPU quota per period (µs): no limit   (${V2}/cpu.max: "max 100000")`,
    );
    expect(cgroupValueLine(value('memory limit', '9223372036854771712', null, '/sys/fs/cgroup/memory/x/memory.limit_in_bytes'))).toBe(
      'memory limit: no limit   (/sys/fs/cgroup/memory/x/memory.limit_in_bytes: "9223372036854771712")',
    );
  });

  it('a rescaled value whose unit cannot be told says it was rescaled rather than guess', () => {
    expect(cgroupValueLine(value('weight', '300', 3, '/x/weight'))).toBe('weight: 3   (/x/weight: "300", rescaled)');
  });
});
