// The part of the runtime the lesson engine uses. The engine takes it as a
// parameter so its unit tests can hand it a fake; everything real goes through
// src/runtime, and the engine itself never spawns a host tool or calls libc.
import {
  startContainer, runOnce, probe, lessonsDir, removeStored, storedContainers, defaultRootfs, stopAll, holdWarmStages,
} from '../runtime/index.js';
import { copyWithLibraries } from '../rootfs/rootfs-copy.js';

export interface RuntimeLike {
  startContainer: typeof startContainer;
  runOnce: typeof runOnce;
  probe: typeof probe;
  /** Where lesson work directories live (stateRoot()/lessons). */
  lessonsDir: typeof lessonsDir;
  /** Named containers' stored changes: listed, and removed when a lesson is reset. */
  storedContainers: typeof storedContainers;
  removeStored: typeof removeStored;
  defaultRootfs: typeof defaultRootfs;
  copyWithLibraries: typeof copyWithLibraries;
  /** Every container this process started, one-shots included (check-all's Ctrl-C). */
  stopAll: typeof stopAll;
  /** A stage kept warm while a session is open, so its containers start without Node's boot. */
  holdWarmStages?: typeof holdWarmStages;
}

export const realRuntime: RuntimeLike = {
  startContainer, runOnce, probe, lessonsDir, storedContainers, removeStored, defaultRootfs, copyWithLibraries, stopAll, holdWarmStages,
};
