// The actions a lesson step can run, by name. Each is a named operation with
// checked parameters (src/lessons/params.ts); a new kind of step is a new entry
// here and a row in lessons/FORMAT.md (a test holds the two together). Actions
// reach the host only through ctx.runtime (RuntimeLike): containers, and the
// work directory's files.
import { cgroupFiles } from './actions/cgroup-files.js';
import { chroot, exec, hostProcess, hostRun, reach, run, start, stop } from './actions/containers.js';
import { copyBinary, inspect, writeFile } from './actions/files.js';
import { exportImage, loadImage, removeImage, saveImage } from './actions/images.js';
import type { ActionDef } from './actions/types.js';

export { STOP_GRACE_MS, type ActionContext, type ActionDef, type ActionOutcome, type Handle, type KeptResult } from './actions/types.js';
export type { ParamSpec } from './params.js';

export const ACTIONS: Record<string, ActionDef> = Object.fromEntries(
  [start, exec, run, stop, copyBinary, chroot, hostProcess, hostRun, writeFile, inspect, cgroupFiles, saveImage, loadImage, exportImage, removeImage, reach].map((a) => [a.name, a]),
);
