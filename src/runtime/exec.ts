// exec: a new command inside a running container, joining its namespaces and
// its cgroup, as nsenter does. For a container of this process (Container.exec)
// or of any containy-learn process, found by its run record (the CLI's exec).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { NAMESPACES, NAMESPACE_FLAGS, commandEnv, requireRoot, type NamespaceName } from './spec.js';
import { StageProcess, type StdioMode } from './start/stage-process.js';
import type { ContainerCgroup } from './cgroups/index.js';
import * as records from './records.js';
import type { StageSecurity } from './security/compile.js';

export interface ExecOptions {
  stdio?: StdioMode;
  env?: Record<string, string>;
  cwd?: string;
  /**
   * Spawn the stage from the calling thread itself, which moves into the
   * container's namespaces for good: for a process that runs one command and
   * needs nothing of the host's namespaces afterwards (the CLI's exec). Saves
   * booting a worker thread and a second copy of koffi (~30 ms of CPU).
   */
  onThisThread?: boolean;
}

// setns order: the mount namespace last, because joining it changes what /proc/PID means.
const JOIN_ORDER: NamespaceName[] = ['cgroup', 'ipc', 'uts', 'net', 'pid', 'mnt'];

/** Join `pid`'s namespaces (those listed) and cgroup, and run `argv` there. */
export async function execInPid(
  pid: number,
  namespaces: NamespaceName[],
  cgroup: Pick<ContainerCgroup, 'join'> | undefined,
  argv: string[],
  opts: ExecOptions & { hostRoot: boolean; security?: StageSecurity },
): Promise<StageProcess> {
  if (!argv.length || !argv[0]) throw new UserError('no command given: say what to run, e.g. `-- ps`');
  requireRoot();
  const join = {
    pid,
    namespaces: JOIN_ORDER.filter((ns) => namespaces.includes(ns)).map((ns) => ({ file: ns, flag: NAMESPACE_FLAGS[ns] })),
    // A container with a user namespace is joined through the helper, that namespace first.
    userns: inOtherUserNamespace(pid) || undefined,
  };
  const stage = StageProcess.start({ stdio: opts.stdio ?? 'inherit', unshareFlags: 0, join, onThisThread: opts.onThisThread });
  try {
    // Join once Node has booted: the container may have a pids or memory limit
    // that Node's own threads and start-up would hit.
    await stage.ready;
    cgroup?.join(stage.pid);
    const env = commandEnv(opts.hostRoot, opts.env);
    await stage.go({ newMountNamespace: false, joinMountNamespace: namespaces.includes('mnt'), newCgroupNamespace: false, argv, env, cwd: opts.cwd ?? '/', security: opts.security });
    return stage;
  } catch (err) {
    await stage.destroy();
    throw err;
  }
}

function inOtherUserNamespace(pid: number): boolean {
  return fs.readlinkSync(`/proc/${pid}/ns/user`) !== fs.readlinkSync('/proc/self/ns/user');
}

/** `containy-learn exec NAME -- CMD`: join a running container started by any containy-learn process. */
export async function execInContainer(name: string, argv: string[], opts: ExecOptions = {}): Promise<StageProcess> {
  const record = records.findLive(name);
  if (!record?.pid) throw new UserError(`no running container named '${name}': start one with \`sudo containy-learn run --name ${name} ...\``);
  const namespaces = NAMESPACES.filter((ns) => {
    try {
      return fs.readlinkSync(`/proc/${record.pid}/ns/${ns}`) !== fs.readlinkSync(`/proc/self/ns/${ns}`);
    } catch {
      return false;
    }
  });
  const cgroup = record.cgroupPaths ? cgroupJoinerFor(record.cgroupPaths) : undefined;
  return execInPid(record.pid, namespaces, cgroup, argv, { ...opts, hostRoot: !namespaces.includes('mnt'), security: record.security });
}

/** Only join() is needed to exec into a container another process started. */
function cgroupJoinerFor(paths: string[]): Pick<ContainerCgroup, 'join'> {
  return {
    join(pid: number) {
      for (const p of paths) fs.writeFileSync(path.join(p, 'cgroup.procs'), String(pid));
    },
  };
}
