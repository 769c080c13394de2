// Container networking: rtnetlink requests, the bridge and its leases, published
// ports, and the reachability check the lessons use.
export { RouteSocket, NetlinkError, withRouteSocket, IFNAME_MAX } from './rtnetlink.js';
export type { LinkInfo, AddressInfo, RouteInfo } from './netlink-messages.js';
export {
  setupBridgeNetwork, teardownBridgeNetwork, removeBridgeIfUnused, cleanupBridgeNetwork, hostVethName,
  hostsFileText, hostnameFileText, DEFAULT_BRIDGE, CONTAINER_INTERFACE,
  type BridgeNetworkOptions, type BridgeAttachment, type BridgeCleanupReport,
} from './bridge-network.js';
export { chooseBridgeSubnet, BRIDGE_SUBNET_CANDIDATES, type Subnet, type AddressLease } from './addresses.js';
export { parsePublish, parsePublishList, listenPublished, type PublishSpec, type PortProxy } from './publish.js';
export { tcpReachable, type Reachability } from './reachability.js';
