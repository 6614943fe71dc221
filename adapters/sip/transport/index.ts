/**
 * The SIP transport layer's public surface: the hub that owns the wire for
 * every sip.js UserAgent of the gateway, the sip.js Transport it hands out,
 * and the pure pieces (peek, rewriters, framers) the rest of the adapter may reuse.
 */
export {
  SipTransportHub,
  type SipTransportHubAddresses,
  type SipTransportHubEvents,
  type SipTransportHubOptions,
  type WebSocketOptions,
} from './sip-transport-hub.js';
export { SipJsTransport, transportConstructorFor } from './sip-js-transport.js';
export type { SipConnectionInfo } from './sip-connection.js';
export { SipTransportError, type SipTransportErrorCode } from './sip-transport-error.js';
export type { DropReason, SipRequestRouter } from './hub-inbound.js';
export type { SipSource } from './hub-routing-tables.js';
export type { SipTransportCounters } from './hub-counters.js';
export type { ListenAddress, TlsListenAddress, BoundAddress } from './hub-listeners.js';
export type { TlsClientOptions } from './connection-pool.js';
export { DEFAULT_SIP_TIMERS, type SipTimerValues } from './sip-timers.js';
export {
  peekSipMessage,
  missingMandatoryFields,
  type PeekedMessage,
  type PeekedRequest,
  type PeekedResponse,
  type PeekedVia,
  type PeekedCSeq,
} from './sip-message-peek.js';
export { setTopViaSentBy, stripTopViaPort, addReceivedRport, type ViaSentBy } from './sip-via-rewrite.js';
export { SOURCE_HEADER, formatSource, parseSource, sourceOfMessage, stampSource } from './sip-source-stamp.js';
export { parseSipUri, targetOfUri, type SipProtocol, type SipTarget } from './sip-uri-target.js';
export { SipStreamFramer, DEFAULT_MAX_MESSAGE_BYTES, type FramedItem, type FramingError } from './stream-framer.js';
export { frameDatagram } from './datagram-framer.js';
export { ExpiringMap } from './expiring-map.js';
export { SourceRateLimiter, type SourceRateLimits } from './source-rate-limiter.js';
export { sourceKey } from './source-key.js';
export { ThrottledLog } from './throttled-log.js';
export { UdpRetransmitter } from './udp-retransmitter.js';
export { buildStatelessResponse, type StatelessResponseOptions } from './stateless-response.js';
export { scanHeaders, splitNameAddr, type HeaderField } from './sip-header-fields.js';
