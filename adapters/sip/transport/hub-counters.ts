import type { SipProtocol } from './sip-uri-target.js';

/** Figures for /metrics: what crossed the wire and what the hub refused or repeated. */
export interface SipTransportCounters {
  readonly received: Record<SipProtocol, number>;
  readonly sent: Record<SipProtocol, number>;
  /** Datagrams and messages that are not SIP (peek failed). */
  parseErrors: number;
  /** Streams closed because they could not be framed (RFC 3261 section 18.3). */
  framingErrors: number;
  /** Responses whose Via branch matches no request a UserAgent sent. */
  unmatchedResponses: number;
  /** 400/503 answers the hub gave itself. */
  statelessReplies: number;
  retransmissionsSent: number;
  retransmissionsAbsorbed: number;
  /** TCP/TLS connections closed on accept, WebSocket upgrades answered 503: `maxConnections` reached. */
  connectionsRefusedTotal: number;
  /** The same, because the source had `maxConnectionsPerSource` open already. */
  connectionsRefusedPerSource: number;
  /** Connections closed for a first message, or a begun message, not complete within the header timeout. */
  messageTimeouts: number;
  /** Connections closed after the idle timeout without traffic. */
  idleTimeouts: number;
  /** Requests dropped because their source (or everyone together) sent more than the request rate allows. */
  requestsRateLimited: number;
  /** Requests sent on to the next server of their next hop (RFC 3263 section 4.3): unreachable, silent, or 503. */
  failovers: number;
}

export function emptyCounters(): SipTransportCounters {
  const perProtocol = (): Record<SipProtocol, number> => ({ UDP: 0, TCP: 0, TLS: 0, WS: 0, WSS: 0 });
  return {
    received: perProtocol(),
    sent: perProtocol(),
    parseErrors: 0,
    framingErrors: 0,
    unmatchedResponses: 0,
    statelessReplies: 0,
    retransmissionsSent: 0,
    retransmissionsAbsorbed: 0,
    connectionsRefusedTotal: 0,
    connectionsRefusedPerSource: 0,
    messageTimeouts: 0,
    idleTimeouts: 0,
    requestsRateLimited: 0,
    failovers: 0,
  };
}
