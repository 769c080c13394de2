// `-p/--publish [IP:]HOSTPORT:CONTAINERPORT[/tcp]`, done as docker-proxy does
// it: a userspace TCP proxy in the process that owns the container. It listens
// on the host and, for each connection, opens one to the container's address
// and copies bytes both ways, so no iptables rule is needed and the port
// answers on the host's 127.0.0.1 too.
import net from 'node:net';
import { UserError } from '../errors.js';

export interface PublishSpec {
  /** Where the host listens; docker's default is every address, 0.0.0.0. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

function port(value: string, which: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UserError(`-p ${flag}: the ${which} port '${value}' is not a number: use -p [IP:]HOSTPORT:CONTAINERPORT, e.g. -p 8080:80`);
  const n = Number(value);
  if (n < 1 || n > 65535) throw new UserError(`-p ${flag}: the ${which} port ${n} is out of range: ports go from 1 to 65535`);
  return n;
}

/** One -p value, checked; a mistake is a UserError naming the flag and the fix. */
export function parsePublish(flag: string): PublishSpec {
  const [spec, protocol, ...more] = flag.split('/');
  if (more.length > 0 || protocol === '') throw new UserError(`-p ${flag}: write the protocol once, as /tcp`);
  if (protocol !== undefined && protocol.toLowerCase() !== 'tcp') {
    if (protocol.toLowerCase() === 'udp' || protocol.toLowerCase() === 'sctp') {
      throw new UserError(`-p ${flag}: only TCP ports can be published here (the proxy copies TCP streams): drop /${protocol}`);
    }
    throw new UserError(`-p ${flag}: unknown protocol '${protocol}': only /tcp is supported`);
  }
  const parts = spec.split(':');
  if (parts.length === 1) throw new UserError(`-p ${flag}: give the host port too: -p HOSTPORT:${spec}`);
  if (parts.length > 3) throw new UserError(`-p ${flag}: use -p [IP:]HOSTPORT:CONTAINERPORT with an IPv4 address, e.g. -p 127.0.0.1:8080:80`);
  const [hostIp, hostPort, containerPort] = parts.length === 3 ? parts : ['0.0.0.0', ...parts];
  if (!net.isIPv4(hostIp)) throw new UserError(`-p ${flag}: '${hostIp}' is not an IPv4 address: use e.g. -p 127.0.0.1:8080:80`);
  if (/-/.test(hostPort) || /-/.test(containerPort)) throw new UserError(`-p ${flag}: port ranges are not supported: give one -p per port`);
  return { hostIp, hostPort: port(hostPort, 'host', flag), containerPort: port(containerPort, 'container', flag) };
}

/** Every -p of a run; the same host port twice on overlapping addresses is refused. */
export function parsePublishList(flags: string[]): PublishSpec[] {
  const specs = flags.map(parsePublish);
  for (let i = 0; i < specs.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [specs[i], specs[j]];
      if (a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0')) {
        throw new UserError(`-p ${flags[i]}: host port ${a.hostPort} is published twice: give each -p its own host port`);
      }
    }
  }
  return specs;
}

export interface PortProxy {
  readonly spec: PublishSpec;
  /** Where connections go; connections that arrive before it is known wait. */
  forwardTo(containerIp: string): void;
  /** Stop listening and drop every connection. */
  close(): Promise<void>;
}

/**
 * Listen for `spec` on the host (call this before the container is made, so a
 * taken port refuses the run with nothing created), then `forwardTo` the
 * container's address once it has one.
 */
export function listenPublished(spec: PublishSpec): Promise<PortProxy> {
  let target: string | undefined;
  const waiting: net.Socket[] = [];
  const open = new Set<net.Socket>();

  const pipe = (client: net.Socket) => {
    const upstream = net.connect({ host: target!, port: spec.containerPort, allowHalfOpen: true });
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    // Half-close passes through (a client's FIN reaches the container) as with docker-proxy.
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop); // e.g. nothing listens in the container: the client sees its connection close
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.resume();
  };

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    if (target) pipe(client);
    else waiting.push(client);
  });

  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${spec.hostPort} on ${spec.hostIp}`;
      if (err.code === 'EADDRINUSE') reject(new UserError(`port ${spec.hostPort} is already in use on ${spec.hostIp}: pick another host port for -p`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new UserError(`-p: ${spec.hostIp} is not an address of this host: use 127.0.0.1 or 0.0.0.0`));
      else if (err.code === 'EACCES') reject(new UserError(`port ${where} needs root (ports below 1024 are privileged)`));
      else reject(err);
    });
    server.listen({ host: spec.hostIp, port: spec.hostPort, exclusive: true }, () => {
      server.on('error', () => {}); // after listening, errors belong to single connections
      resolve({
        spec,
        forwardTo(containerIp: string) {
          target = containerIp;
          for (const c of waiting.splice(0)) if (!c.destroyed) pipe(c);
        },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of open) s.destroy();
            for (const c of waiting.splice(0)) c.destroy();
          }),
      });
    });
  });
}
