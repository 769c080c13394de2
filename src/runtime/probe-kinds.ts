// The probe names, apart from the probes themselves: the lesson loader validates
// against them without loading koffi (the workshop's first frame waits for it).
export type ProbeKind = 'hostname' | 'processes' | 'interfaces' | 'mounts' | 'namespaces' | 'ids' | 'cgroup';
export const PROBE_KINDS: ProbeKind[] = ['hostname', 'processes', 'interfaces', 'mounts', 'namespaces', 'ids', 'cgroup'];
