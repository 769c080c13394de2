// The runtime's public face: what the CLI, the lesson engine and the benchmark use.
export {
  Container, startContainer, runOnce, execInContainer, stopAll, killAllSync,
  keepStagesWarm, holdWarmStages, prewarm, NAMESPACES,
  type ContainerSpec, type ContainerExit, type NamespaceName, type Layers, type RunResult, type ExecOptions, type StartOptions,
} from './container.js';
export { probe, PROBE_KINDS, type ProbeKind, type ProbeSnapshot } from './probes.js';
export { tcpReachable, type Reachability } from './net/reachability.js';
export { cleanupLeftovers, storedContainers, removeStored, listRecords, type CleanupReport } from './records.js';
export { UserError, BugError, StartStepError, SyscallError, EXIT, describeError } from './errors.js';
export { defaultRootfs, stateRoot, PACKAGE_ROOT } from './paths.js';
export { START_STEPS, type StartStep, type BindMount, type RootMountPoint } from './start/protocol.js';
export type { StageProcess, ExitStatus, StdioMode } from './start/stage-process.js';
export type { CgroupLimits, CgroupReport, CgroupValue, ContainerCgroup, CgroupEvents } from './cgroups/types.js';
export { cgroupRoot, detectLayout, v1Hierarchies } from './cgroups/layout.js';
export {
  readHostFacts, readOverlayFact, readUsernsFacts, hostFactLines, wrap,
  type HostFacts, type UsernsFacts, type OverlayFact, type BaseFacts, type CgroupFacts,
} from './host-facts.js';
