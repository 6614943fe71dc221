import type { ConnectionPool } from './connection-pool.js';
import type { SipTransportCounters } from './hub-counters.js';
import type { OutboundPath } from './hub-outbound.js';
import type { HubRoutingTables, InboundFlow, SipSource } from './hub-routing-tables.js';
import { requestLineProblem } from './request-line.js';
import { requestSyntaxProblem } from './request-syntax.js';
import { serverTransactionKey } from './server-transaction-key.js';
import type { SourceRateLimiter } from './source-rate-limiter.js';
import { scanHeaders } from './sip-header-fields.js';
import { withSipJsBranch } from './sip-js-branch.js';
import type { SipJsTransport } from './sip-js-transport.js';
import { missingMandatoryFields, peekSipMessage, type PeekedRequest, type PeekedResponse } from './sip-message-peek.js';
import { parseSipUri } from './sip-uri-target.js';
import { stampSource } from './sip-source-stamp.js';
import { addReceivedRport, setTopViaBranch, setTopViaSentBy } from './sip-via-rewrite.js';
import { buildStatelessResponse } from './stateless-response.js';
import type { ThrottledLog } from './throttled-log.js';
import type { UdpRetransmitter } from './udp-retransmitter.js';

/** Picks the UserAgent for a request outside any dialog or transaction the hub knows. */
export type SipRequestRouter = (request: PeekedRequest, source: SipSource) => SipJsTransport | undefined;

export type DropReason = 'not-sip' | 'unroutable-request' | 'unmatched-response' | 'no-user-agent' | 'retransmission' | 'rate-limited';

export interface InboundContext {
  readonly advertisedHost: string;
  /** Every request costs a full sip.js parse: one source (and everyone together) gets so many a second. */
  readonly requestRate: SourceRateLimiter | undefined;
  readonly pool: ConnectionPool;
  readonly tables: HubRoutingTables;
  readonly retransmitter: UdpRetransmitter;
  readonly counters: SipTransportCounters;
  readonly log: ThrottledLog;
  readonly outbound: OutboundPath;
  router(): SipRequestRouter | undefined;
  defaultTransport(): SipJsTransport | undefined;
  dropped(reason: DropReason, source: SipSource): void;
}

/**
 * The receiving half of the hub (RFC 3261 section 18.1.2 for responses,
 * 18.2.1 for requests): each framed message is checked, stamped and handed
 * to the one sip.js UserAgent it belongs to.
 */
export class InboundPath {
  readonly #context: InboundContext;

  constructor(context: InboundContext) {
    this.#context = context;
  }

