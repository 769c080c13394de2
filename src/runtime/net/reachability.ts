// "The host reaches 10.88.0.2:8080": a TCP connect from this process (the host's
// network namespace), answered by the kernel, not by any program's output.
import net from 'node:net';

export interface Reachability {
  reachable: boolean;
  /** How long the handshake (or the refusal) took. */
  ms: number;
  /** Why not, in words: refused (nothing listens), unreachable, timed out. */
  reason?: string;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'the address answers but nothing listens on that port',
  EHOSTUNREACH: 'no host answers at that address (no route, or no reply to ARP)',
  ENETUNREACH: 'no route to that network',
  ECONNRESET: 'the connection was reset',
};

/** Whether a TCP handshake with host:port completes within `timeoutMs`; never throws. */
export function tcpReachable(host: string, port: number, timeoutMs = 2000): Promise<Reachability> {
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (r: Omit<Reachability, 'ms'>) => {
      socket.destroy();
      resolve({ ...r, ms: Math.round((performance.now() - start) * 10) / 10 });
    };
    socket.setTimeout(timeoutMs, () => done({ reachable: false, reason: `no answer within ${timeoutMs} ms` }));
    socket.once('connect', () => done({ reachable: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ reachable: false, reason: `${err.code}: ${REASONS[err.code ?? ''] ?? err.message}` }));
  });
}
