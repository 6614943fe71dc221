import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TypedEmitter, type Logger } from '../../../src/index.js';
import { ConnectionPool, type TlsClientOptions } from './connection-pool.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limiter.js';
import { HubConnectionGate } from './hub-connection-gate.js';
import { emptyCounters, type SipTransportCounters } from './hub-counters.js';
import { InboundPath, type DropReason, type SipRequestRouter } from './hub-inbound.js';
import { bindListeners, closeListeners, type BoundAddress, type HubListeners, type ListenAddress, type TlsListenAddress } from './hub-listeners.js';
import { OutboundPath } from './hub-outbound.js';
import { HubWebSocketServer } from './hub-websocket-server.js';
import { HubRoutingTables, type InboundFlow, type SipSource } from './hub-routing-tables.js';
import { StreamConnection, connectionInfo, type SipConnection, type SipConnectionInfo } from './sip-connection.js';
import { SipJsTransport } from './sip-js-transport.js';
import { SipServerLocator, type SipServerLocatorOptions } from './sip-server-locator.js';
import { DEFAULT_SIP_TIMERS, transactionTimeout, type SipTimerValues } from './sip-timers.js';
import { SipTransportError } from './sip-transport-error.js';
import { SourceRateLimiter, type SourceRateLimits } from './source-rate-limiter.js';
import type { SipProtocol } from './sip-uri-target.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './stream-framer.js';
import { frameDatagram } from './datagram-framer.js';
import { ThrottledLog } from './throttled-log.js';
import { UdpRetransmitter } from './udp-retransmitter.js';

/** RFC 3261 leaves it to us; slow links still send a 64 kB message well within it. */
const DEFAULT_HEADER_TIMEOUT_MS = 10_000;

export interface WebSocketOptions {
  /** Upgrade path served (default `/sip`). */
  readonly path?: string;
  /** Port of the HTTP server, for the Via of requests sent over WebSocket flows. */
  readonly advertisedPort?: number;
  /** TLS terminators in front of the HTTP server: their X-Forwarded-For names the client for the caps. */
  readonly trustedProxies?: readonly string[];
}

export interface SipTransportHubOptions {
  /** Host (IP or name) written in our Via sent-by: where peers send responses. */
  readonly advertisedHost: string;
  readonly udp?: ListenAddress;
  readonly tcp?: ListenAddress;
  readonly tls?: TlsListenAddress;
  /** Outgoing TLS connections: certificate checks. */
  readonly tlsClient?: TlsClientOptions;
  /** SIP over WebSocket (RFC 7118) through `handleUpgrade`; flows to WebSocket servers are opened either way. */
  readonly ws?: boolean | WebSocketOptions;
  readonly logger: Logger;
  readonly timers?: Partial<SipTimerValues>;
  readonly maxMessageBytes?: number;
  /** TCP/TLS connections without traffic for this long are closed, WebSocket peers pinged (default 15 minutes). */
  readonly idleConnectionMs?: number;
  /** Caps on inbound TCP, TLS and WebSocket flows, checked on accept (defaults: 256 in all, 32 per source). */
  readonly connectionLimits?: Partial<ConnectionLimits>;
  /**
   * Bound on a TLS handshake, on an accepted connection's first message and
   * on each message a peer has begun to send (default 10 s).
   */
  readonly headerTimeoutMs?: number;
  /** Requests per second per source and from everyone (excess dropped); unset: no limit. */
  readonly requestRate?: SourceRateLimits;
  readonly connectTimeoutMs?: number;
  /** Also retransmit 2xx to INVITE on UDP (off: sip.js's SessionDialog does it). */
  readonly retransmit2xx?: boolean;
  /**
   * Send requests over 1300 bytes by TCP instead of UDP when a TCP listener
   * exists (RFC 3261 section 18.1.1, default true); turn off for UDP-only peers.
   */
  readonly largeRequestsOverTcp?: boolean;
  /**
   * RFC 3263 server location of next hops named by a domain: DNS servers, caps, cache; and how
   * long a server may send no response at all before the request goes to the next (default 5 s; 0: never).
   */
  readonly dns?: SipServerLocatorOptions & { readonly failoverAfterMs?: number };
}

export type SipTransportHubEvents = {
  connectionopen: [connection: SipConnectionInfo];
  connectionclose: [connection: SipConnectionInfo];
  messagedropped: [reason: DropReason, source: SipSource];
};

export interface SipTransportHubAddresses {
  readonly udp?: BoundAddress;
  readonly tcp?: BoundAddress;
  readonly tls?: BoundAddress;
  readonly wsPath?: string;
}

/**
 * Owns the SIP wire for every sip.js UserAgent of the gateway: sockets for
 * UDP, TCP, TLS and WebSocket, RFC 3261 section 18 (where each message goes,
 * which UserAgent gets each message that comes) and section 17's UDP
 * retransmissions, none of which sip.js does itself in Node.
 *
 * Each UserAgent gets one SipJsTransport from `createTransport`, passed in
 * with `transportConstructorFor(transport)`. Its sip.js options must match
 * what the hub writes: `viaHost` is free (the hub rewrites the Via and
 * restores it on responses), `contactParams.transport` must name the
 * transport peers should use to reach us (`udp`/`tcp`; sip.js defaults to
 * `ws`), and, because sip.js writes its Contact without a port, set
 * `userAgent.contact.uri.port` to the listener's port when it is not 5060.
 */
