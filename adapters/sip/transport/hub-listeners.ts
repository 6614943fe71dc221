import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, isIP, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { SipTransportError } from './sip-transport-error.js';

export interface ListenAddress {
  readonly host: string;
  /** 0 picks a free port; `addresses()` tells which. */
  readonly port: number;
  /** The port to write in Via when a NAT or container maps the bound one to another. */
  readonly advertisedPort?: number;
}

export interface TlsListenAddress extends ListenAddress {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

export interface HubListeners {
  readonly udp: { readonly socket: UdpSocket; readonly bound: BoundAddress } | undefined;
  readonly tcp: { readonly server: Server; readonly bound: BoundAddress } | undefined;
  readonly tls: { readonly server: Server; readonly bound: BoundAddress } | undefined;
}

export interface ListenerHandlers {
  onDatagram(datagram: Buffer, address: string, port: number): void;
  /**
   * A TCP connection was just accepted (for TLS, before the handshake): false
   * refuses it and it is closed at once, before anything is read from it.
   */
  onAccept(socket: Socket, protocol: 'TCP' | 'TLS'): boolean;
  /** A connection ready to carry SIP: the accepted socket for TCP, the socket after the handshake for TLS. */
  onStream(socket: Socket, protocol: 'TCP' | 'TLS'): void;
  onSocketError(protocol: 'UDP' | 'TCP' | 'TLS', error: Error): void;
}

/**
 * Server side of TLS on an accepted socket. A plain TCP server with the TLS
 * layer added here, rather than tls.Server, so a connection can be refused
 * when it is accepted (before the costly handshake) and a client that never
 * finishes the handshake is cut off after `handshakeTimeoutMs`
 * (tls.Server's own bound is two minutes).
 */
function startTls(raw: Socket, context: SecureContext, handshakeTimeoutMs: number, ready: (socket: TLSSocket) => void): void {
  const socket = new TLSSocket(raw, { isServer: true, secureContext: context });
  const timer = setTimeout(() => socket.destroy(), handshakeTimeoutMs);
  const fail = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  socket.once('error', fail);
  socket.once('close', () => clearTimeout(timer));
  socket.once('secure', () => {
    clearTimeout(timer);
    socket.off('error', fail);
    ready(socket);
  });
}

async function bindUdp(address: ListenAddress, handlers: ListenerHandlers): Promise<HubListeners['udp']> {
  const socket = createSocket({ type: isIP(address.host) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(address.port, address.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('message', (datagram, remote) => handlers.onDatagram(datagram, remote.address, remote.port));
  socket.on('error', (error) => handlers.onSocketError('UDP', error));
  return { socket, bound: { host: address.host, port: socket.address().port } };
}

async function listen(server: Server, address: ListenAddress): Promise<BoundAddress> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  return { host: address.host, port: typeof bound === 'object' && bound ? bound.port : address.port };
}

/** Binds every configured listener; on any failure the ones already bound are closed again. */
export async function bindListeners(
  options: { udp?: ListenAddress | undefined; tcp?: ListenAddress | undefined; tls?: TlsListenAddress | undefined; tlsHandshakeTimeoutMs: number },
  handlers: ListenerHandlers,
): Promise<HubListeners> {
  const bound: { udp?: HubListeners['udp']; tcp?: HubListeners['tcp']; tls?: HubListeners['tls'] } = {};
  const accept = (socket: Socket, protocol: 'TCP' | 'TLS'): boolean => {
    if (handlers.onAccept(socket, protocol)) return true;
    socket.destroy();
    return false;
  };
  try {
    if (options.udp) bound.udp = await bindUdp(options.udp, handlers);
    if (options.tcp) {
      const server = createTcpServer((socket) => {
        if (accept(socket, 'TCP')) handlers.onStream(socket, 'TCP');
      });
      bound.tcp = { server, bound: await listen(server, options.tcp) };
      server.on('error', (error) => handlers.onSocketError('TCP', error));
    }
    if (options.tls) {
      const context = createSecureContext({ key: options.tls.key, cert: options.tls.cert });
      const server = createTcpServer((raw) => {
        if (accept(raw, 'TLS')) startTls(raw, context, options.tlsHandshakeTimeoutMs, (socket) => handlers.onStream(socket, 'TLS'));
      });
      bound.tls = { server, bound: await listen(server, options.tls) };
      server.on('error', (error) => handlers.onSocketError('TLS', error));
    }
  } catch (error) {
    await closeListeners({ udp: bound.udp, tcp: bound.tcp, tls: bound.tls });
    throw new SipTransportError('bind-failed', `SIP listener could not bind: ${(error as Error).message}`, { cause: error });
  }
  return { udp: bound.udp, tcp: bound.tcp, tls: bound.tls };
}

export async function closeListeners(listeners: HubListeners): Promise<void> {
  const closing: Promise<void>[] = [];
  if (listeners.udp) closing.push(new Promise((resolve) => listeners.udp!.socket.close(() => resolve())));
  for (const server of [listeners.tcp?.server, listeners.tls?.server]) {
    if (server?.listening) closing.push(new Promise((resolve) => server.close(() => resolve())));
  }
  await Promise.all(closing);
}
