import type { EndReason, ErrorCode } from '../protocol/messages.js';

/**
 * Base of the gateway's typed errors. `code` is machine-readable and is what
 * the browser protocol shows in an `error` frame; adapters map it to their own
 * wire (SIP status, XMPP error condition) in one place each.
 */
export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A call could not be set up or continued; `reason` is what both parties are told. */
export class CallFailedError extends Error {
  constructor(
    readonly reason: EndReason,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'CallFailedError';
  }
}

/** A method was called on an object that is closed or in the wrong state. */
export class InvalidStateError extends GatewayError {
  constructor(message: string) {
    super('invalid-state', message);
  }
}