export class SipTransportHub extends TypedEmitter<SipTransportHubEvents> {
  readonly #listeners: HubListeners;
  readonly #pool: ConnectionPool;
  readonly #tables = new HubRoutingTables();
  readonly #retransmitter: UdpRetransmitter;
  readonly #counters = emptyCounters();
  readonly #inbound: InboundPath;
  readonly #outbound: OutboundPath;
  readonly #transports = new Set<SipJsTransport>();
  readonly #webSockets: HubWebSocketServer | undefined;
  readonly #maxMessageBytes: number;
  readonly #idleMs: number;
  readonly #headerTimeoutMs: number;
  readonly #gate: HubConnectionGate;
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #log: ThrottledLog;
  #router: SipRequestRouter | undefined;
  #defaultTransport: SipJsTransport | undefined;
  #closed = false;

  static async start(options: SipTransportHubOptions): Promise<SipTransportHub> {
    // Listeners bind before the hub exists; whatever arrives in between is dropped.
    let hub: SipTransportHub | undefined;
    const listeners = await bindListeners({ ...options, tlsHandshakeTimeoutMs: options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS }, {
      onDatagram: (datagram, address, port) => {
        if (hub) hub.#onDatagram(datagram, address, port);
      },
      onAccept: (socket, protocol) => hub !== undefined && !hub.#closed && hub.#gate.admit(socket, protocol, socket.remoteAddress),
      onStream: (socket, protocol) => {
        if (hub) hub.#acceptStream(socket, protocol);
        else socket.destroy();
      },
      onSocketError: (protocol, error) => options.logger.warn({ protocol, error: error.message }, 'SIP listener error'),
    });
    hub = new SipTransportHub(options, listeners);
    return hub;
  }

