import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConnectionPool } from './connection-pool.js';
import { ExpiringMap } from './expiring-map.js';
import type { HubListeners } from './hub-listeners.js';
import type { SipTransportCounters } from './hub-counters.js';
import type { HubRoutingTables, InboundFlow } from './hub-routing-tables.js';
import { serverTransactionKey } from './server-transaction-key.js';
import type { SipConnection } from './sip-connection.js';
import type { SipJsTransport } from './sip-js-transport.js';
import { peekSipMessage, type PeekedRequest, type PeekedResponse } from './sip-message-peek.js';
import { SipTransportError } from './sip-transport-error.js';
import type { LocatedTarget, SipServerLocator } from './sip-server-locator.js';
import type { SipProtocol } from './sip-uri-target.js';
import { withClientBranch } from './sip-js-branch.js';
import { setTopViaBranch, setTopViaSentBy } from './sip-via-rewrite.js';
import { ackForRejectedInvite } from './failover-ack.js';
import { TargetFailover, type Attempt } from './target-failover.js';
import type { ThrottledLog } from './throttled-log.js';
import type { UdpRetransmitter } from './udp-retransmitter.js';

export interface OutboundContext {
  readonly advertisedHost: string;
  /** The port written in our Via per transport (bound or advertised). */
  readonly viaPorts: Partial<Record<SipProtocol, number>>;
  readonly listeners: HubListeners;
  readonly pool: ConnectionPool;
  readonly tables: HubRoutingTables;
  readonly retransmitter: UdpRetransmitter;
  readonly counters: SipTransportCounters;
  readonly log: ThrottledLog;
  /** RFC 3261 section 18.1.1 switch of requests over 1300 bytes from UDP to TCP (needs a TCP listener). */
  readonly largeRequestsOverTcp: boolean;
  /** RFC 3263: where a next-hop URI's server is, as an ordered list of targets. */
  readonly locator: SipServerLocator;
  /** How long a client transaction lives (64*T1): its CANCEL and non-2xx ACK follow it that long. */
  readonly transactionMs: number;
  /** A target that sends no response at all for this long gives way to the next one (RFC 3263 section 4.3). */
  readonly failoverAfterMs: number;
}

/**
 * RFC 3261 section 18.1.1: a request larger than 1300 bytes, when the path
 * MTU is unknown, MUST go over a congestion-controlled transport.
 */
const UDP_SIZE_LIMIT = 1300;

/** A way to put bytes towards one peer, and the Via port that goes with it. */
interface Flow {
  readonly protocol: SipProtocol;
  readonly viaPort: number | undefined;
  send(message: string): Promise<void>;
}

/**
 * The sending half of the hub (RFC 3261 section 18.1 for requests, 18.2.2
 * and RFC 3581 section 4 for responses). sip.js gives send() no destination,
 * so everything is read from the message itself.
 */
export class OutboundPath {
  readonly #context: OutboundContext;
  /**
   * sip.js branch -> the target its request went to. RFC 3261 sections 9.1
   * and 17.1.1.3: a CANCEL, and the ACK of a non-2xx final response, go where
   * their INVITE went; located anew, an SRV weighted pick could send them elsewhere.
   */
  readonly #pinned = new ExpiringMap<string, { target: LocatedTarget; wireBranch: string }>({ maxEntries: 50_000 });
  readonly #failover: TargetFailover;

