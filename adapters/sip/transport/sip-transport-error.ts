import { Core } from 'sip.js';

export type SipTransportErrorCode =
  /** send() while the transport is not Connected (sip.js Transport contract). */
  | 'disconnected'
  /** The hub was closed. */
  | 'closed'
  /** A listener could not bind its address at start. */
  | 'bind-failed'
  /** sip.js handed over something that is not a SIP message, or one without the Via/Route/Request-URI needed to send it. */
  | 'unroutable-message'
  /** The destination needs a transport the hub has not been started with, or a WebSocket flow that is gone. */
  | 'no-transport'
  /** DNS lookup of the destination failed. */
  | 'unresolvable-host'
  /** A TCP, TLS or WebSocket connection could not be set up. */
  | 'connect-failed'
  /** The socket refused the bytes. */
  | 'send-failed';

/**
 * The hub's typed error. It extends sip.js's own TransportError so that
 * sip.js's transactions treat a rejected send() as the transport failure
 * RFC 3261 section 8.1.3.1 describes (a 503 to the transaction user).
 */
export class SipTransportError extends Core.TransportError {
  constructor(
    readonly code: SipTransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message);
    this.name = 'SipTransportError';
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
