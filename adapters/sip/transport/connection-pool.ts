import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { StreamConnection, type ConnectionProtocol, type SipConnection } from './sip-connection.js';
import { SipTransportError } from './sip-transport-error.js';
import { openWebSocketFlow } from './websocket-client.js';

export interface TlsClientOptions {
  /** Verify the server's certificate (default true); false only for tests and closed networks. */
  readonly rejectUnauthorized?: boolean;
  readonly ca?: string | Buffer | Array<string | Buffer>;
}

export interface ConnectionPoolOptions {
  readonly maxMessageBytes: number;
  readonly idleMs: number;
  /** Bound on each message a peer has begun to send on a connection we opened. */
  readonly messageTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly tlsClient: TlsClientOptions;
  /** Every connection, accepted or opened, is announced once so its messages can be wired up. */
  readonly onConnection: (connection: SipConnection) => void;
}

/** `*` stands for "any port": WebSocket peers are known by the made-up host in their Via/Contact. */
function poolKey(protocol: ConnectionProtocol, host: string, port: number | '*'): string {
  return `${protocol}|${host.toLowerCase()}|${port}`;
}

/**
 * The open TCP, TLS and WebSocket flows, found by the peer's address.
 * RFC 3261 section 18.1.1 lets a client reuse a connection to the same
 * peer; like RFC 5923 (without its `alias` handshake), an accepted connection
 * also serves requests towards the address:port it came from. Concurrent
 * requests to a peer share one connection attempt.
 */
export class ConnectionPool {
  readonly #options: ConnectionPoolOptions;
  readonly #byKey = new Map<string, SipConnection>();
  readonly #connecting = new Map<string, Promise<SipConnection>>();
  readonly #connections = new Set<SipConnection>();
  #closed = false;

  constructor(options: ConnectionPoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#connections.size;
  }

  /** Registers a connection and indexes it by its remote address:port. */
  add(connection: SipConnection): void {
    if (this.#closed) {
      connection.close();
      return;
    }
    this.#connections.add(connection);
    this.alias(connection, connection.remoteAddress, connection.remotePort);
    connection.on('close', () => {
      this.#connections.delete(connection);
      for (const [key, value] of [...this.#byKey]) if (value === connection) this.#byKey.delete(key);
    });
    this.#options.onConnection(connection);
  }

  /** Makes `connection` the flow for requests to host:port (or any port with '*'). */
  alias(connection: SipConnection, host: string, port: number | '*'): void {
    if (!connection.closed) this.#byKey.set(poolKey(connection.protocol, host, port), connection);
  }

  /**
   * Makes an inbound WebSocket flow the way to reach `host` (RFC 7118 section
   * 5: the made-up host of its Via or Contact) unless another open flow, from
   * another address, holds it already: first come, first served, so a
   * client cannot divert the requests meant for another one.
   */
  claimWebSocketHost(connection: SipConnection, host: string): boolean {
    const holder = this.#byKey.get(poolKey(connection.protocol, host, '*'));
    if (holder && holder !== connection && !holder.closed && holder.remoteAddress !== connection.remoteAddress) return false;
    this.alias(connection, host, '*');
    return true;
  }

  find(protocol: ConnectionProtocol, host: string, port: number): SipConnection | undefined {
    const exact = this.#byKey.get(poolKey(protocol, host, port));
    if (exact && !exact.closed) return exact;
    const anyPort = protocol === 'WS' || protocol === 'WSS' ? this.#byKey.get(poolKey(protocol, host, '*')) : undefined;
    return anyPort && !anyPort.closed ? anyPort : undefined;
  }

  /**
   * An open flow to address:port, or a new TCP/TLS connection to it, or a
   * WebSocket one (RFC 7118 client: `address` is then the host as written).
   */
  async connect(protocol: ConnectionProtocol, address: string, port: number, serverName?: string): Promise<SipConnection> {
    const existing = this.find(protocol, address, port);
    if (existing) return existing;
    if (this.#closed) throw new SipTransportError('closed', 'SIP transport hub closed');
    const key = poolKey(protocol, address, port);
    let pending = this.#connecting.get(key);
    if (!pending) {
      pending = this.#open(protocol, address, port, serverName).finally(() => this.#connecting.delete(key));
      this.#connecting.set(key, pending);
    }
    return pending;
  }

  closeAll(): void {
    this.#closed = true;
    for (const connection of [...this.#connections]) connection.close();
  }

  async #open(protocol: ConnectionProtocol, address: string, port: number, serverName: string | undefined): Promise<SipConnection> {
    if (protocol === 'WS' || protocol === 'WSS') return this.#openWebSocket(protocol, address, port);
    const tls = this.#options.tlsClient;
    const socket: Socket =
      protocol === 'TLS'
        ? connectTls({ host: address, port, servername: serverName, rejectUnauthorized: tls.rejectUnauthorized ?? true, ca: tls.ca })
        : connectTcp({ host: address, port });
    const readyEvent = protocol === 'TLS' ? 'secureConnect' : 'connect';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no connection within ${this.#options.connectTimeoutMs} ms`)), this.#options.connectTimeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new SipTransportError('connect-failed', `${protocol} connection to ${address}:${port} failed: ${error.message}`, { cause: error }));
      };
      socket.once('error', fail);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve();
      });
    });
    if (this.#closed) {
      socket.destroy();
      throw new SipTransportError('closed', 'SIP transport hub closed');
    }
    const connection = new StreamConnection(socket, protocol, {
      maxMessageBytes: this.#options.maxMessageBytes,
      idleMs: this.#options.idleMs,
      messageTimeoutMs: this.#options.messageTimeoutMs,
      outbound: true,
    });
    this.add(connection);
    // Also index by the address we dialled, in case the socket reports it differently (IPv4-mapped, names).
    this.alias(connection, address, port);
    return connection;
  }

  async #openWebSocket(protocol: 'WS' | 'WSS', host: string, port: number): Promise<SipConnection> {
    const { maxMessageBytes, idleMs, connectTimeoutMs, tlsClient } = this.#options;
    const connection = await openWebSocketFlow(protocol, host, port, { maxMessageBytes, idleMs, connectTimeoutMs, tlsClient });
    if (this.#closed) {
      connection.close();
      throw new SipTransportError('closed', 'SIP transport hub closed');
    }
    this.add(connection);
    this.alias(connection, host, port);
    return connection;
  }
}