  constructor(context: OutboundContext) {
    this.#context = context;
    this.#failover = new TargetFailover({
      transactionMs: context.transactionMs,
      failoverAfterMs: context.failoverAfterMs,
      onSilent: (attempt, next) => {
        this.#context.retransmitter.forgetOutgoingRequest(attempt.wireBranch, attempt.request.method);
        this.#moveOn(attempt, next, 'no response');
      },
    });
  }

  /** Forgets expired pins and attempts (the hub's periodic sweep). */
  sweep(): void {
    this.#pinned.sweep();
    this.#failover.sweep();
  }

  close(): void {
    this.#failover.clear();
    this.#pinned.clear();
  }

  async sendFromTransport(transport: SipJsTransport, message: string): Promise<void> {
    const peeked = peekSipMessage(message);
    if (!peeked) throw new SipTransportError('unroutable-message', `${transport.name} sent something that is not a SIP message`);
    if (peeked.kind === 'request') {
      await this.#sendRequest(transport, message, peeked);
    } else {
      this.#context.tables.recordDialog(peeked.callId, peeked.toTag, transport);
      await this.#sendResponseOfSipJs(message, peeked);
    }
  }

  /** sip.js answered with the branch the hub gave it (sip-js-branch.ts): the client gets its own back. */
  async #sendResponseOfSipJs(message: string, response: PeekedResponse): Promise<void> {
    const wire = withClientBranch(message, response);
    const peeked = wire === message ? response : peekSipMessage(wire);
    if (peeked?.kind !== 'response') throw new SipTransportError('unroutable-message', 'a response lost its Via');
    await this.sendResponse(wire, peeked, undefined);
  }

  /**
   * A stateless answer to a request whose top Via cannot be read (a SIP
   * version of its own, say): back to where the request came from, the only
   * address known (RFC 3581 section 4 does the same for `rport`).
   */
  async sendToSource(message: string, flow: InboundFlow): Promise<void> {
    if (flow.connection) {
      if (!flow.connection.closed) await this.#sendOn(flow.connection, message);
      return;
    }
    if (flow.protocol === 'UDP') await this.#sendUdp(message, flow.address, flow.port);
  }

  /**
   * Sends a response on the flow its request came in on (connection-oriented
   * transports), else where the top Via says: `received`/`rport` when
   * present, sent-by otherwise. `flow` overrides the transaction table, for
   * stateless answers to requests that never reached a transaction.
   */
  async sendResponse(message: string, response: PeekedResponse, flow: InboundFlow | undefined): Promise<void> {
    const via = response.topVia;
    if (!via) throw new SipTransportError('unroutable-message', 'response without a Via');
    const key = serverTransactionKey(response);
    const knownFlow = flow ?? (key ? this.#context.tables.serverTransaction(key)?.flow : undefined);
    if (knownFlow?.connection && !knownFlow.connection.closed) {
      await this.#sendOn(knownFlow.connection, message);
      return;
    }
    // A request that came in a datagram is answered in one, whatever transport its Via names:
    // a peer must not make the gateway open connections by writing TCP or TLS there.
    const protocol = knownFlow?.protocol === 'UDP' ? 'UDP' : (via.protocol as SipProtocol);
    const host = via.received ?? via.host;
    if (protocol === 'UDP') {
      const port = via.rport ?? via.port ?? 5060;
      const address = await this.#resolve(host, 'UDP');
      const send = () => this.#sendUdp(message, address, port);
      await send();
      this.#context.retransmitter.trackOutgoingResponse(response, () => void send().catch(() => {}));
      return;
    }
    if (protocol === 'TCP' || protocol === 'TLS') {
      const port = via.rport ?? via.port ?? (protocol === 'TLS' ? 5061 : 5060);
      const address = await this.#resolve(host, protocol);
      const connection = this.#context.pool.find(protocol, address, port) ?? (await this.#context.pool.connect(protocol, address, via.port ?? port));
      await this.#sendOn(connection, message);
      return;
    }
    if (protocol === 'WS' || protocol === 'WSS') {
      const connection = this.#context.pool.find(protocol, host, via.rport ?? via.port ?? 0);
      if (!connection) throw new SipTransportError('no-transport', `the WebSocket flow to ${host} is gone`);
      await this.#sendOn(connection, message);
      return;
    }
    throw new SipTransportError('no-transport', `no ${via.protocol} transport`);
  }

  async #sendRequest(transport: SipJsTransport, message: string, request: PeekedRequest): Promise<void> {
    const via = request.topVia;
    const branch = via?.branch;
    if (!via || !branch) throw new SipTransportError('unroutable-message', `${request.method} without a Via branch`);
    const sentBy = { protocol: via.protocol, host: via.host, port: via.port };
    if (request.method === 'ACK' || request.method === 'CANCEL') {
      const pin = this.#pinned.get(branch);
      if (pin) {
        // A CANCEL ends the search for another server: the caller gave up (RFC 3261 section 9.1).
        if (request.method === 'CANCEL') this.#failover.stop(branch);
        const attempt: Attempt = { transport, message, request, sentBy, targets: [pin.target], wireBranch: pin.wireBranch, wire: undefined, startedAt: Date.now() };
        await this.#sendAttempt(attempt, pin.target, pin.wireBranch);
        return;
      }
    }
    const targets = await this.#locate(request);
    const attempt: Attempt = { transport, message, request, sentBy, targets, wireBranch: branch, wire: undefined, startedAt: Date.now() };
    await this.#tryFrom(attempt, 0);
  }

  /**
   * Sends the attempt to targets[index], or, when that one cannot be reached
   * (connection refused, no route: RFC 3263 section 4.3), to the next; throws
   * the last failure when none could be. The first target gets sip.js's branch,
   * the others a branch of their own: a new transaction each (section 4.3).
   */
  async #tryFrom(attempt: Attempt, index: number): Promise<void> {
    const branch = attempt.request.topVia!.branch!;
    let failure: unknown;
    for (let i = index; i < attempt.targets.length; i++) {
      const target = attempt.targets[i]!;
      const wireBranch = i === 0 ? branch : `${branch}.t${i}`;
      try {
        await this.#sendAttempt(attempt, target, wireBranch);
      } catch (error) {
        if (!(error instanceof SipTransportError) || (error.code !== 'connect-failed' && error.code !== 'send-failed')) throw error;
        failure = error;
        this.#context.counters.failovers++;
        this.#context.log.debug('target-failed', { method: attempt.request.method, protocol: target.protocol, address: target.address ?? target.host, port: target.port, error: error.message }, 'SIP target failed, trying the next');
        continue;
      }
      attempt.wireBranch = wireBranch;
      this.#pinned.set(branch, { target, wireBranch }, this.#context.transactionMs + 5_000);
      if (attempt.targets.length > 1) this.#failover.watch(attempt, i);
      return;
    }
    throw failure;
  }

  /** Puts the attempt's request on the wire to one target, under `wireBranch`. */
  async #sendAttempt(attempt: Attempt, located: LocatedTarget, wireBranch: string): Promise<void> {
    const { request, transport } = attempt;
    const branch = request.topVia!.branch!;
    let target = located;
    const tooLargeForUdp = this.#context.largeRequestsOverTcp && Buffer.byteLength(attempt.message) > UDP_SIZE_LIMIT;
    if (target.protocol === 'UDP' && tooLargeForUdp && this.#context.listeners.tcp) target = { ...target, protocol: 'TCP' };
    const flow = await this.#flowTo(target);
    const branched = wireBranch === branch ? attempt.message : setTopViaBranch(attempt.message, wireBranch);
    const wire = branched && setTopViaSentBy(branched, { protocol: flow.protocol, host: this.#context.advertisedHost, port: flow.viaPort });
    const peeked = wire === undefined ? undefined : peekSipMessage(wire);
    if (!wire || peeked?.kind !== 'request') throw new SipTransportError('unroutable-message', `${request.method} has a malformed Via`);
    // Responses come back with our Via; sip.js must get them back with its own (see the inbound path).
    this.#context.tables.recordClientTransaction(wireBranch, { transport, sentBy: attempt.sentBy, sipJsBranch: branch });
    this.#context.tables.recordDialog(request.callId, request.fromTag, transport);
    await flow.send(wire);
    attempt.wire = wire;
    if (flow.protocol === 'UDP') this.#context.retransmitter.trackOutgoingRequest(peeked, () => void flow.send(wire).catch(() => {}));
  }

  #moveOn(attempt: Attempt, index: number, why: string, exhausted?: () => void): void {
    this.#context.counters.failovers++;
    this.#context.log.debug('target-failover', { method: attempt.request.method, why, next: index }, 'SIP target did not serve the request, trying the next');
    this.#tryFrom(attempt, index).catch(() => exhausted?.());
  }

  /**
   * A response to a request of ours, before sip.js sees it (RFC 3263 section
   * 4.3): any response ends the wait for the target that sent it; a 503
   * without Retry-After from a target with others after it is taken here
   * (and ACKed, for an INVITE) and the request goes to the next target. True
   * when the response must not reach sip.js; `deliver` hands it over later
   * when no other target could be reached after all.
   */
  takeResponse(response: PeekedResponse, message: string, deliver: () => void): boolean {
    const wireBranch = response.topVia?.branch;
    const sipJsBranch = wireBranch && this.#context.tables.clientTransactions.get(wireBranch)?.sipJsBranch;
    if (!sipJsBranch) return false;
    const verdict = this.#failover.onResponse(response, message, sipJsBranch);
    if (verdict.kind !== 'next') return verdict.kind === 'absorb';
    if (verdict.attempt.request.method === 'INVITE') this.#acknowledge(verdict.attempt, message);
    this.#moveOn(verdict.attempt, verdict.next, '503', deliver);
    return true;
  }

  /** RFC 3261 section 17.1.1.3: the ACK sip.js would have sent for the 503 it never saw, to where the INVITE went. */
  #acknowledge(attempt: Attempt, response: string): void {
    const ack = attempt.wire && ackForRejectedInvite(attempt.wire, response);
    const pin = this.#pinned.get(attempt.request.topVia!.branch!);
    const peeked = ack ? peekSipMessage(ack) : undefined;
    if (!ack || !pin || peeked?.kind !== 'request') return;
    void this.#flowTo(pin.target)
      .then((flow) => {
        const send = () => flow.send(ack).catch(() => {});
        void send();
        if (flow.protocol === 'UDP') this.#context.retransmitter.trackOutgoingRequest(peeked, () => void send());
      })
      .catch(() => {});
  }

  /** The targets of a request's next hop (RFC 3261 section 8.1.2: the first Route, else the Request-URI), in the order to try them. */
  async #locate(request: PeekedRequest): Promise<LocatedTarget[]> {
    const nextHop = request.firstRoute ?? request.requestUri;
    const udp = this.#context.listeners.udp;
    const udpFamily = udp && isIP(udp.bound.host) === 6 ? 6 : 4;
    const targets = await this.#context.locator.locate(nextHop, { udp: udp !== undefined, udpFamily });
    if (!targets) throw new SipTransportError('unroutable-message', `cannot send to ${nextHop}`);
    if (targets.length === 0) throw new SipTransportError('unresolvable-host', `no server found for ${nextHop} (RFC 3263: NAPTR, SRV, A/AAAA)`);
    return targets;
  }

  async #flowTo(target: LocatedTarget): Promise<Flow> {
    const { protocol } = target;
    const viaPort = this.#context.viaPorts[protocol];
    if (protocol === 'UDP') {
      const address = target.address ?? (await this.#resolve(target.host, protocol));
      return { protocol, viaPort, send: (message) => this.#sendUdp(message, address, target.port) };
    }
    if (protocol === 'TCP' || protocol === 'TLS') {
      const address = target.address ?? (await this.#resolve(target.host, protocol));
      const connection = await this.#context.pool.connect(protocol, address, target.port, target.serverName);
      return { protocol, viaPort: viaPort ?? connection.localPort, send: (message) => this.#sendOn(connection, message) };
    }
    // RFC 7118: a WebSocket client is reachable only over the flow it opened, found by the
    // host it wrote in its Via or Contact. A WebSocket server (a registrar or proxy, section
    // 4) gets a flow of ours when there is none; a client's made-up `.invalid` host
    // (RFC 6761 section 6.4) never resolves, so its flow being gone is final.
    const existing = this.#context.pool.find(protocol, target.host, target.port);
    if (!existing && /\.invalid$/i.test(target.host)) throw new SipTransportError('no-transport', `no WebSocket flow to ${target.host}`);
    const connection = existing ?? (await this.#context.pool.connect(protocol, target.host, target.port));
    return { protocol: connection.protocol, viaPort, send: (message) => this.#sendOn(connection, message) };
  }

  async #resolve(host: string, protocol: SipProtocol): Promise<string> {
    if (isIP(host)) return host;
    const family = this.#context.listeners.udp && isIP(this.#context.listeners.udp.bound.host) === 6 ? 6 : 4;
    try {
      // dns.lookup follows /etc/hosts (localhost) and the system resolver; no SRV/NAPTR (RFC 3263) yet.
      const { address } = await lookup(host, { family: protocol === 'UDP' ? family : 0 });
      return address;
    } catch (error) {
      throw new SipTransportError('unresolvable-host', `cannot resolve ${host}: ${(error as Error).message}`, { cause: error });
    }
  }

  async #sendOn(connection: SipConnection, message: string): Promise<void> {
    await connection.send(message);
    this.#context.counters.sent[connection.protocol]++;
  }

  #sendUdp(message: string, address: string, port: number): Promise<void> {
    const udp = this.#context.listeners.udp;
    if (!udp) return Promise.reject(new SipTransportError('no-transport', 'the hub has no UDP listener'));
    return new Promise((resolve, reject) => {
      udp.socket.send(Buffer.from(message, 'utf8'), port, address, (error) => {
        if (error) {
          this.#context.log.debug('udp-send-failed', { address, port, error: error.message }, 'UDP send failed');
          reject(new SipTransportError('send-failed', `UDP send to ${address}:${port} failed: ${error.message}`, { cause: error }));
          return;
        }
        this.#context.counters.sent.UDP++;
        resolve();
      });
    });
  }
}
