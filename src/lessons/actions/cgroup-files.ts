// cgroup-files: the container's cgroup files, each value beside the file it
// was read from, so a learner sees where the numbers live on this host's cgroup version.
import { describeError } from '../../runtime/errors.js';
import type { CgroupValue } from '../../runtime/cgroups/types.js';
import { IN_PARAM, MAIN } from '../params.js';
import { notRunning, runningContainer } from './containers.js';
import type { ActionDef } from './types.js';

export const cgroupFiles: ActionDef = {
  name: 'cgroup-files',
  summary: 'show the container\'s cgroup files: each limit, usage and event counter with the file it is read from',
  params: { in: IN_PARAM },
  needs: () => ['root', 'cgroups'],
  uses: (p) => (p.in as string | undefined) ?? MAIN,
  async run(ctx, p) {
    const handle = (p.in as string | undefined) ?? MAIN;
    const container = runningContainer(ctx, handle);
    if (!container) return notRunning(ctx, handle);
    if (!container.cgroup) return { error: `${container.name} has no cgroup`, focus: handle };
    try {
      const report = container.cgroup.read();
      const lines: string[] = [`cgroup of ${container.name} (${container.cgroup.layout}): ${container.cgroup.paths.join(' ')}`];
      for (const [section, values] of [['limits', report.limits], ['usage', report.usage], ['events', report.events]] as const) {
        if (!values.length) continue;
        lines.push(`${section}:`);
        for (const v of values) lines.push(`  ${cgroupValueLine(v)}`);
      }
      return { output: lines.join('\n') + '\n', files: [...report.limits, ...report.usage, ...report.events].map((v) => v.file), focus: handle };
    } catch (err) {
      return { error: describeError(err), focus: handle };
    }
  },
};

const TIME_UNITS = ['ns', 'µs', 'ms', 's'];

/**
 * One cgroup value as cgroup-files shows it: the number in the label's unit, then
 * the file and, where it differs, the file's own text in the file's own unit.
 * v1's cpuacct.usage and throttled_time count nanoseconds while the label (the same
 * on v1 and v2) says µs: the reading scaled them, so the raw text must not sit next
 * to "µs" unexplained.
 */
export function cgroupValueLine(v: CgroupValue): string {
  // null is "no limit" (max, v1's -1 or its ~2^63 page-counter maximum): say so, with what the file says.
  if (v.value === null) return `${v.label}: no limit   (${v.file}: "${v.raw}")`;
  const shown = String(v.value);
  const words = v.raw.split(/\s+/);
  if (words.includes(shown)) {
    return v.raw === shown ? `${v.label}: ${shown}   (${v.file})` : `${v.label}: ${shown}   (${v.file}: "${v.raw}")`;
  }
  // The value is the file's number rescaled (ns -> µs): name the file's unit, one step below the label's.
  const labelUnit = /\((\S+)\)$/.exec(v.label)?.[1];
  const rawNumber = Number(words[words.length - 1]);
  const at = labelUnit === undefined ? -1 : TIME_UNITS.indexOf(labelUnit);
  const rawUnit = at > 0 && Math.round(rawNumber / 1000) === v.value ? TIME_UNITS[at - 1] : undefined;
  return `${v.label}: ${shown}   (${v.file}: "${v.raw}"${rawUnit ? ` in ${rawUnit}` : ', rescaled'})`;
}
