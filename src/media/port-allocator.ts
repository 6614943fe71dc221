import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/** Every even port of the range is in use by this allocator or by someone else. */
export class PortRangeExhaustedError extends Error {
  readonly code = 'ports-exhausted';

  constructor(min: number, max: number) {
    super(`no free RTP/RTCP port pair in ${min}-${max}`);
    this.name = 'PortRangeExhaustedError';
  }
}

export interface BoundPortPair {
  rtp: Socket;
  rtcp: Socket;
  /** The RTP port; RTCP is on port + 1. */
  port: number;
}

/**
 * Hands out RTP/RTCP socket pairs from a configured port range (the range a
 * firewall is opened for). RFC 3550 section 11: RTP uses an even port and
 * RTCP the next odd one, which plain-RTP peers assume when SDP carries no
 * a=rtcp line (RFC 3605).
 *
 * The search starts after the last port handed out rather than at the bottom
 * of the range, so a just-released port is not reused at once: late packets
 * of the old call then cannot reach the next one.
 */
export class PortAllocator {
  readonly #min: number;
  readonly #max: number;
  readonly #evenPorts: number[];
  readonly #inUse = new Set<number>();
  #nextIndex = 0;

  constructor(options: { min: number; max: number }) {
    const { min, max } = options;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new RangeError(`invalid port range ${min}-${max}`);
    }
    this.#min = min;
    this.#max = max;
    this.#evenPorts = [];
    for (let port = min % 2 === 0 ? min : min + 1; port + 1 <= max; port += 2) this.#evenPorts.push(port);
    if (this.#evenPorts.length === 0) throw new RangeError(`port range ${min}-${max} holds no even/odd pair`);
  }

  /** Pairs handed out and not yet released. */
  get inUse(): number {
    return this.#inUse.size;
  }

  /**
   * Binds RTP and RTCP sockets on the next free pair. A pair another program
   * holds is skipped; any other bind error (an address not on this host, say)
   * would fail for every port, so it is thrown at once.
   */
  async bindPair(host: string): Promise<BoundPortPair> {
    const type = isIPv6(host) ? 'udp6' : 'udp4';
    const count = this.#evenPorts.length;
    for (let attempt = 0; attempt < count; attempt++) {
      const index = (this.#nextIndex + attempt) % count;
      const port = this.#evenPorts[index];
      if (port === undefined || this.#inUse.has(port)) continue;
      // Reserved before the awaits, so concurrent calls never try the same pair.
      this.#inUse.add(port);
      try {
        const rtp = await bindSocket(type, host, port);
        let rtcp: Socket;
        try {
          rtcp = await bindSocket(type, host, port + 1);
        } catch (error) {
          await closeSocket(rtp);
          throw error;
        }
        this.#nextIndex = (index + 1) % count;
        return { rtp, rtcp, port };
      } catch (error) {
        this.#inUse.delete(port);
        if (!isPortTaken(error)) throw error;
      }
    }
    throw new PortRangeExhaustedError(this.#min, this.#max);
  }

  /** Makes the pair available again; its sockets must already be closed by whoever holds them. */
  release(port: number): void {
    this.#inUse.delete(port);
  }
}

function isPortTaken(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // EACCES: a privileged port, or one a security policy reserves; skipping it is right either way.
  return code === 'EADDRINUSE' || code === 'EACCES';
}

function bindSocket(type: 'udp4' | 'udp6', host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type, ipv6Only: type === 'udp6' });
    const onError = (error: Error): void => {
      socket.close();
      reject(error);
    };
    socket.once('error', onError);
    // exclusive: in a cluster worker, do not share the port with other workers.
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