  private constructor(options: SipTransportHubOptions, listeners: HubListeners) {
    super();
    this.#listeners = listeners;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#idleMs = options.idleConnectionMs ?? 15 * 60_000;
    this.#headerTimeoutMs = options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
    const timers = { ...DEFAULT_SIP_TIMERS, ...options.timers };
    const log = new ThrottledLog(options.logger);
    this.#log = log;
    this.#gate = new HubConnectionGate({ limits: { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits }, counters: this.#counters, log });
    this.#retransmitter = new UdpRetransmitter({ timers, retransmit2xx: options.retransmit2xx ?? false });
    this.#pool = new ConnectionPool({
      maxMessageBytes: this.#maxMessageBytes,
      idleMs: this.#idleMs,
      messageTimeoutMs: this.#headerTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      tlsClient: options.tlsClient ?? {},
      onConnection: (connection) => this.#wireConnection(connection),
    });
    const ws = options.ws === true ? {} : options.ws || undefined;
    this.#webSockets =
      ws &&
      new HubWebSocketServer({
        path: ws.path ?? '/sip',
        maxMessageBytes: this.#maxMessageBytes,
        idleMs: this.#idleMs,
        gate: this.#gate,
        trustedProxies: ws.trustedProxies ?? [],
        onConnection: (connection) => this.#pool.add(connection),
      });
    const viaPorts: Partial<Record<SipProtocol, number>> = {
      UDP: options.udp?.advertisedPort ?? listeners.udp?.bound.port,
      TCP: options.tcp?.advertisedPort ?? listeners.tcp?.bound.port,
      TLS: options.tls?.advertisedPort ?? listeners.tls?.bound.port,
      WS: ws?.advertisedPort,
      WSS: ws?.advertisedPort,
    };
    const shared = { advertisedHost: options.advertisedHost, pool: this.#pool, tables: this.#tables, retransmitter: this.#retransmitter, counters: this.#counters, log };
    this.#outbound = new OutboundPath({
      ...shared,
      viaPorts,
      listeners,
      largeRequestsOverTcp: options.largeRequestsOverTcp ?? true,
      locator: new SipServerLocator(options.dns),
      transactionMs: transactionTimeout(timers),
      failoverAfterMs: options.dns?.failoverAfterMs ?? 5000,
    });
    this.#inbound = new InboundPath({
      ...shared,
      requestRate: options.requestRate && new SourceRateLimiter(options.requestRate),
      outbound: this.#outbound,
      router: () => this.#router,
      defaultTransport: () => this.#defaultTransport,
      dropped: (reason, source) => this.safeEmit('messagedropped', reason, { protocol: source.protocol, address: source.address, port: source.port }),
    });
    this.#sweeper = setInterval(() => {
      this.#tables.sweep();
      this.#outbound.sweep();
    }, 30_000);
    this.#sweeper.unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The connection caps in force (for the start-up log line). */
  get connectionLimits(): ConnectionLimits {
    return this.#gate.limits;
  }

  addresses(): SipTransportHubAddresses {
    return {
      udp: this.#listeners.udp?.bound,
      tcp: this.#listeners.tcp?.bound,
      tls: this.#listeners.tls?.bound,
      wsPath: this.#webSockets?.path,
    };
  }

  /**
   * The WebSocket transport of a client connected to us that wrote `host`, its made-up
   * `.invalid` one (RFC 7118 section 5.2), in a Via or Contact: the only way to reach it. Real
   * host names and addresses are never taken for such a client, whatever it wrote.
   */
  webSocketClientTransport(host: string): 'ws' | 'wss' | undefined {
    if (!/\.invalid$/i.test(host)) return undefined;
    if (this.#pool.find('WS', host, 0)) return 'ws';
    if (this.#pool.find('WSS', host, 0)) return 'wss';
    return undefined;
  }

  /** One transport per sip.js UserAgent; `name` appears in logs and counters. */
  createTransport(name: string): SipJsTransport {
    if (this.#closed) throw new SipTransportError('closed', 'SIP transport hub closed');
    const isClosed = () => this.#closed;
    const transport = new SipJsTransport(name, {
      get closed() {
        return isClosed();
      },
      send: (from, message) => this.#outbound.sendFromTransport(from, message),
      release: (released) => this.#release(released),
    });
    this.#transports.add(transport);
    this.#defaultTransport ??= transport;
    return transport;
  }

  /**
   * Chooses the UserAgent for a request that belongs to no known dialog or
   * transaction (an initial INVITE, OPTIONS, MESSAGE...). When it returns
   * undefined, or none is set, the default transport gets the request.
   */
  setRequestRouter(router: SipRequestRouter | undefined): void {
    this.#router = router;
  }

  /** The fallback UserAgent; the first transport created until set. */
  setDefaultTransport(transport: SipJsTransport | undefined): void {
    this.#defaultTransport = transport;
  }

  counters(): SipTransportCounters & {
    /** Inbound TCP, TLS and WebSocket connections open (TLS handshakes included). */
    readonly inboundConnections: number;
    readonly transports: Record<string, { messagesIn: number; messagesOut: number }>;
  } {
    const transports: Record<string, { messagesIn: number; messagesOut: number }> = {};
    for (const transport of this.#transports) transports[transport.name] = { ...transport.counters };
    return {
      ...this.#counters,
      received: { ...this.#counters.received },
      sent: { ...this.#counters.sent },
      ...this.#retransmitter.counters,
      inboundConnections: this.#gate.open,
      transports,
    };
  }

  /**
   * Takes an HTTP upgrade for SIP over WebSocket (RFC 7118 section 4); false
   * when the path is not ours so the caller can offer it elsewhere.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.#webSockets?.handleUpgrade(request, socket, head, this.#closed) ?? false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const transport of [...this.#transports]) transport.hubClosed();
    this.#retransmitter.close();
    this.#outbound.close();
    this.#pool.closeAll();
    this.#gate.closeAll();
    this.#webSockets?.close();
    this.#tables.clear();
    await closeListeners(this.#listeners);
  }

  #onDatagram(datagram: Buffer, address: string, port: number): void {
    if (this.#closed) return;
    const content = frameDatagram(datagram, this.#maxMessageBytes);
    const flow: InboundFlow = { protocol: 'UDP', address: address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, ''), port, connection: undefined };
    if (content.kind === 'message') this.#inbound.receive(content.message, flow);
    else if (content.kind === 'invalid') {
      this.#counters.parseErrors++;
      this.safeEmit('messagedropped', 'not-sip', { protocol: 'UDP', address: flow.address, port });
    }
  }

  #acceptStream(socket: Socket, protocol: 'TCP' | 'TLS'): void {
    this.#pool.add(
      new StreamConnection(socket, protocol, { maxMessageBytes: this.#maxMessageBytes, idleMs: this.#idleMs, messageTimeoutMs: this.#headerTimeoutMs, outbound: false }),
    );
  }

  #wireConnection(connection: SipConnection): void {
    const info = connectionInfo(connection);
    const flow: InboundFlow = { protocol: connection.protocol, address: connection.remoteAddress, port: connection.remotePort, connection };
    connection.on('message', (message) => this.#inbound.receive(message, flow));
    connection.on('framingerror', (error) => {
      this.#counters.framingErrors++;
      this.#log.debug('framing-error', { connection: info, code: error.code, detail: error.detail }, 'closing a SIP connection that cannot be framed');
      if (error.headerBlock !== undefined) this.#inbound.refuseUnframable(error.headerBlock, flow, error.detail);
    });
    connection.on('timeout', (kind) => {
      if (kind === 'idle') this.#counters.idleTimeouts++;
      else this.#counters.messageTimeouts++;
      this.#log.debug(`${kind}-timeout`, { connection: info }, kind === 'idle' ? 'closing an idle SIP connection' : 'closing a SIP connection whose message did not arrive in time');
    });
    connection.on('close', () => this.safeEmit('connectionclose', info));
    this.safeEmit('connectionopen', info);
  }

  #release(transport: SipJsTransport): void {
    this.#transports.delete(transport);
    this.#tables.forgetTransport(transport);
    if (this.#defaultTransport === transport) this.#defaultTransport = undefined;
  }
}
