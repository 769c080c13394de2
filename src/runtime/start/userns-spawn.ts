// The `namespaces` step of a container with a user namespace: Node cannot
// unshare(CLONE_NEWUSER) or setns() into one (it is multithreaded), so the
// single-threaded helper (userns/helper.ts, helpers/nsexec.py) makes or joins
// the namespaces and execs the stage, instead of spawn.ts's unshare + spawn.
// Node itself enters nothing here, so this runs on any thread of the launcher.
import fs from 'node:fs';
import type { StdioOptions } from 'node:child_process';
import { CLONE } from '../linux.js';
import { PACKAGE_ROOT } from '../paths.js';
import { spawnInUserNamespace, spawnJoiningUserNamespace, type UsernsProcess } from '../userns/helper.js';
import { relayStage } from './spawn.js';
import type { FromWorker, StageWorkerData, ToWorker } from './protocol.js';

export function spawnStageInUserNamespace(data: StageWorkerData, post: (m: FromWorker) => void, done: () => void = () => {}): (m: ToWorker) => void {
  const io = data.stdio;
  // A lean environment, as spawn.ts gives the stage. Node loads the stage
  // through the helper's open package directory (/proc/self/fd/N/dist/...):
  // the preserve flags keep it from resolving that link back to a path root
  // inside may not search, for the main script and for every import.
  const common = {
    program: [process.execPath, '--preserve-symlinks', '--preserve-symlinks-main', data.stageScript],
    packageDir: PACKAGE_ROOT,
    env: { PATH: process.env.PATH ?? '' },
  };
  let helper: UsernsProcess;
  let mountNamespace: number | undefined;
  try {
    if (data.join) {
      // exec: the stage joins the mount namespace itself (from MOUNT_NS_FD), after Node has loaded from the host.
      const namespaces = data.join.namespaces.filter((ns) => ns.flag !== CLONE.NEWNS);
      if (namespaces.length !== data.join.namespaces.length) mountNamespace = fs.openSync(`/proc/${data.join.pid}/ns/mnt`, 'r');
      const stdio: StdioOptions = [io, io, io, 'pipe', ...(mountNamespace === undefined ? [] : [mountNamespace])];
      const joinFlags = namespaces.reduce((flags, ns) => flags | ns.flag, 0);
      helper = spawnJoiningUserNamespace({ ...common, pid: data.join.pid, joinFlags, stdio });
    } else {
      // The mount namespace is the helper's to make too: made after the user namespace, it belongs to it.
      helper = spawnInUserNamespace({ ...common, spec: data.userns!, unshareFlags: data.unshareFlags | CLONE.NEWNS, stdio: [io, io, io, 'pipe'] });
    }
  } catch (err) {
    // No python3, or a program root inside cannot reach: one sentence, the user's to fix.
    post({ type: 'failed', message: (err as Error).message, refused: true });
    done();
    return () => {};
  } finally {
    if (mountNamespace !== undefined) fs.closeSync(mountNamespace);
  }
  let failed = false;
  helper.pid.then((pid) => post({ type: 'spawned', pid }), () => {});
  helper.execd.catch((err: Error) => {
    failed = true;
    post({ type: 'failed', message: err.message, refused: true });
  });
  // The helper's exit is the stage's (it relays the status); a failure it reported comes first.
  return relayStage(helper.child, (m) => (failed && m.type === 'exit' ? undefined : post(m)), done);
}
