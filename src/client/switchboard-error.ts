/**
 * The SDK's one error class. Its `code` is the gateway's error code when the
 * gateway refused a request, or one of the SDK's own codes below.
 */

import type { EndReason, ErrorCode } from '../protocol/messages.js';

/** Error codes raised by the SDK itself rather than by the gateway. */
export type ClientErrorCode =
  | 'not-connected' // the WebSocket is not open
  | 'connection-closed' // the WebSocket closed while the request was pending
  | 'timeout' // no reply to a request in time
  | 'call-ended' // the call ended while the operation was in progress
  | 'media-failed'; // getUserMedia or WebRTC refused

/**
 * The gateway refuses a `call` to a destination that does not exist, is offline
 * or is forbidden with an `error` frame whose code is that end reason.
 */
export type RoutingFailureCode = Extract<EndReason, 'not-found' | 'offline' | 'forbidden'>;

export type SwitchboardErrorCode = ErrorCode | RoutingFailureCode | ClientErrorCode;

/** Error of a request the gateway refused (`error` frame), or of the SDK itself. */
export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError';
  readonly code: SwitchboardErrorCode;
  /** Call the error concerns, when known. */
  readonly callId: string | undefined;

  constructor(code: SwitchboardErrorCode, message: string, options: { callId?: string; cause?: unknown } = {}) {
    super(message);
    this.code = code;
    this.callId = options.callId;
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** The message of anything thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
