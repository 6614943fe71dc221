import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { TypedEmitter } from '../../../src/index.js';
import { SipTransportError } from './sip-transport-error.js';
import { SipStreamFramer, type FramingError } from './stream-framer.js';

export type ConnectionProtocol = 'TCP' | 'TLS' | 'WS' | 'WSS';

/**
 * Why the gateway gave up on a flow: a message begun and not finished in
 * time, or no first message in time (`message`), or no traffic at all for
 * the idle time (`idle`).
 */
export type ConnectionTimeout = 'message' | 'idle';

export type SipConnectionEvents = {
  message: [message: string];
  framingerror: [error: FramingError];
  timeout: [kind: ConnectionTimeout];
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

  protected timedOut(kind: ConnectionTimeout): void {
    this.safeEmit('timeout', kind);
  }
}

export interface StreamConnectionOptions {
  readonly maxMessageBytes: number;
  /** Closed after this long without a byte either way (RFC 5626 CRLF keep-alives count); 0: never. */
  readonly idleMs: number;
  /**
   * A message begun must be complete within this long, and an accepted
   * connection must bring its first message within it too (slow or silent
   * peers would otherwise hold a connection and its buffer for free); 0: no bound.
   */
  readonly messageTimeoutMs: number;
  readonly outbound: boolean;
}

/** SIP over TCP or TLS: framed by the empty line and Content-Length (RFC 3261 section 18.3). */
export class StreamConnection extends SipConnection {
  readonly #socket: Socket;
  readonly #framer: SipStreamFramer;
  readonly #messageTimeoutMs: number;
  #messageTimer: ReturnType<typeof setTimeout> | undefined;
  /** An accepted connection is on probation until its first message. */
  #awaitingFirstMessage: boolean;

  constructor(socket: Socket, protocol: 'TCP' | 'TLS', options: StreamConnectionOptions) {
    super(protocol, plainAddress(socket.remoteAddress), socket.remotePort ?? 0, socket.localPort ?? 0, options.outbound);
    this.#socket = socket;
    this.#framer = new SipStreamFramer({ maxMessageBytes: options.maxMessageBytes });
    this.#messageTimeoutMs = options.messageTimeoutMs;
    this.#awaitingFirstMessage = !options.outbound;
    // Idle connections are closed; the next request opens a new one (RFC 3261 section 18.3 leaves the policy to us).
    if (options.idleMs > 0) {
      socket.setTimeout(options.idleMs, () => {
        this.timedOut('idle');
        socket.destroy();
      });
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#disarmMessageTimer();
      this.markClosed();
    });
    if (this.#awaitingFirstMessage) this.#armMessageTimer();
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
    let pings = 0;
    let delivered = false;
    for (const item of items) {
      if (item.kind === 'ping') pings++;
      else {
        delivered = true;
        this.#awaitingFirstMessage = false;
        this.deliver(item.message);
      }
    }
    // RFC 5626 section 3.5.1: each double-CRLF ping gets a single CRLF pong (one write for a burst).
    if (pings > 0 && !this.#socket.destroyed) this.#socket.write('\r\n'.repeat(pings));
    if (error) {
      // Listeners may queue a last answer (a 400) on this tick; it leaves before the FIN, and a
      // peer that never reads it cannot keep the socket past a second.
      this.framingFailed(error);
      setImmediate(() => this.#socket.end());
      setTimeout(() => this.#socket.destroy(), 1000).unref();
      return;
    }
    if (this.closed) return;
    // The clock runs from the first byte of a message to its last (a message that ended restarts
    // it for the next one); keep-alive line endings do not start it.
    if (delivered || !this.#awaitingFirstMessage) this.#disarmMessageTimer();
    if (this.#framer.messagePending) this.#armMessageTimer();
  }

  #armMessageTimer(): void {
    if (this.#messageTimer || this.#messageTimeoutMs <= 0) return;
    this.#messageTimer = setTimeout(() => {
      this.#messageTimer = undefined;
      this.timedOut('message');
      this.#socket.destroy();
    }, this.#messageTimeoutMs);
    this.#messageTimer.unref();
  }

  #disarmMessageTimer(): void {
    if (this.#messageTimer) clearTimeout(this.#messageTimer);
    this.#messageTimer = undefined;
  }
}

export interface WebSocketConnectionOptions {
  readonly maxMessageBytes: number;
  /** Silence (no message, ping or pong) after which the peer is pinged, and after a ping unanswered this long, closed; 0: never. */
  readonly idleMs: number;
  /** We opened it as a WebSocket client (towards a registrar or proxy). */
  readonly outbound?: boolean;
}

/**
 * SIP over WebSocket (RFC 7118 section 5): one WebSocket message carries
 * exactly one SIP message. A silent flow is pinged (RFC 6455 section 5.5.2)
 * rather than dropped: a browser's WebSocket answers pings by itself while
 * its SIP stack sends no keep-alives, and its flow is the only way to reach
 * it during a long quiet call. Only a peer that answers nothing for the idle
 * time after a ping is gone, and its flow is closed.
 */
export class WebSocketConnection extends SipConnection {
  readonly #socket: WebSocket;
  readonly #idleMs: number;
  #lastTrafficAt = Date.now();
  #pinged = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: WebSocket, protocol: 'WS' | 'WSS', remote: { address: string; port: number; localPort: number }, options: WebSocketConnectionOptions) {
    super(protocol, plainAddress(remote.address), remote.port, remote.localPort, options.outbound ?? false);
    this.#socket = socket;
    this.#idleMs = options.idleMs;
    const { maxMessageBytes } = options;
    socket.on('message', (data, isBinary) => {
      this.#heard();
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
      if (Buffer.byteLength(text) > maxMessageBytes) {
        this.framingFailed({ code: 'message-too-large', detail: `${isBinary ? 'binary' : 'text'} WebSocket message over ${maxMessageBytes} bytes` });
        return;
      }
      // Keep-alive whitespace carries no message.
      if (text.trim() !== '') this.deliver(text);
    });
    socket.on('ping', () => this.#heard());
    socket.on('pong', () => this.#heard());
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      if (this.#idleTimer) clearTimeout(this.#idleTimer);
      this.markClosed();
    });
    if (this.#idleMs > 0) this.#scheduleIdleCheck(this.#idleMs);
  }

  #heard(): void {
    this.#lastTrafficAt = Date.now();
    this.#pinged = false;
  }

  /** One timer per flow, moved on when it fires rather than at every message. */
  #scheduleIdleCheck(delayMs: number): void {
    this.#idleTimer = setTimeout(() => this.#checkIdle(), delayMs);
    this.#idleTimer.unref();
  }

  #checkIdle(): void {
    const silentMs = Date.now() - this.#lastTrafficAt;
    if (silentMs < this.#idleMs) {
      this.#scheduleIdleCheck(this.#idleMs - silentMs);
      return;
    }
    if (this.#pinged) {
      this.timedOut('idle');
      this.#socket.terminate();
      return;
    }
    // The next check, one idle time on, closes the flow unless something (the pong) was heard meanwhile.
    this.#pinged = true;
    this.#lastTrafficAt = Date.now();
    try {
      this.#socket.ping();
    } catch {
      this.#socket.terminate();
      return;
    }
    this.#scheduleIdleCheck(this.#idleMs);
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
