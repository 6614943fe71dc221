/**
 * The internal contract between SwitchboardClient and its calls: how a call
 * sends frames, which frames it receives, and what it is created with.
 */

import type { ClientMessage, ErrorMessage, MediaPath, ServerMessage } from '../protocol/messages.js';
import type { Call } from './call.js';
import type { CallDirection } from './call-events.js';
import type { SwitchboardError } from './switchboard-error.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A client frame without its request id: the client assigns it. */
export type OutgoingFrame = DistributiveOmit<ClientMessage, 'id'>;

/** What a call needs from the client. Internal. */
export interface CallSignaling {
  /** Sends a frame with a fresh `id`; resolves on `ack`, rejects with a SwitchboardError. */
  request(frame: OutgoingFrame): Promise<unknown>;
  /** Called once when the call ends, so the client forgets it. */
  release(call: Call): void;
  /** Reports an error nobody awaits (the client's `error` event). */
  report(error: SwitchboardError): void;
}

/** Internal constructor options. */
export interface CallInit {
  id: string;
  direction: CallDirection;
  remote: string;
  remoteName?: string;
  local?: string;
  mediaPath?: MediaPath;
  rtcConfig: RTCConfiguration;
  signaling: CallSignaling;
}

/** Messages addressed to a call. */
export type CallMessage = Extract<ServerMessage, { callId: string }> | ErrorMessage;
