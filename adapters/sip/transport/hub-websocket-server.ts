import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { clientAddress } from '../../../src/index.js';
import type { HubConnectionGate } from './hub-connection-gate.js';
import { WebSocketConnection } from './sip-connection.js';

export interface HubWebSocketServerOptions {
  /** Upgrade path served. */
  readonly path: string;
  readonly maxMessageBytes: number;
  readonly idleMs: number;
  readonly gate: HubConnectionGate;
  /** Whose X-Forwarded-For names the client (server.trustedProxies), so per-source caps count clients, not the proxy. */
  readonly trustedProxies: readonly string[];
  /** Every flow set up is handed to the hub's pool. */
  readonly onConnection: (connection: WebSocketConnection) => void;
}

/**
 * The server side of SIP over WebSocket (RFC 7118 section 4) on an HTTP
 * server someone else owns: upgrades on our path with the `sip` subprotocol
 * become flows, within the hub's connection caps.
 */
export class HubWebSocketServer {
  readonly #options: HubWebSocketServerOptions;
  readonly #server: WebSocketServer;

  constructor(options: HubWebSocketServerOptions) {
    this.#options = options;
    this.#server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes,
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
  }

  get path(): string {
    return this.#options.path;
  }

  /**
   * False when the path is not ours so the caller can offer it elsewhere. A
   * client that does not offer the `sip` subprotocol gets 400 (section 4.1);
   * one over the connection caps, or any while `closed`, gets 503.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, closed: boolean): boolean {
    let path: string;
    try {
      path = new URL(request.url ?? '/', 'http://upgrade.invalid').pathname;
    } catch {
      return false;
    }
    if (path !== this.#options.path) return false;
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim().toLowerCase());
    if (closed || !offered.includes('sip')) {
      socket.end(`HTTP/1.1 ${closed ? '503 Service Unavailable' : '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return true;
    }
    const protocol = (request.socket as TLSSocket).encrypted === true ? 'WSS' : 'WS';
    const client = clientAddress(request, this.#options.trustedProxies);
    if (!this.#options.gate.admit(socket, protocol, client)) {
      // RFC 6455 section 4.1: any status but 101 fails the handshake; 503 says to come back later (RFC 9110 section 15.6.4).
      socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    this.#server.handleUpgrade(request, socket, head, (webSocket) => {
      const remote = { address: client, port: request.socket.remotePort ?? 0, localPort: request.socket.localPort ?? 0 };
      const { maxMessageBytes, idleMs } = this.#options;
      this.#options.onConnection(new WebSocketConnection(webSocket, protocol, remote, { maxMessageBytes, idleMs }));
    });
    return true;
  }

  close(): void {
    this.#server.close();
  }
}
