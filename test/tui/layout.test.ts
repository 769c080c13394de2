// The pure layout pieces: wrapping styled text, laying out commands, and
// comparing host and container snapshots.
import { describe, expect, it } from 'vitest';
import { compareSnapshots, layoutSections, cgroupValueText } from '../../src/tui/compare.js';
import { fitColumns, layoutCodeBlock, layoutCodeLine } from '../../src/tui/markdown.js';
import { resultRows } from '../../src/tui/result.js';
import { stripAnsi, textWidth, truncate, wrapLine } from '../../src/tui/text.js';
import { CONTAINER_SNAPSHOT, HOST_SNAPSHOT } from './fixtures.js';

const BOLD = '\x1b[1m';
const UNBOLD = '\x1b[22m';

describe('text', () => {
  it('measures without escapes and counts wide characters as two columns', () => {
    expect(textWidth(`${BOLD}box${UNBOLD}`)).toBe(3);
    expect(textWidth('容器')).toBe(4);
    expect(textWidth('≠ ✓ ✗')).toBe(5);
  });

  it('wraps at spaces with a hanging indent, and re-opens a style cut by the wrap', () => {
    const rows = wrapLine(`  * a list item whose ${BOLD}bold words run over${UNBOLD} the end of the row`, 30, 4);
    expect(rows.map(stripAnsi)).toEqual(['  * a list item whose bold', '    words run over the end of', '    the row']);
    for (const row of rows) expect(textWidth(row)).toBeLessThanOrEqual(30);
    expect(rows[1].includes(BOLD)).toBe(true); // still bold after the break
    expect(rows[2].includes(BOLD)).toBe(false); // closed before the break
  });

  it('cuts with an ellipsis', () => {
    expect(truncate('abcdefgh', 5)).toBe('abcd…');
    expect(truncate('abc', 5)).toBe('abc');
  });
});

