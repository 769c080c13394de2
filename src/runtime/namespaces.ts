// The namespaces a container may be given, by the names unshare(1) and docker
// use. Apart from the launcher, so that code which only names them (to check
// a spec before anything starts) loads none of the runtime.
export const NAMESPACES = ['pid', 'uts', 'ipc', 'net', 'mnt', 'cgroup'] as const;
export type NamespaceName = (typeof NAMESPACES)[number];
