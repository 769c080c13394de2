// Lesson work directories: one per open lesson session, under
// <state>/lessons/containy-lesson-<id>-<pid>, where a lesson builds its jail and
// writes its files. The session removes its own on reset and close; one that was
// killed leaves it behind for the next session or `containy-learn cleanup`.
import path from 'node:path';
import { stateRoot } from '../runtime/paths.js';
import type { HostFiles } from './runtime-like.js';

export function lessonsDir(): string {
  return path.join(stateRoot(), 'lessons');
}

/** The work directory of lesson `id` opened by this process. */
export function workdirFor(id: number): string {
  return path.join(lessonsDir(), `containy-lesson-${id}-${process.pid}`);
}

/** The PID of the session that owns a work directory, from its name; undefined for what is not one. */
function ownerPid(name: string): number | undefined {
  const pid = Number(/^containy-lesson-\d+-(\d+)$/.exec(name)?.[1]);
  return pid > 0 ? pid : undefined;
}

/**
 * Remove what is in lessonsDir() but belongs to no running session (its process
 * is gone, killed with -9). A directory with something still mounted in it is kept,
 * deleting nothing, and its problem returned.
 */
export function removeStaleWorkdirs(host: HostFiles): { removed: string[]; problems: string[] } {
  const removed: string[] = [];
  const problems: string[] = [];
  for (const name of host.listNames(lessonsDir())) {
    const pid = ownerPid(name);
    if (pid !== undefined && host.isAlive(pid)) continue;
    const dir = path.join(lessonsDir(), name);
    try {
      host.removeTree(dir);
      removed.push(dir);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return { removed, problems };
}