  receive(message: string, flow: InboundFlow): void {
    const context = this.#context;
    context.counters.received[flow.protocol]++;
    const peeked = peekSipMessage(message);
    if (!peeked) {
      context.counters.parseErrors++;
      if (this.#refuseBadRequestLine(message, flow)) return;
      context.log.debug('not-sip', { protocol: flow.protocol, address: flow.address, port: flow.port, bytes: message.length }, 'dropped a message that is not SIP');
      context.dropped('not-sip', flow);
      return;
    }
    if (peeked.kind === 'response') return this.#receiveResponse(message, peeked, flow);
    // Dropped without an answer, as Kamailio's pike does: answering a flood is work the flooder chose.
    if (context.requestRate && !context.requestRate.take(flow.address)) {
      context.counters.requestsRateLimited++;
      context.log.warn('request-rate', { address: flow.address, protocol: flow.protocol }, 'dropping SIP requests over the per-source or total request rate');
      context.dropped('rate-limited', flow);
      return;
    }
    this.#receiveRequest(message, peeked, flow);
  }

  #receiveRequest(message: string, request: PeekedRequest, flow: InboundFlow): void {
    const context = this.#context;
    if (this.#refuseMalformed(message, request, flow)) return;
    // The Via and the private source header are rewritten from the real flow: nothing the
    // peer wrote about its own address survives into what sip.js and the adapter read.
    const viaStamped = addReceivedRport(message, flow.address, flow.port);
    const stamped = viaStamped && stampSource(viaStamped, flow);
    if (!stamped) return;
    if (flow.protocol === 'UDP' && context.retransmitter.onIncomingRequest(request) === 'absorb') {
      context.dropped('retransmission', flow);
      return;
    }
    const key = serverTransactionKey(request);
    const transport =
      (key ? context.tables.serverTransaction(key)?.transport : undefined) ??
      context.tables.dialogOwner(request.callId, request.toTag) ??
      context.router()?.(request, { protocol: flow.protocol, address: flow.address, port: flow.port }) ??
      context.defaultTransport();
    if (key && transport) context.tables.recordServerTransaction(key, { transport, flow });
    // Only flows WebSocket clients opened to us: a server we connected to is known by its address.
    if (flow.connection && !flow.connection.outbound && (flow.protocol === 'WS' || flow.protocol === 'WSS')) this.#aliasWebSocketFlow(request, flow);
    if (!transport || !this.#deliver(transport, withSipJsBranch(stamped, request))) {
      context.log.debug('no-user-agent', { method: request.method, requestUri: request.requestUri }, 'no connected UserAgent for request');
      context.dropped('no-user-agent', flow);
      if (request.method !== 'ACK') this.#replyStatelessly(message, flow, 503, 'Service Unavailable', 'No user agent available');
    }
  }

  /**
   * A request that lacks mandatory header fields (RFC 3261 section 8.1.1) or
   * breaks their syntax (request-syntax.ts) gets a 400 with a Warning naming
   * the problem (sections 21.4.1, 20.43); an ACK never gets an answer
   * (section 17.2.1). True when the request was refused.
   */
  #refuseMalformed(message: string, request: PeekedRequest, flow: InboundFlow): boolean {
    const missing = missingMandatoryFields(request);
    const syntax = missing.length > 0 ? undefined : requestSyntaxProblem(message, request.requestUri);
    if (missing.length === 0 && !syntax) return false;
    const warning = syntax ? syntax.warning : `Missing or malformed header fields: ${missing.join(', ')}`;
    this.#context.log.debug('unroutable-request', { method: request.method, warning, address: flow.address }, 'malformed request');
    this.#context.dropped('unroutable-request', flow);
    const replied = request.method === 'ACK' ? Promise.resolve() : this.#replyStatelessly(message, flow, 400, 'Bad Request', warning);
    // RFC 4475 sections 3.1.2.3 and 3.3.9: on a byte stream, a message whose length is in doubt leaves
    // nothing to frame the next one by (WebSocket frames delimit messages on their own).
    if (syntax?.framing && (flow.protocol === 'TCP' || flow.protocol === 'TLS')) void replied.finally(() => flow.connection?.close());
    return true;
  }

  /**
   * A stream message that could not be framed (no Content-Length, or no number in it): a request
   * gets its 400 on the connection before the connection closes (RFC 4475 sections 3.1.2.2, 3.1.2.3).
   */
  refuseUnframable(headerBlock: string, flow: InboundFlow, warning: string): void {
    const peeked = peekSipMessage(headerBlock);
    if (peeked?.kind !== 'request' || peeked.method === 'ACK') return;
    void this.#replyStatelessly(headerBlock, flow, 400, 'Bad Request', warning);
  }

