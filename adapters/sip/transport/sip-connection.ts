import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { TypedEmitter } from '../../../src/index.js';
import { SipTransportError } from './sip-transport-error.js';
import { SipStreamFramer, type FramingError } from './stream-framer.js';

export type ConnectionProtocol = 'TCP' | 'TLS' | 'WS' | 'WSS';

export type SipConnectionEvents = {
  message: [message: string];
  framingerror: [error: FramingError];
  close: [];
};

/** What the hub's connection events tell about a flow. */
export interface SipConnectionInfo {
  readonly id: number;
  readonly protocol: ConnectionProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly outbound: boolean;
}

export function connectionInfo(connection: SipConnection): SipConnectionInfo {
  const { id, protocol, remoteAddress, remotePort, outbound } = connection;
  return { id, protocol, remoteAddress, remotePort, outbound };
}

let nextConnectionId = 1;

/** Strips the IPv4-mapped prefix dual-stack sockets report, so addresses compare as written in SIP. */
export function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

/**
 * One connection-oriented flow (RFC 5626 section 3: a flow is the
 * connection a message came in on; responses go back on it, RFC 3261
 * section 18.2.2). Subclasses carry SIP over a byte stream or over WebSocket.
 */
export abstract class SipConnection extends TypedEmitter<SipConnectionEvents> {
  readonly id = nextConnectionId++;
  #closed = false;

  constructor(
    readonly protocol: ConnectionProtocol,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localPort: number,
    /** We opened it (to reach a peer) rather than accepted it. */
    readonly outbound: boolean,
  ) {
    super();
  }

  get closed(): boolean {
    return this.#closed;
  }

  abstract send(message: string): Promise<void>;
  abstract close(): void;

  protected markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.safeEmit('close');
    this.removeAllListeners();
  }

  protected deliver(message: string): void {
    this.safeEmit('message', message);
  }

  protected framingFailed(error: FramingError): void {
    this.safeEmit('framingerror', error);
  }
}

/** SIP over TCP or TLS: framed by the empty line and Content-Length (RFC 3261 section 18.3). */
export class StreamConnection extends SipConnection {
  readonly #socket: Socket;
  readonly #framer: SipStreamFramer;

  constructor(socket: Socket, protocol: 'TCP' | 'TLS', options: { maxMessageBytes: number; idleMs: number; outbound: boolean }) {
    super(protocol, plainAddress(socket.remoteAddress), socket.remotePort ?? 0, socket.localPort ?? 0, options.outbound);
    this.#socket = socket;
    this.#framer = new SipStreamFramer({ maxMessageBytes: options.maxMessageBytes });
    // Idle connections are closed; the next request opens a new one (RFC 3261 section 18.3 leaves the policy to us).
    if (options.idleMs > 0) socket.setTimeout(options.idleMs, () => socket.destroy());
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.markClosed());
  }

  send(message: string): Promise<void> {
    if (this.closed || this.#socket.destroyed) {
      return Promise.reject(new SipTransportError('send-failed', `${this.protocol} connection to ${this.remoteAddress}:${this.remotePort} is closed`));
    }
    return new Promise((resolve, reject) => {
      this.#socket.write(message, 'utf8', (error) =>
        error ? reject(new SipTransportError('send-failed', `${this.protocol} write failed: ${error.message}`, { cause: error })) : resolve(),
      );
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    const { items, error } = this.#framer.push(chunk);
    for (const item of items) {
      // RFC 5626 section 3.5.1: answer a double-CRLF ping with a single CRLF pong.
      if (item.kind === 'ping') this.#socket.write('\r\n');
      else this.deliver(item.message);
    }
    if (error) {
      this.framingFailed(error);
      this.#socket.destroy();
    }
  }
}

/** SIP over WebSocket (RFC 7118 section 5): one WebSocket message carries exactly one SIP message. */
export class WebSocketConnection extends SipConnection {
  readonly #socket: WebSocket;

  constructor(
    socket: WebSocket,
    protocol: 'WS' | 'WSS',
    remote: { address: string; port: number; localPort: number },
    maxMessageBytes: number,
    /** We opened it as a WebSocket client (towards a registrar or proxy). */
    outbound = false,
  ) {
    super(protocol, plainAddress(remote.address), remote.port, remote.localPort, outbound);
    this.#socket = socket;
    socket.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
      if (Buffer.byteLength(text) > maxMessageBytes) {
        this.framingFailed({ code: 'message-too-large', detail: `${isBinary ? 'binary' : 'text'} WebSocket message over ${maxMessageBytes} bytes` });
        return;
      }
      // Keep-alive whitespace carries no message.
      if (text.trim() !== '') this.deliver(text);
    });
    socket.on('error', () => socket.terminate());
    socket.on('close', () => this.markClosed());
  }

  send(message: string): Promise<void> {
    if (this.closed || this.#socket.readyState !== this.#socket.OPEN) {
      return Promise.reject(new SipTransportError('send-failed', `WebSocket flow with ${this.remoteAddress}:${this.remotePort} is closed`));
    }
    return new Promise((resolve, reject) => {
      this.#socket.send(message, (error) =>
        error ? reject(new SipTransportError('send-failed', `WebSocket send failed: ${error.message}`, { cause: error })) : resolve(),
      );
    });
  }

  close(): void {
    this.#socket.close(1000);
    // A peer that never answers the closing handshake is cut off.
    setTimeout(() => this.#socket.terminate(), 2000).unref();
  }
}
