import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ExpiringMap } from './expiring-map.js';
import { orderSrvRecords } from './srv-order.js';
import { parseSipUri, targetOfUri, type SipProtocol, type SipTarget } from './sip-uri-target.js';

/**
 * RFC 3263 section 4 server location for a request's next hop: NAPTR, then
 * SRV, then A/AAAA, with node's own resolver (no DNS client of ours). The
 * result is an ordered list of targets to try one after the other (section
 * 4.3). A URI with an IP address or an explicit port never gets an SRV
 * lookup; one with `transport=` never gets a NAPTR lookup (section 4.1).
 *
 * The next hop may come from a web user's dial string, so a domain the
 * caller controls must not make the gateway send hundreds of queries or try
 * hundreds of servers: the targets, the queries and the time spent are capped.
 */

/** One place a request can be sent. `address` is the IP to use (absent for WebSocket targets, dialled by name). */
export interface LocatedTarget extends SipTarget {
  readonly address: string | undefined;
  /** The name a TLS certificate must carry: the URI's domain (RFC 5922 section 4), not the SRV target's. */
  readonly serverName: string | undefined;
}

/** What the locator needs of node's `dns.promises.Resolver` (a test may hand in its own, pointed at its own server). */
export type SipDnsResolver = Pick<Resolver, 'resolveNaptr' | 'resolveSrv' | 'resolve4' | 'resolve6'>;

export interface SipServerLocatorOptions {
  /** DNS servers (`ip` or `ip:port`); empty: the system's (and then names from /etc/hosts work too). */
  readonly servers?: readonly string[];
  /** At most this many targets per next hop (default 8). */
  readonly maxTargets?: number;
  /** At most this many DNS queries per next hop (default 16). */
  readonly maxQueries?: number;
  /** The whole lookup of one next hop gives up after this long, keeping what it found (default 4000 ms). */
  readonly timeoutMs?: number;
  /** How long answers are kept; A/AAAA keep their own TTL when shorter (node returns none for NAPTR/SRV). 0: no cache. */
  readonly cacheSeconds?: number;
  /** For the SRV weighted pick (RFC 2782); Math.random unless a test fixes it. */
  readonly random?: () => number;
  /** Instead of a Resolver on `servers` (tests). */
  readonly resolver?: SipDnsResolver;
}

/** What the hub can send on: UDP needs its listener, and its family decides A or AAAA for UDP. */
export interface LocateContext {
  readonly udp: boolean;
  readonly udpFamily: 4 | 6;
}

/** RFC 3263 section 4.1: NAPTR services (RFC 3263 section 9 registry) the gateway speaks. */
const NAPTR_SERVICES: Readonly<Record<string, SipProtocol>> = { 'sip+d2u': 'UDP', 'sip+d2t': 'TCP', 'sips+d2t': 'TLS' };

const SRV_PREFIX: Readonly<Partial<Record<SipProtocol, string>>> = { UDP: '_sip._udp', TCP: '_sip._tcp', TLS: '_sips._tcp' };

const DEFAULT_PORT: Readonly<Record<SipProtocol, number>> = { UDP: 5060, TCP: 5060, TLS: 5061, WS: 80, WSS: 443 };

/** Answers that say "no such records" (cached); anything else (timeout, SERVFAIL) is not. */
const NEGATIVE = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'NODATA']);

interface CachedAnswer<T> {
  readonly records: readonly T[];
}

/** One lookup's budget: queries left and the time it must end by. */
interface Budget {
  queries: number;
  readonly deadline: number;
}

export class SipServerLocator {
  readonly #resolver: SipDnsResolver;
  readonly #systemResolver: boolean;
  readonly #maxTargets: number;
  readonly #maxQueries: number;
  readonly #timeoutMs: number;
  readonly #cacheMs: number;
  readonly #random: () => number;
  readonly #cache = new ExpiringMap<string, CachedAnswer<unknown>>({ maxEntries: 2000 });

