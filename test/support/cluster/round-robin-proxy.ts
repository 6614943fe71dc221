import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A load balancer in front of several gateway nodes, as a TCP proxy on loopback: each new
 * connection goes to the next backend in turn, skipping backends that refuse it (a node that
 * died), so a browser that reconnects lands on a node that is alive.
 */
export class RoundRobinProxy {
  #next = 0;
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly backends: number[],
  ) {}

  static async start(backends: number[]): Promise<RoundRobinProxy> {
    let proxy: RoundRobinProxy | undefined;
    const server = createServer((client) => proxy!.route(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    proxy = new RoundRobinProxy(server, (server.address() as { port: number }).port, backends);
    return proxy;
  }

  route(client: Socket, tried = 0): void {
    if (tried === 0) {
      this.#sockets.add(client);
      client.once('close', () => this.#sockets.delete(client));
    }
    if (tried >= this.backends.length) {
      client.destroy();
      return;
    }
    const port = this.backends[this.#next++ % this.backends.length]!;
    const upstream = createConnection({ host: '127.0.0.1', port });
    const refused = () => this.route(client, tried + 1);
    upstream.once('error', refused);
    upstream.once('connect', () => {
      upstream.off('error', refused);
      this.#sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.once('close', end);
      upstream.once('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
