// Parsing and planning for cgroups: no root needed, nothing touches the host.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { describeLimitEnd, formatBytes, limitsFromConfigy, parseLimitFlags, parseLimits, parseSize } from '../../src/runtime/cgroups/index.js';
import { cgroupMountsIn, hierarchiesOf } from '../../src/runtime/cgroups/layout.js';
import { parseMountinfo } from '../../src/runtime/mountinfo.js';
import { blkioWeightToIoWeight, cpuSharesToWeight, cpuWeightToShares, ioWeightToBlkioWeight } from '../../src/runtime/cgroups/limits.js';
import { v1Settings } from '../../src/runtime/cgroups/v1.js';
import { v2Settings } from '../../src/runtime/cgroups/v2.js';
import type { Setting } from '../../src/runtime/cgroups/driver.js';
import { UserError } from '../../src/runtime/errors.js';

const MiB = 1024 * 1024;

/** The first file of each setting and the value it would get, in write order. */
const writes = (settings: Setting[]) => settings.map((s) => `${s.candidates[0].file}=${s.candidates[0].value}`);

function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(125);
    return (err as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('parseSize', () => {
  it.each([
    ['512M', 512 * MiB],
    ['512m', 512 * MiB],
    ['1g', 1024 * MiB],
    ['1G', 1024 * MiB],
    ['536870912', 536870912],
    ['100k', 100 * 1024],
    ['1.5g', 1.5 * 1024 * MiB],
    ['512MiB', 512 * MiB],
    ['512MB', 512 * MiB],
    ['512 mb', 512 * MiB],
    ['10b', 10],
    ['0', 0],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['-5', '12XB', '', 'm', '1.2.3g', 'ten', '5ib', '5bb', '1e3'])('%j is refused with the field name and examples', (text) => {
    expect(userError(() => parseSize(text, '--memory'))).toBe(
      `--memory: '${text}' is not a size; use a number with an optional unit b, k, m, g, t (binary: 1k = 1024), e.g. 512m or 1g`,
    );
  });
});

describe('parseLimitFlags', () => {
  it('turns docker-named flags into limits', () => {
    expect(parseLimitFlags({ memory: '512M', memorySwap: '1g', pidsLimit: '10', cpus: '0.5', cpuShares: '512', blkioWeight: '300' })).toEqual({
      memory: 512 * MiB, memorySwap: 1024 * MiB, pids: 10, cpus: 0.5, cpuShares: 512, blkioWeight: 300,
    });
    expect(parseLimitFlags({})).toEqual({});
    expect(parseLimitFlags({ memory: '512m', memorySwap: '-1' })).toEqual({ memory: 512 * MiB, memorySwap: -1 });
  });

  const cpus = os.availableParallelism();
  it.each([
    [{ memory: '-5' }, "--memory: '-5' is not a size"],
    [{ memory: '12XB' }, "--memory: '12XB' is not a size"],
    [{ memory: '1m' }, "--memory: '1m' is too small; the minimum is 6m (6 MiB)"],
    [{ memorySwap: '1g' }, '--memory-swap: needs --memory too'],
    [{ memory: '1g', memorySwap: '512m' }, "--memory-swap: '512m' is smaller than --memory (1 GiB)"],
    [{ pidsLimit: '0' }, "--pids-limit: '0' is not valid; use a whole number from 1 to 4194304"],
    [{ pidsLimit: '-1' }, "--pids-limit: '-1' is not valid; use a whole number from 1 to 4194304"],
    [{ pidsLimit: '2.5' }, "--pids-limit: '2.5' is not valid"],
    [{ cpus: '0' }, `--cpus: '0' is not valid; use a number of CPUs from 0.01 to ${cpus} (this machine has ${cpus} CPU`],
    [{ cpus: '0.001' }, "--cpus: '0.001' is not valid"],
    [{ cpus: String(cpus + 1) }, `--cpus: '${cpus + 1}' is not valid`],
    [{ cpus: 'half' }, "--cpus: 'half' is not valid"],
    [{ cpuShares: '1' }, "--cpu-shares: '1' is not valid; use a whole number from 2 to 262144"],
    [{ cpuShares: '262145' }, "--cpu-shares: '262145' is not valid; use a whole number from 2 to 262144"],
    [{ blkioWeight: '5' }, "--blkio-weight: '5' is not valid; use a whole number from 10 to 1000"],
    [{ blkioWeight: '1001' }, "--blkio-weight: '1001' is not valid; use a whole number from 10 to 1000"],
  ])('%j is refused: %s', (flags, message) => {
    expect(userError(() => parseLimitFlags(flags))).toContain(message);
  });

  it('accepts the ends of each range', () => {
    expect(parseLimitFlags({ pidsLimit: '1', cpus: '0.01', cpuShares: '2', blkioWeight: '10', memory: '6m' })).toMatchObject({ pids: 1, cpus: 0.01, cpuShares: 2, blkioWeight: 10 });
    expect(parseLimitFlags({ pidsLimit: '4194304', cpus: String(cpus), cpuShares: '262144', blkioWeight: '1000' })).toMatchObject({ cpus });
  });
});

describe('parseLimits (the one parser; parseLimitFlags and lessons call it)', () => {
  const names = { memory: 'mem', memorySwap: 'swap', pids: 'procs', cpus: 'cores', cpuShares: 'shares', blkioWeight: 'io', swapExample: '{mem: 1G, swap: 2G}' };
  it('names each limit as the caller does, with the same ranges', () => {
    expect(parseLimits({ memory: '512M', memorySwap: '1G', pids: '10', cpus: '0.5' }, names)).toEqual({ memory: 512 * MiB, memorySwap: 1024 * MiB, pids: 10, cpus: 0.5 });
    expect(userError(() => parseLimits({ memory: '1m' }, names))).toBe("mem: '1m' is too small; the minimum is 6m (6 MiB)");
    expect(userError(() => parseLimits({ memorySwap: '1G' }, names))).toBe('swap: needs mem too (it is memory plus swap), e.g. {mem: 1G, swap: 2G}');
    expect(userError(() => parseLimits({ memory: '1G', memorySwap: '1M' }, names))).toMatch(/^swap: '1M' is smaller than mem \(1 GiB\); .* at least the mem value/);
    expect(userError(() => parseLimits({ cpuShares: '1' }, names))).toBe("shares: '1' is not valid; use a whole number from 2 to 262144");
  });

  it('bounds cpus by this machine unless told there is no bound', () => {
    const many = String(os.availableParallelism() + 1);
    expect(userError(() => parseLimits({ cpus: many }, names))).toMatch(/^cores: .* \(this machine has/);
    expect(parseLimits({ cpus: many }, names, null)).toEqual({ cpus: Number(many) });
    expect(userError(() => parseLimits({ cpus: '0.001' }, names, null))).toBe("cores: '0.001' is not valid; use a number of CPUs at least 0.01, e.g. 0.5");
  });
});

describe('conversions, as runc does them', () => {
  it('cpu.shares -> cpu.weight', () => {
    expect(cpuSharesToWeight(2)).toBe(1);
    expect(cpuSharesToWeight(1024)).toBe(39); // docker's default shares
    expect(cpuSharesToWeight(262144)).toBe(10000);
  });
  it('blkio.weight -> io.weight', () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
  });
  it('cpu.weight -> shares gives back the same weight on v2, for every weight', () => {
    for (let w = 1; w <= 10000; w++) expect(cpuSharesToWeight(cpuWeightToShares(w))).toBe(w);
  });
  it('io.weight -> the nearest blkio.weight', () => {
    expect(ioWeightToBlkioWeight(1)).toBe(10);
    expect(ioWeightToBlkioWeight(100)).toBe(20);
    expect(ioWeightToBlkioWeight(10000)).toBe(1000);
  });
});

describe('limitsFromConfigy (containy configy.json isolation.cgroups)', () => {
  it("reads containy's {type, resource, value} entries", () => {
    expect(limitsFromConfigy([
      { type: 'memory', resource: 'memory.max', value: '512M' },
      { type: 'pids', resource: 'pids.max', value: '10' },
      { type: 'cpu', resource: 'cpu.max', value: '20000 100000' },
      { type: 'cpu', resource: 'cpu.weight', value: '200' },
      { type: 'io', resource: 'io.weight', value: '500' },
    ])).toEqual({ memory: 512 * MiB, pids: 10, cpus: 0.2, cpuWeight: 200, ioWeight: 500 });
  });

  it('reads the older {type, "<resource>": value} shape', () => {
    expect(limitsFromConfigy([{ type: 'cpu', 'cpu.max': '10000 100000' }, { type: 'memory', 'memory.max': '512M' }])).toEqual({ cpus: 0.1, memory: 512 * MiB });
  });

  it('maps memory.swap.max (swap alone) to memory + swap, and "max" to no limit', () => {
    expect(limitsFromConfigy([
      { type: 'memory', resource: 'memory.swap.max', value: '256M' },
      { type: 'memory', resource: 'memory.max', value: '512M' },
    ])).toEqual({ memory: 512 * MiB, memorySwap: 768 * MiB });
    expect(limitsFromConfigy([{ type: 'memory', resource: 'memory.max', value: '1g' }, { type: 'memory', resource: 'memory.swap.max', value: 'max' }])).toEqual({ memory: 1024 * MiB, memorySwap: -1 });
    expect(limitsFromConfigy([{ type: 'memory', resource: 'memory.max', value: 'max' }, { type: 'pids', resource: 'pids.max', value: 'max' }, { type: 'cpu', resource: 'cpu.max', value: 'max 100000' }])).toEqual({});
  });

  it('keeps a cpu.max period other than 100000, and accepts numbers as values', () => {
    expect(limitsFromConfigy([{ type: 'cpu', resource: 'cpu.max', value: '25000 50000' }, { type: 'pids', resource: 'pids.max', value: 20 }])).toEqual({ cpus: 0.5, cpuPeriodUs: 50000, pids: 20 });
  });

  it.each([
    [[{ type: 'memory', resource: 'memory.max', value: '512M' }, { type: 'memory', resource: 'memory.maxx', value: '1' }],
      "isolation.cgroups[1].resource: unknown resource 'memory.maxx'; use one of memory.max, memory.swap.max, pids.max, cpu.max, cpu.weight, io.weight"],
    [[{ type: 'memoey', 'memory.max': '512M' }], "isolation.cgroups[0].type: 'memoey' does not match resource 'memory.max'; use \"memory\""],
    [[{ type: 'pids', 'pids.max': 'network' }], "isolation.cgroups[0].pids.max: 'network' is not valid; use a whole number from 1 to 4194304"],
    [[{ type: 'memory', resource: 'memory.max', value: '12XB' }], "isolation.cgroups[0].value: '12XB' is not a size"],
    [[{ type: 'pids', resource: 'pids.max', value: '0' }], "isolation.cgroups[0].value: '0' is not valid; use a whole number from 1 to 4194304"],
    [[{ type: 'cpu', resource: 'cpu.max', value: '10000 100000 3' }], 'isolation.cgroups[0].value: \'10000 100000 3\' is not valid; use "QUOTA PERIOD" in microseconds'],
    [[{ type: 'cpu', resource: 'cpu.max', value: '500 100000' }], 'isolation.cgroups[0].value: quota 500 is too small; use at least 1000 microseconds'],
    [[{ type: 'cpu', resource: 'cpu.weight', value: '0' }], "isolation.cgroups[0].value: '0' is not valid; use a whole number from 1 to 10000"],
    [[{ type: 'memory', resource: 'memory.swap.max', value: '0' }], 'isolation.cgroups[0].resource: memory.swap.max needs a memory.max entry too'],
    [[{ type: 'pids', resource: 'pids.max', value: '5' }, { type: 'pids', resource: 'pids.max', value: '6' }], "isolation.cgroups[1].resource: 'pids.max' is already set by isolation.cgroups[0]"],
    [['memory.max=512M'], 'isolation.cgroups[0]: expected an object like {"type": "memory", "resource": "memory.max", "value": "512M"}'],
    [[{ resource: 'memory.max', value: '512M' }], 'isolation.cgroups[0].type: missing'],
    [[{ type: 'memory', resource: 'memory.max' }], 'isolation.cgroups[0].value: missing'],
    [[{ type: 'memory', resource: 'memory.max', value: true }], 'isolation.cgroups[0].value: expected a string'],
    [[{ type: 'cpu' }], 'isolation.cgroups[0]: expected "resource" and "value"'],
  ])('%j is refused: %s', (entries, message) => {
    expect(userError(() => limitsFromConfigy(entries as unknown[]))).toContain(message);
  });

  it('refuses a cgroups value that is not a list', () => {
    expect(userError(() => limitsFromConfigy({ memory: '512M' } as unknown as unknown[]))).toContain('isolation.cgroups: expected a list');
  });
});

describe('what each driver writes, in order', () => {
  const limits = { memory: 512 * MiB, pids: 10, cpus: 0.2, cpuShares: 512, blkioWeight: 300 };

  it('v1: memsw lifted, then memory, then memsw = memory (no swap); period before quota', () => {
    expect(writes(v1Settings(limits))).toEqual([
      'memory.memsw.limit_in_bytes=-1',
      'memory.limit_in_bytes=536870912',
      'memory.memsw.limit_in_bytes=536870912',
      'pids.max=10',
      'cpu.cfs_period_us=100000',
      'cpu.cfs_quota_us=20000',
      'cpu.shares=512',
      'blkio.weight=300',
    ]);
    expect(v1Settings(limits).at(-1)!.candidates.map((c) => c.file)).toEqual(['blkio.weight', 'blkio.bfq.weight']);
    expect(v1Settings(limits)[2].missingNote).toMatch(/swap is not limited/);
  });

  it('v2: swap.max is swap alone, cpu.max is "quota period", weights converted', () => {
    expect(writes(v2Settings(limits))).toEqual([
      'memory.max=536870912',
      'memory.swap.max=0',
      'pids.max=10',
      'cpu.max=20000 100000',
      'cpu.weight=20',
      'io.bfq.weight=300',
    ]);
    expect(v2Settings(limits).at(-1)!.candidates).toEqual([{ file: 'io.bfq.weight', value: '300' }, { file: 'io.weight', value: '2930' }]);
  });

  it('swap: memory-swap above memory allows the difference; -1 leaves swap unlimited', () => {
    expect(writes(v2Settings({ memory: 512 * MiB, memorySwap: 768 * MiB }))).toContain(`memory.swap.max=${256 * MiB}`);
    expect(writes(v2Settings({ memory: 512 * MiB, memorySwap: -1 }))).toContain('memory.swap.max=max');
    expect(writes(v1Settings({ memory: 512 * MiB, memorySwap: 768 * MiB }))).toContain(`memory.memsw.limit_in_bytes=${768 * MiB}`);
    expect(writes(v1Settings({ memory: 512 * MiB, memorySwap: -1 }))).toEqual(['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=536870912']);
  });

  it('v2-unit weights from configy win, and map back to v1 units', () => {
    expect(writes(v2Settings({ cpuWeight: 200, cpuShares: 2, ioWeight: 5000 }))).toEqual(['cpu.weight=200', 'io.bfq.weight=500']);
    expect(writes(v1Settings({ cpuWeight: 39, ioWeight: 5000 }))).toEqual([`cpu.shares=${cpuWeightToShares(39)}`, 'blkio.weight=505']);
    expect(writes(v2Settings({ cpus: 0.5, cpuPeriodUs: 50000 }))).toEqual(['cpu.max=25000 50000']);
    expect(writes(v1Settings({ cpus: 1.5 }))).toEqual(['cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=150000']);
  });
});

describe('finding v1 hierarchies in mountinfo', () => {
  const known = new Set(['cpu', 'cpuacct', 'memory', 'pids', 'blkio', 'net_cls', 'net_prio']);
  it('maps co-mounted cpu,cpuacct to one dir, and ignores name= hierarchies and mount options', () => {
    const mountinfo = [
      '25 24 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
      '26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
      '27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd',
      '30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:14 - cgroup cgroup rw,cpu,cpuacct',
      '31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory',
      '32 25 0:29 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid shared:16 - cgroup cgroup rw,net_cls,net_prio',
      '33 25 0:30 / /sys/fs/cgroup/pids rw,nosuid shared:17 - cgroup cgroup rw,pids,clone_children',
      '40 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    ].join('\n');
    const mounts = cgroupMountsIn(parseMountinfo(mountinfo), known);
    expect(mounts.map((m) => m.fstype)).toEqual(['cgroup2', 'cgroup', 'cgroup', 'cgroup', 'cgroup', 'cgroup']);
    const h = hierarchiesOf(mounts, '/sys/fs/cgroup');
    expect(h.get('cpu')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(h.get('cpuacct')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(h.get('memory')).toBe('/sys/fs/cgroup/memory');
    expect(h.get('pids')).toBe('/sys/fs/cgroup/pids');
    expect(h.has('blkio')).toBe(false);
    expect([...h.keys()].sort()).toEqual(['cpu', 'cpuacct', 'memory', 'net_cls', 'net_prio', 'pids']);
  });
});

describe('describeLimitEnd', () => {
  const none = { oomKills: 0, pidsLimitHits: 0, throttledPeriods: 0 };
  it('says the container was OOM-killed, with the limit', () => {
    expect(describeLimitEnd({ ...none, oomKills: 1 }, { memory: 512 * MiB }, 137)).toEqual(['the container was OOM-killed (memory limit 512 MiB)']);
    expect(describeLimitEnd({ ...none, oomKills: 2 }, { memory: 1536 * MiB }, 0)).toEqual(['a process in the container was OOM-killed 2 times (memory limit 1.5 GiB)']);
  });
  it('counts refused forks', () => {
    expect(describeLimitEnd({ ...none, pidsLimitHits: 3 }, { pids: 10 }, 1)).toEqual(['fork refused 3 times: pids limit 10 reached']);
    expect(describeLimitEnd({ ...none, pidsLimitHits: 1 }, { pids: 10 }, 1)).toEqual(['fork refused once: pids limit 10 reached']);
  });
  it('reports throttling only under a CPU limit', () => {
    expect(describeLimitEnd({ ...none, throttledPeriods: 42 }, { cpus: 0.2 }, 0)).toEqual(['CPU throttled in 42 periods (limit 0.2 CPUs)']);
    expect(describeLimitEnd({ ...none, throttledPeriods: 42, throttledUsec: 3_200_000 }, { cpus: 0.2 }, 0)).toEqual(['CPU throttled in 42 periods (limit 0.2 CPUs, held back 3.2 s in all)']);
    expect(describeLimitEnd({ ...none, throttledPeriods: 42 }, {}, 0)).toEqual([]);
  });
  it('says nothing when no limit bit', () => {
    expect(describeLimitEnd(none, { memory: 512 * MiB, pids: 10 }, 0)).toEqual([]);
  });
});

describe('formatBytes', () => {
  it.each([[512 * MiB, '512 MiB'], [1024 * MiB, '1 GiB'], [1536 * MiB, '1.5 GiB'], [100 * 1024, '100 KiB'], [1000, '1000 bytes']])('%d is %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });
});
