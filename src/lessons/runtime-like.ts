// The part of the runtime the lesson engine uses. Containers, probes and the
// files of the work directories go through here and nowhere else; only the
// question what this machine offers (root, overlayfs, cgroup controllers) is
// asked apart, by ./host-support.ts. The engine takes it as a parameter so its
// unit tests can hand it a fake.
import {
  startContainer, runOnce, probe, removeStored, storedContainers, defaultRootfs, stopAll, holdWarmStages, tcpReachable,
} from '../runtime/index.js';
import { listNames, listTree, makeDirectory, removeTree, writeHostFile } from '../runtime/host-files.js';
import { isAlive } from '../runtime/pids.js';
import { copyWithLibraries } from '../rootfs/rootfs-copy.js';
import { findImage, loadImages, removeImage } from '../images/store.js';
import { saveArchiveFile } from '../images/save.js';
import { exportBundle, type ExportOptions } from '../images/export.js';
import { detectLayout } from '../runtime/cgroups/layout.js';

/** `containy-learn export`: an OCI bundle of an image, for this host's cgroup version. */
function exportImage(name: string, dir: string, opts?: ExportOptions): ReturnType<typeof exportBundle> {
  return exportBundle(name, dir, detectLayout() === 'v2', opts);
}

/** The image store, for lesson 9's steps. */
export interface ImagesLike {
  save: typeof saveArchiveFile;
  load: typeof loadImages;
  find: typeof findImage;
  remove: typeof removeImage;
  export: typeof exportImage;
}

/** What the lesson layer does with files on the host: its work directories (see ./workdirs.ts). */
export interface HostFiles {
  makeDirectory: typeof makeDirectory;
  writeHostFile: typeof writeHostFile;
  listNames: typeof listNames;
  listTree: typeof listTree;
  /** Refuses, deleting nothing, while anything is mounted below. */
  removeTree: typeof removeTree;
  /** Whether the process that made a work directory still runs. */
  isAlive: typeof isAlive;
}

export const hostFiles: HostFiles = { makeDirectory, writeHostFile, listNames, listTree, removeTree, isAlive };

export interface RuntimeLike extends HostFiles {
  startContainer: typeof startContainer;
  runOnce: typeof runOnce;
  probe: typeof probe;
  /** A TCP handshake from the host's network namespace (lesson 8's "the host reaches 10.88.0.2:8000"). */
  tcpReachable: typeof tcpReachable;
  /** Named containers' stored changes: listed, and removed when a lesson is reset. */
  storedContainers: typeof storedContainers;
  removeStored: typeof removeStored;
  defaultRootfs: typeof defaultRootfs;
  copyWithLibraries: typeof copyWithLibraries;
  /** Every container this process started, one-shots included (check-all's Ctrl-C). */
  stopAll: typeof stopAll;
  /** A stage kept warm while a session is open, so its containers start without Node's boot. */
  holdWarmStages?: typeof holdWarmStages;
  images?: ImagesLike;
}

export const realRuntime: RuntimeLike = {
  startContainer, runOnce, probe, tcpReachable, storedContainers, removeStored, defaultRootfs, copyWithLibraries, stopAll, holdWarmStages, ...hostFiles,
  images: { save: saveArchiveFile, load: loadImages, find: findImage, remove: removeImage, export: exportImage },
};