  constructor(options: SipServerLocatorOptions = {}) {
    this.#maxTargets = options.maxTargets ?? 8;
    this.#maxQueries = options.maxQueries ?? 16;
    this.#timeoutMs = options.timeoutMs ?? 4000;
    this.#cacheMs = (options.cacheSeconds ?? 60) * 1000;
    this.#random = options.random ?? Math.random;
    const servers = options.servers ?? [];
    this.#systemResolver = !options.resolver && servers.length === 0;
    if (options.resolver) this.#resolver = options.resolver;
    else {
      // Each query is tried twice within its share of the budget; node's default (5 s, 4 tries) is far longer.
      const resolver = new Resolver({ timeout: Math.max(100, Math.floor(this.#timeoutMs / 4)), tries: 2 });
      if (servers.length > 0) resolver.setServers([...servers]);
      this.#resolver = resolver;
    }
  }

  /** The ordered targets for a next-hop URI; empty when DNS knows none. Undefined for a URI no transport of ours reaches. */
  async locate(uri: string, context: LocateContext): Promise<LocatedTarget[] | undefined> {
    const parsed = parseSipUri(uri);
    const fixed = targetOfUri(uri);
    if (!parsed || !fixed) return undefined;
    const host = fixed.host;
    const serverName = isIP(host) ? undefined : host;
    if (isIP(host) || fixed.protocol === 'WS' || fixed.protocol === 'WSS') {
      return [{ ...fixed, address: isIP(host) ? host : undefined, serverName }];
    }
    const budget: Budget = { queries: this.#maxQueries, deadline: Date.now() + this.#timeoutMs };
    // RFC 6761 section 6.3: `localhost` is this machine, never a name to ask DNS servers about.
    if (/(^|\.)localhost\.?$/i.test(host)) {
      return this.#addresses({ queries: 0, deadline: 0 }, host, fixed.protocol, fixed.port, serverName, context, []);
    }
    // Section 4.2: an explicit port means A/AAAA at once, with the transport as section 4.1 chose it.
    if (fixed.explicitPort) return this.#addresses(budget, host, fixed.protocol, fixed.port, serverName, context, []);
    const transports = parsed.transport !== undefined ? [fixed.protocol] : undefined;
    const found: LocatedTarget[] = [];
    const srvNames = transports
      ? transports.map((protocol) => ({ protocol, name: `${SRV_PREFIX[protocol]}.${host}` }))
      : await this.#naptrServices(budget, host, parsed.secure, context);
    for (const { protocol, name } of srvNames) {
      if (found.length >= this.#maxTargets) break;
      const records = orderSrvRecords(await this.#query(budget, 'SRV', name, () => this.#resolver.resolveSrv(name)), this.#random);
      for (const record of records) {
        if (found.length >= this.#maxTargets) break;
        await this.#addresses(budget, record.name, protocol, record.port, serverName, context, found);
      }
    }
    if (found.length > 0) return found;
    // Section 4.2: no SRV records: the domain's own addresses, at the transport's default port.
    const protocol = transports?.[0] ?? (parsed.secure ? 'TLS' : context.udp ? 'UDP' : 'TCP');
    return this.#addresses(budget, host, protocol, DEFAULT_PORT[protocol], serverName, context, found);
  }

  /**
   * Section 4.1: the SRV names to ask, from the domain's NAPTR records (flag
   * "s", a service we speak, by order then preference), or, without any,
   * one SRV name per transport we speak (sips: TLS only, section 4.1's last paragraph).
   */
  async #naptrServices(budget: Budget, host: string, secure: boolean, context: LocateContext): Promise<{ protocol: SipProtocol; name: string }[]> {
    const usable = (protocol: SipProtocol) => (protocol !== 'UDP' || context.udp) && (!secure || protocol === 'TLS');
    const naptr = await this.#query(budget, 'NAPTR', host, () => this.#resolver.resolveNaptr(host));
    const services = [...naptr]
      .filter((record) => record.flags.toLowerCase() === 's' && record.replacement !== '' && record.replacement !== '.')
      .map((record) => ({ record, protocol: NAPTR_SERVICES[record.service.toLowerCase()] }))
      .filter((entry): entry is { record: typeof entry.record; protocol: SipProtocol } => entry.protocol !== undefined && usable(entry.protocol))
      .sort((a, b) => a.record.order - b.record.order || a.record.preference - b.record.preference)
      .map(({ record, protocol }) => ({ protocol, name: record.replacement }));
    if (services.length > 0) return services.slice(0, 3);
    const protocols: SipProtocol[] = secure ? ['TLS'] : ['UDP', 'TCP'];
    return protocols.filter(usable).map((protocol) => ({ protocol, name: `${SRV_PREFIX[protocol]}.${host}` }));
  }

  /** Appends the addresses of `name` (A, then AAAA where the transport can use them) as targets, up to the cap. */
  async #addresses(
    budget: Budget,
    name: string,
    protocol: SipProtocol,
    port: number,
    serverName: string | undefined,
    context: LocateContext,
    into: LocatedTarget[],
  ): Promise<LocatedTarget[]> {
    const add = (address: string) => {
      if (into.length < this.#maxTargets && !into.some((t) => t.address === address && t.port === port && t.protocol === protocol)) {
        into.push({ protocol, host: name, address, port, explicitPort: true, serverName });
      }
    };
    if (isIP(name)) {
      add(name);
      return into;
    }
    const families: (4 | 6)[] = protocol === 'UDP' ? [context.udpFamily] : [4, 6];
    let any = false;
    for (const family of families) {
      const records = await this.#query(budget, family === 4 ? 'A' : 'AAAA', name, () =>
        (family === 4 ? this.#resolver.resolve4(name, { ttl: true }) : this.#resolver.resolve6(name, { ttl: true })),
      );
      for (const record of records) add(record.address);
      any ||= records.length > 0;
    }
    // With the system's resolver, names from /etc/hosts (localhost, a PBX named there) keep working as before.
    if (!any && (this.#systemResolver || /(^|\.)localhost\.?$/i.test(name))) {
      try {
        for (const entry of await lookup(name, { all: true, family: protocol === 'UDP' ? context.udpFamily : 0 })) add(entry.address);
      } catch {
        // Nothing known of the name: no target from it.
      }
    }
    return into;
  }

  /**
   * One DNS question within the budget, through the cache. Records carry
   * a `ttl` only for A/AAAA; the cache keeps an answer no longer than that.
   */
  async #query<T>(budget: Budget, type: string, name: string, ask: () => Promise<T[]>): Promise<readonly T[]> {
    const key = `${type} ${name.toLowerCase()}`;
    const cached = this.#cache.get(key) as CachedAnswer<T> | undefined;
    if (cached) return cached.records;
    const remaining = budget.deadline - Date.now();
    if (budget.queries <= 0 || remaining <= 0) return [];
    budget.queries--;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), remaining)));
    const asked = ask();
    // An answer that comes after the budget ran out is dropped, its failure too.
    asked.catch(() => {});
    try {
      const answer = await Promise.race([asked, late]);
      if (answer === 'late') return [];
      this.#remember(key, answer);
      return answer;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && NEGATIVE.has(code)) this.#remember(key, []);
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  #remember<T>(key: string, records: readonly T[]): void {
    if (this.#cacheMs <= 0) return;
    const ttls = records.map((record) => (record as { ttl?: unknown }).ttl).filter((ttl): ttl is number => typeof ttl === 'number');
    const ttlMs = Math.min(this.#cacheMs, ...ttls.map((ttl) => ttl * 1000));
    if (ttlMs > 0) this.#cache.set(key, { records }, ttlMs);
  }
}