describe('code layout', () => {
  it('never splits inside quotes, and each row ends in a shell continuation', () => {
    const command = `docker run --rm -it --hostname box alpine sh -c 'echo one two three four five six seven eight'`;
    const rows = layoutCodeLine(command, 40);
    expect(rows.slice(0, -1).every((r) => r.endsWith(' \\'))).toBe(true);
    expect(rows.join('\n').replace(/ \\\n\s+/g, ' ')).toBe(command);
    expect(rows.some((r) => r.includes("'echo one two three four five six seven eight'"))).toBe(true);
  });

  it('indents a block two columns when it fits, flush when only that fits', () => {
    expect(layoutCodeBlock('ls -la', 20)[0].text).toBe('  ls -la');
    const exact = 'x'.repeat(19);
    expect(layoutCodeBlock(exact, 20)[0].text).toBe(exact);
  });

  it('shares a narrow screen out between table columns', () => {
    expect(fitColumns([10, 10], 30)).toEqual([10, 10]);
    const widths = fitColumns([8, 60, 40], 60);
    expect(widths[0]).toBe(8);
    expect(widths.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(60);
  });
});

describe('host vs container', () => {
  it('marks what differs on both sides and what only the container has on its side', () => {
    const sections = compareSnapshots(['hostname', 'namespaces', 'processes'], HOST_SNAPSHOT, CONTAINER_SNAPSHOT);
    const [hostname, namespaces, processes] = sections;
    expect(hostname.host[0]).toMatchObject({ text: 'hostname: the-host', mark: 'differs' });
    expect(hostname.container[0]).toMatchObject({ text: 'hostname: box', mark: 'differs' });
    const ns = (side: 'host' | 'container', key: string) => namespaces[side].find((r) => r.text.startsWith(key))!;
    expect(ns('container', 'uts').mark).toBe('differs');
    expect(ns('host', 'uts').mark).toBe('differs');
    expect(ns('container', 'ipc').mark).toBe('same');
    // PID 1 is another process in there; kernel threads are not listed, but counted.
    expect(processes.host[0].text).toBe('processes: 2 + 1 kernel threads');
    expect(processes.container.find((r) => r.text.includes('sleep 99'))!.mark).toBe('differs');
    expect(processes.host.some((r) => r.text.includes('kthreadd'))).toBe(false);
  });

  it('shows a user namespace: each map line, setgroups, the ids and the root\'s owner in both views', () => {
    const view = (uid_map: string, hostUid: number, uid: number, rootOwnerHost: string) => ({
      uid_map, gid_map: uid_map, setgroups: 'allow', hostUid, hostGid: hostUid, uid, gid: uid, rootOwnerHost, rootOwner: '0:0',
    });
    const [userns] = compareSnapshots(['userns'], { userns: view('0 0 4294967295', 0, 0, '0:0') }, { userns: view('0 100000 65536', 100000, 0, '100000:100000') });
    expect(userns.container.map((r) => [r.text, r.mark])).toEqual([
      ['user namespace (inside outside count)', 'same'],
      ['uid_map 0: 0 100000 65536', 'differs'],
      ['gid_map 0: 0 100000 65536', 'differs'],
      ['setgroups: allow', 'same'],
      ['ids on host: uid 100000 gid 100000', 'differs'],
      ['ids inside: uid 0 gid 0', 'same'],
      ['/ owner on host: 100000:100000', 'differs'],
      ['/ owner inside: 0:0', 'same'],
    ]);
  });

  it('marks entries only the container has, and says which probe failed', () => {
    const [interfaces] = compareSnapshots(
      ['interfaces'],
      { interfaces: [{ name: 'lo', up: true }, { name: 'eth0', up: true }] },
      { interfaces: [{ name: 'lo', up: false }, { name: 'veth-box', up: true }] },
    );
    expect(interfaces.container.map((r) => [r.text, r.mark])).toEqual([
      ['interfaces: 2', 'same'],
      ['lo down', 'differs'],
      ['veth-box UP', 'only'],
    ]);
    expect(interfaces.host.map((r) => r.mark)).toEqual(['same', 'differs', 'same']);
    const [failed] = compareSnapshots(['mounts'], { mounts: [] }, { errors: { mounts: 'open /proc/42/mountinfo: no such process' } });
    expect(failed.container[0]).toMatchObject({ text: 'mounts: open /proc/42/mountinfo: no such process', mark: 'error' });
  });

  it('shows a veth pair as its two ends, the host end on its bridge, and routes as ip route prints them', () => {
    const [interfaces, routes] = compareSnapshots(
      ['interfaces', 'routes'],
      {
        interfaces: [
          { name: 'containy0', up: true, state: 'UP', addresses: ['10.88.0.1/16'], address: '10.88.0.1/16' },
          { name: 'veth1a2b3c4', up: true, state: 'UP', addresses: [], master: 'containy0', peerIndex: 2 },
        ],
        routes: [{ destination: '10.88.0.0/16', dev: 'containy0' }],
      },
      {
        interfaces: [{ name: 'eth0', up: true, state: 'UP', addresses: ['10.88.0.2/16'], address: '10.88.0.2/16', peer: 'veth1a2b3c4@containy0', peerIndex: 7 }],
        routes: [{ destination: 'default', gateway: '10.88.0.1', dev: 'eth0' }, { destination: '10.88.0.0/16', dev: 'eth0' }],
      },
    );
    expect(interfaces.container.map((r) => r.text)).toEqual(['interfaces: 1', 'eth0 ↔ veth1a2b3c4@containy0 10.88.0.2/16 UP']);
    expect(interfaces.host.map((r) => r.text)).toEqual(['interfaces: 2', 'containy0 10.88.0.1/16 UP', 'veth1a2b3c4@containy0 UP']);
    expect(routes.container.map((r) => r.text)).toEqual(['routes: 2', 'default via 10.88.0.1 dev eth0', '10.88.0.0/16 dev eth0']);
  });

  it('lines sections up across the panes and cuts long ones with a count', () => {
    const many = { processes: Array.from({ length: 50 }, (_, i) => ({ pid: i + 1, command: `p${i + 1}` })), hostname: 'h' };
    const sections = compareSnapshots(['processes', 'hostname'], many, { processes: [{ pid: 1, command: 'sh' }], hostname: 'box' });
    const { host, container } = layoutSections(sections, 8);
    expect(host).toHaveLength(8);
    expect(container).toHaveLength(8);
    expect(host[6].text).toMatch(/… 45 more/);
    expect(host[7].text).toBe('hostname: h');
    expect(container[7].text).toBe('hostname: box');
  });

  it('keeps the rows that differ when a section is cut', () => {
    const host = { namespaces: { cgroup: 1, ipc: 2, mnt: 3, net: 4, pid: 5, uts: 6 } };
    const container = { namespaces: { ...host.namespaces, uts: 60 } };
    const { host: left, container: right } = layoutSections(compareSnapshots(['namespaces'], host, container), 4);
    expect(right.map((r) => r.text)).toEqual(['namespaces (inode)', 'cgroup 1', 'uts    60', '  … 4 more']);
    expect(left.map((r) => r.text)).toEqual(['namespaces (inode)', 'cgroup 1', 'uts    6', '  … 4 more']);
    expect(right[2].mark).toBe('differs');
  });

  it('shows cgroup values with their file names, bytes made readable', () => {
    const file = '/sys/fs/cgroup/memory/containy/box/memory.limit_in_bytes';
    expect(cgroupValueText({ label: 'memory limit', raw: '536870912', value: 536870912, file })).toBe('512 MiB (536870912)');
    expect(cgroupValueText({ label: 'processes limit', raw: 'max', value: null, file: '/sys/fs/cgroup/x/pids.max' })).toBe('max');
    const [cgroup] = compareSnapshots(['cgroup'], { cgroup: null }, {
      cgroup: {
        limits: [{ label: 'memory limit', raw: '536870912', value: 536870912, file }],
        usage: [{ label: 'memory used', raw: '1048576', value: 1048576, file: file.replace('limit_in_bytes', 'usage_in_bytes') }],
        events: [],
      },
    }, { cgroupFiles: true });
    expect(cgroup.host[0].text).toBe('cgroup: none of ours');
    expect(cgroup.container.map((r) => r.text)).toEqual([
      'cgroup: /sys/fs/cgroup/memory/containy/box',
      'memory.limit_in_bytes 512 MiB (536870912)',
      'memory.usage_in_bytes 1.0 MiB (1048576)',
    ]);
  });
});

describe('the compact cgroup pane', () => {
  const dir = '/sys/fs/cgroup/containy-learn/box';
  const v = (id: string, value: number | null, name: string) => ({ id, label: id, raw: String(value ?? 'max'), value, file: `${dir}/${name}` });
  const report = {
    limits: [v('memory.limit', 536870912, 'memory.max'), v('pids.limit', 10, 'pids.max'), v('cpu.quota', 10000, 'cpu.max'), v('cpu.period', 100000, 'cpu.max')],
    usage: [v('memory.usage', 510656512, 'memory.current'), v('pids.current', 9, 'pids.current'), v('cpu.usage', 1500000, 'cpu.stat')],
    events: [v('events.oom_kill', 1, 'memory.events'), v('events.pids_max', 3, 'pids.events'), v('events.cpu_throttled', 12, 'cpu.stat'), v('events.cpu_throttled_usec', 300000, 'cpu.stat')],
  };

  it('puts limit, usage and events on one line per controller', () => {
    const [cgroup] = compareSnapshots(['cgroup'], { cgroup: null }, { cgroup: report });
    expect(cgroup.container.map((r) => r.text)).toEqual([
      `cgroup: ${dir}`,
      'memory 487/512 MiB · oom_kill 1',
      'pids 9/10 · refused 3',
      'cpu 10% · throttled 12 (0.3 s)',
    ]);
  });

  it('says "no limit" and leaves out events that cannot count', () => {
    const open = {
      limits: [v('memory.limit', null, 'memory.max'), v('pids.limit', null, 'pids.max')],
      usage: [v('memory.usage', 3 * 1048576, 'memory.current'), v('pids.current', 2, 'pids.current')],
      events: [v('events.oom_kill', 0, 'memory.events'), v('events.pids_max', 0, 'pids.events')],
    };
    const [cgroup] = compareSnapshots(['cgroup'], { cgroup: null }, { cgroup: open });
    expect(cgroup.container.slice(1).map((r) => r.text)).toEqual(['memory 3 MiB (no limit)', 'pids 2 (no limit)']);
  });
});

describe('result rows', () => {
  it('gives a passing check one line, and the output once', () => {
    const output = Array.from({ length: 5 }, (_, i) => `[1796147622.308] :: 100 MiB was allocated (${(i + 1) * 100} MiB in total)`).join('\n');
    const rows = resultRows({
      ok: false,
      output,
      ms: 1200,
      checks: [
        { text: 'exit == 137', ok: true, actual: '137' },
        { text: 'output contains "(500 MiB in total)"', ok: true, actual: JSON.stringify(output) },
        { text: 'output contains "(700 MiB in total)"', ok: false, actual: JSON.stringify(output).slice(0, 60) },
      ],
    }, 80);
    const text = rows.map((r) => r.text);
    expect(text).toContain('✓ exit == 137   (saw: 137)');
    expect(text).toContain('✓ output contains "(500 MiB in total)"');
    expect(text.find((t) => t.startsWith('✗ output contains "(700'))).toContain('(saw:');
    expect(text.filter((t) => t.includes('(500 MiB in total)') && t.startsWith('  ['))).toHaveLength(1);
  });


  it('keeps a command’s escape sequences from reaching the terminal', () => {
    const rows = resultRows({ ok: true, checks: [], output: 'red \x1b[31mtext\x1b[0m\n', ms: 3 }, 60);
    expect(rows.map((r) => r.text).join('\n')).not.toContain('\x1b');
    expect(rows.some((r) => r.text.includes('red [31mtext[0m'))).toBe(true);
  });
});
