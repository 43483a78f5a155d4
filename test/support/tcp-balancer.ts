// A round-robin TCP balancer on loopback, like an ingress without session affinity: every new
// connection goes to the next live target. `route` may pin a connection by its first bytes (the
// HTTP request line), so a test can send a media upgrade to a chosen replica. A target that refuses
// the connection is skipped (the next one is tried), like a health-checked ingress.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface BalancerTarget {
  readonly host: string;
  readonly port: number;
}

export interface TcpBalancer {
  readonly port: number;
  readonly url: string;
  /** Replaces the targets (a replica stopped or a new one started). */
  setTargets(targets: readonly BalancerTarget[]): void;
  /** Picks a target index for a connection by its first bytes; undefined = round robin. */
  route: ((head: string) => number | undefined) | null;
  /** Connections sent to each target port. */
  readonly counts: Map<number, number>;
  close(): Promise<void>;
}

export async function startBalancer(initial: readonly BalancerTarget[]): Promise<TcpBalancer> {
  let targets = [...initial];
  let next = 0;
  const sockets = new Set<Socket>();
  const counts = new Map<number, number>();
  const self: { route: TcpBalancer['route'] } = { route: null };

  const pipeTo = (client: Socket, head: Buffer, order: number[], attempt = 0): void => {
    const t = targets[order[attempt] as number];
    if (!t) {
      client.destroy();
      return;
    }
    const up = connect(t.port, t.host);
    sockets.add(up);
    up.setNoDelay(true);
    let connected = false;
    up.once('connect', () => {
      connected = true;
      counts.set(t.port, (counts.get(t.port) ?? 0) + 1);
      up.write(head);
      client.pipe(up);
      up.pipe(client);
      client.resume();
    });
    up.on('error', () => {
      if (!connected && attempt + 1 < order.length && !client.destroyed) pipeTo(client, head, order, attempt + 1);
      else client.destroy();
    });
    up.on('close', () => {
      sockets.delete(up);
      if (connected) client.destroy();
    });
    client.on('close', () => up.destroy());
  };

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.setNoDelay(true);
    client.on('error', () => undefined);
    client.on('close', () => sockets.delete(client));
    client.once('data', (head: Buffer) => {
      client.pause();
      if (targets.length === 0) return client.destroy();
      const pinned = self.route?.(head.toString('latin1', 0, Math.min(head.length, 512)));
      const first = pinned !== undefined && pinned < targets.length ? pinned : next++ % targets.length;
      const order = Array.from({ length: targets.length }, (_, i) => (first + i) % targets.length);
      pipeTo(client, head, order);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    setTargets(t) {
      targets = [...t];
    },
    get route() {
      return self.route;
    },
    set route(fn) {
      self.route = fn;
    },
    counts,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
