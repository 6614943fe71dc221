import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { clientAddress, fromTrustedProxy } from '../http/client-address.js';
import { addressClientReached } from '../media/announced-address-check.js';
import { CloseCode, type PresenceStatus } from '../protocol/messages.js';
import { BrowserSession } from './browser-session.js';
import { ConnectionLimits } from './connection-limits.js';
import { ResumeTokens } from './resume-tokens.js';
import type { SignalingContext } from './signaling-context.js';

/** WebSocket path of the browser protocol. */
export const SIGNALING_PATH = '/ws';

/**
 * Accepts browser WebSocket connections on the HTTP server's upgrade event,
 * keeps them alive with pings, and fans presence changes out to sessions
 * that asked for them.
 */
export class SignalingServer {
  readonly #wss: WebSocketServer;
  readonly #all = new Set<BrowserSession>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #limits: ConnectionLimits;
  readonly #resumeTokens = new ResumeTokens<BrowserSession>();
  #draining = false;

  constructor(
    private readonly context: Omit<SignalingContext, 'onSessionClosed' | 'onSessionLoggedIn' | 'takeCall' | 'releaseCall' | 'resumeTokens'>,
    /** `server.trustedProxies`: whose X-Forwarded-For names the client. */
    private readonly trustedProxies: readonly string[] = [],
    /** `signaling.maxConnections` when unset (from the open-file limit). */
    defaultMaxConnections = 0,
  ) {
    // Read on each connection: `signaling` limits change with a reload.
    this.#limits = new ConnectionLimits(() => ({ ...context.config, maxConnections: context.config.maxConnections ?? defaultMaxConnections }));
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: context.config.maxFrameBytes,
      // Compression costs memory per socket and SDP frames are small: not worth it.
      perMessageDeflate: false,
    });
    this.#heartbeat = setInterval(() => this.#ping(), context.config.pingIntervalMs);
    this.#heartbeat.unref();
    context.directory.on('presence', (user, status) => this.#presence(user, status));
    // A login on another node of the cluster took the name: same close as a login on this node.
    context.directory.on('evicted', (entry) => {
      const session = context.sessions.get(entry.sessionId);
      if (session?.user === entry.user) session.close(CloseCode.replaced, 'logged in elsewhere');
    });
  }

  get connectionCount(): number {
    return this.#all.size;
  }

  /** Handles an HTTP upgrade; returns false when the path is not ours. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== SIGNALING_PATH) return false;
    if (this.#draining) {
      // A draining node takes no new users: the client reconnects, and a load balancer picks another node.
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    const source = clientAddress(request, this.trustedProxies);
    const refusal = this.#limits.admit(source);
    if (refusal) {
      this.context.metrics.connectionsRefused.inc({ status: refusal.status });
      const status = refusal.status === 429 ? '429 Too Many Requests' : '503 Service Unavailable';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nRetry-After: 10\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(refusal.reason)}\r\n\r\n${refusal.reason}`);
      return true;
    }
    this.#checkReachedAddress(request);
    // A socket that dies during the handshake never becomes a session: give its place back.
    let session: BrowserSession | undefined;
    socket.once('close', () => {
      if (!session) this.#limits.released(source, true);
    });
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      session = new BrowserSession(
        ws,
        {
          ...this.context,
          resumeTokens: this.#resumeTokens,
          onSessionClosed: (closed) => this.#closed(closed),
          onSessionLoggedIn: (loggedIn) => this.#limits.loggedIn(loggedIn.source),
          takeCall: (caller) => this.#limits.takeCall(caller.source),
          releaseCall: (caller) => this.#limits.releaseCall(caller.source),
        },
        request.headers.host,
        source,
      );
      this.#all.add(session);
      this.context.metrics.connections.inc();
    });
    return true;
  }

  /**
   * Graceful shutdown, first step: refuse new connections and close idle
   * ones (1001, so clients reconnect elsewhere); connections with calls stay.
   */
  drain(): void {
    this.#draining = true;
    for (const session of [...this.#all]) {
      if (session.callCount === 0) session.close(CloseCode.goingAway, 'gateway draining');
    }
  }

  /** Closes every connection (their calls end with `connection-lost` unless ended before). */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const session of [...this.#all]) session.close(CloseCode.goingAway, 'gateway shutting down');
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  /**
   * The address the browser typed, when a NAT or port forward changed it on the
   * way (a container's published port): media must announce that one. Not
   * through a trusted proxy, whose Host header names the proxy's site.
   */
  #checkReachedAddress(request: IncomingMessage): void {
    if (fromTrustedProxy(request, this.trustedProxies)) return;
    const reached = addressClientReached(request.headers.host, request.socket.localAddress);
    if (reached) this.context.announcedAddressCheck?.observe(reached);
  }

  #closed(session: BrowserSession): void {
    if (!this.#all.delete(session)) return;
    this.context.metrics.connections.dec();
    this.#limits.released(session.source, session.user === undefined);
  }

  #ping(): void {
    for (const session of this.#all) {
      // A session that did not answer the previous ping is gone (half-open TCP, sleeping laptop).
      if (session.detached) continue;
      if (!session.alive) {
        session.connectionDead();
        continue;
      }
      session.alive = false;
      session.ping();
    }
  }

  #presence(user: string, status: PresenceStatus): void {
    for (const session of this.context.sessions.values()) {
      if (session.presenceSubscribed) session.send({ type: 'presence', full: false, users: [{ user, status }] });
    }
  }
}
