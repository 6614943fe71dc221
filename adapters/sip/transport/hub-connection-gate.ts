import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { InboundConnectionLimiter, type ConnectionLimits } from './connection-limiter.js';
import type { SipTransportCounters } from './hub-counters.js';
import { plainAddress, type ConnectionProtocol } from './sip-connection.js';
import type { ThrottledLog } from './throttled-log.js';

/**
 * Where the hub lets peers' connections in: every TCP and TLS socket as it is
 * accepted, every WebSocket upgrade at the SIP path. Each admitted socket
 * holds its place until it closes, handshakes in progress included; the
 * hub's close ends them all, so no half-open TLS handshake outlives it.
 */
export class HubConnectionGate {
  readonly #limiter: InboundConnectionLimiter;
  readonly #counters: SipTransportCounters;
  readonly #log: ThrottledLog;
  readonly #sockets = new Set<Duplex>();

  constructor(options: { limits: ConnectionLimits; counters: SipTransportCounters; log: ThrottledLog }) {
    this.#limiter = new InboundConnectionLimiter(options.limits);
    this.#counters = options.counters;
    this.#log = options.log;
  }

  get limits(): ConnectionLimits {
    return this.#limiter.limits;
  }

  /** Inbound connections holding a place. */
  get open(): number {
    return this.#limiter.open;
  }

  /** Whether an accepted socket may stay; a refused one is for the caller to close (TCP) or answer (HTTP 503). */
  admit(socket: Socket | Duplex, protocol: ConnectionProtocol, remoteAddress: string | undefined): boolean {
    const address = plainAddress(remoteAddress);
    const lease = this.#limiter.admit(address);
    if (lease === 'total' || lease === 'per-source') {
      if (lease === 'total') this.#counters.connectionsRefusedTotal++;
      else this.#counters.connectionsRefusedPerSource++;
      const { maxConnections, maxConnectionsPerSource } = this.#limiter.limits;
      this.#log.warn(
        `connection-refused-${lease}`,
        { protocol, address, open: this.#limiter.open, maxConnections, maxConnectionsPerSource },
        lease === 'total' ? 'SIP connection refused: sip.limits.maxConnections reached' : 'SIP connection refused: sip.limits.maxConnectionsPerSource reached for this source',
      );
      return false;
    }
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      lease.release();
    });
    return true;
  }

  closeAll(): void {
    for (const socket of [...this.#sockets]) socket.destroy();
  }
}
