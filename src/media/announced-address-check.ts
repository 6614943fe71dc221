import { isIP } from 'node:net';
import type { Counter } from 'prom-client';
import { unmappedAddress } from '../http/client-address.js';
import type { Logger } from '../logging/logger.js';

/**
 * The IP address a client typed to reach the gateway, when it is not the
 * address the connection arrived at: the `Host` of its request is an IP
 * literal that differs from the socket's local address, so a NAT or a port
 * forward (a container's published port, a cloud VM's public IP) translated
 * it on the way. Undefined when no translation shows: Host is a name (a
 * reverse proxy, DNS), or the address the client used is ours.
 */
export function addressClientReached(hostHeader: string | undefined, localAddress: string | undefined): string | undefined {
  if (!hostHeader || !localAddress) return undefined;
  // Host is host[:port]; an IPv6 literal is bracketed (RFC 7230 section 5.4, RFC 3986 section 3.2.2).
  const host = hostHeader.startsWith('[') ? hostHeader.slice(1, hostHeader.indexOf(']')) : hostHeader.replace(/:\d*$/, '');
  if (isIP(host) === 0) return undefined;
  const local = unmappedAddress(localAddress);
  return host.toLowerCase() === local.toLowerCase() ? undefined : host;
}

/** Distinct addresses remembered (each is warned about once): a client cannot make the gateway log without end. */
const MAX_REMEMBERED = 16;

/**
 * Tells the operator, once per address, that clients reach the gateway at an
 * address its SDP and ICE candidates do not carry: the "works on the host,
 * silent in Docker" case, where calls connect and no audio flows because the
 * announced address (by default the container's own) is unreachable for the
 * parties. Fed from browser WebSocket upgrades, which carry the address the
 * browser used.
 */
export class AnnouncedAddressCheck {
  readonly #seen = new Set<string>();

  constructor(
    /** What the gateway writes into SDP and candidates. */
    private readonly announced: string,
    /** Whether media.announcedAddress set it (else it is this host's own first external address). */
    private readonly configured: boolean,
    private readonly logger: Logger,
    private readonly mismatches: Counter,
  ) {}

  /** A client reached the gateway at `reachedAt` (see addressClientReached). */
  observe(reachedAt: string): void {
    if (reachedAt === this.announced) return;
    this.mismatches.inc();
    if (this.#seen.has(reachedAt) || this.#seen.size >= MAX_REMEMBERED) return;
    this.#seen.add(reachedAt);
    const announced = this.configured ? `media.announcedAddress is ${this.announced}` : `media.announcedAddress is not set, so SDP and ICE candidates carry this host's own address ${this.announced}`;
    this.logger.warn(
      { reachedAt, announcedAddress: this.announced, announcedConfigured: this.configured },
      `clients reach this gateway at ${reachedAt} through NAT or a port forward, but ${announced}: parties that cannot reach ${this.announced} connect and hear nothing. Set media.announcedAddress (SWITCHBOARD_MEDIA__ANNOUNCED_ADDRESS) to the address clients reach`,
    );
  }
}
