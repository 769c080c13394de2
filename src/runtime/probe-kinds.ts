// The probe names, apart from the probes themselves (probes.ts loads koffi for
// setns): code that only validates a probe's name, such as a loader of specs,
// can import these without loading koffi.
export type ProbeKind = 'hostname' | 'processes' | 'interfaces' | 'routes' | 'mounts' | 'namespaces' | 'ids' | 'cgroup' | 'caps' | 'seccomp' | 'nnp' | 'masks' | 'userns';
export const PROBE_KINDS: ProbeKind[] = ['hostname', 'processes', 'interfaces', 'routes', 'mounts', 'namespaces', 'ids', 'cgroup', 'caps', 'seccomp', 'nnp', 'masks', 'userns'];