  /** A start line that is a SIP request gone wrong (request-line.ts) gets its 400 or 505; true when it was one. */
  #refuseBadRequestLine(message: string, flow: InboundFlow): boolean {
    const startLine = scanHeaders(message)?.startLine;
    const problem = startLine === undefined ? undefined : requestLineProblem(startLine);
    if (!problem) return false;
    this.#context.log.debug('unroutable-request', { warning: problem.warning, address: flow.address }, 'malformed Request-Line');
    this.#context.dropped('unroutable-request', flow);
    if (problem.method !== 'ACK') void this.#replyStatelessly(message, flow, problem.status, problem.reason, problem.warning);
    return true;
  }

  #receiveResponse(message: string, response: PeekedResponse, flow: InboundFlow): void {
    const context = this.#context;
    const branch = response.topVia?.branch;
    const route = branch ? context.tables.clientTransaction(branch) : undefined;
    // RFC 3261 section 18.1.2: a response matching no client transaction is discarded.
    if (!route || response.viaCount !== 1) {
      context.counters.unmatchedResponses++;
      context.log.debug('unmatched-response', { status: response.status, branch, address: flow.address }, 'dropped a response for no request of ours');
      context.dropped('unmatched-response', flow);
      return;
    }
    if (flow.protocol === 'UDP' && context.retransmitter.onIncomingResponse(response) === 'absorb') {
      context.dropped('retransmission', flow);
      return;
    }
    // Give sip.js its own Via back: its sanity check drops responses whose
    // sent-by differs from its viaHost or carries a port (user-agent.js, rfc3261_18_1_2).
    const sentBy = setTopViaSentBy(message, { ...route.sentBy, port: undefined });
    const restored = sentBy && route.sipJsBranch !== undefined && route.sipJsBranch !== branch ? setTopViaBranch(sentBy, route.sipJsBranch) : sentBy;
    const deliver = () => {
      if (!restored || !this.#deliver(route.transport, restored)) context.dropped('no-user-agent', flow);
    };
    // RFC 3263 section 4.3: a 503 from one of several servers may send the request to the next instead.
    if (context.outbound.takeResponse(response, message, deliver)) return;
    deliver();
  }

  /** Hands a message to sip.js; an exception thrown in there must not take the socket's event loop down. */
  #deliver(transport: SipJsTransport, message: string): boolean {
    try {
      return transport.receive(message);
    } catch (error) {
      this.#context.log.debug('user-agent-threw', { transport: transport.name, error: (error as Error).message }, 'sip.js threw on an incoming message');
      return true;
    }
  }

  /**
   * RFC 7118 section 5: a WebSocket client writes a made-up host (often
   * `<random>.invalid`) in its Via and Contact. Requests to it, in dialog,
   * target that Contact, so the flow is remembered under those hosts. Only
   * hosts that can be this client's: an `.invalid` name (RFC 6761 section 6.4,
   * nobody else's by definition) or its own address; any other name or
   * address belongs to someone the gateway may have to reach for real.
   */
  #aliasWebSocketFlow(request: PeekedRequest, flow: InboundFlow): void {
    const connection = flow.connection!;
    const contact = request.contactUri ? parseSipUri(request.contactUri) : undefined;
    for (const host of [request.topVia!.host, contact?.host]) {
      if (host === undefined) continue;
      const own = /\.invalid$/i.test(host) || host.toLowerCase() === connection.remoteAddress.toLowerCase();
      if (own && !this.#context.pool.claimWebSocketHost(connection, host)) {
        this.#context.log.debug('websocket-host-taken', { host, address: flow.address }, 'a WebSocket client named a host another client holds');
      }
    }
  }

  /**
   * Answers a request without any transaction (RFC 3261 section 8.2.6): by
   * its top Via, received/rport added (section 18.2.2); a request whose top
   * Via cannot be read is answered where it came from, and one without any
   * Via not at all (nobody could match the answer).
   */
  #replyStatelessly(request: string, flow: InboundFlow, status: number, reason: string, warning: string): Promise<void> {
    const context = this.#context;
    const stamped = addReceivedRport(request, flow.address, flow.port);
    if (!stamped && !scanHeaders(request)?.fields.some((field) => field.name === 'via')) return Promise.resolve();
    const text = buildStatelessResponse(stamped ?? request, { status, reason, warning: { agent: context.advertisedHost, text: warning } });
    const response = stamped ? peekSipMessage(text) : undefined;
    context.counters.statelessReplies++;
    const sent = response?.kind === 'response' ? context.outbound.sendResponse(text, response, flow) : context.outbound.sendToSource(text, flow);
    return sent.catch((error: Error) => {
      context.log.debug('stateless-reply-failed', { status, error: error.message }, 'stateless reply failed');
    });
  }
}
