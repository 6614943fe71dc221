import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface TcpCutProxy {
  port: number;
  /** Drops every connection in both directions (as a server crash or a network cut does); new ones still pass. */
  cut(): void;
  /** While true, new connections are reset at once (the network is still down). */
  refuse(on: boolean): void;
  /** Cuts, then turns new connections away for `ms`: a network that stays down. */
  cutFor(ms: number): void;
  close(): Promise<void>;
}

/** A loopback TCP relay to `targetPort` whose connections a test can cut. */
export async function startTcpCutProxy(targetPort: number): Promise<TcpCutProxy> {
  const sockets = new Set<Socket>();
  let refusing = false;
  let downUntil = 0;
  const server = createServer((client) => {
    if (refusing || Date.now() < downUntil) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A reset, not a FIN: neither end gets a WebSocket close frame or an orderly TCP close.
  const cut = () => {
    for (const socket of sockets) socket.resetAndDestroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    refuse(on) {
      refusing = on;
    },
    cutFor(ms: number) {
      downUntil = Date.now() + ms;
      cut();
    },
    close() {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
