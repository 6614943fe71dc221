/** Options of the client, its calls and its login. */

import type { SipCredentials, XmppCredentials } from '../protocol/messages.js';
import type { ReconnectOptions } from './reconnect-policy.js';

export interface SwitchboardClientOptions {
  /** WebSocket URL. Default: `ws(s)://<location.host>/ws`. */
  url?: string;
  /** Merged over `{ iceServers: <from welcome>, bundlePolicy: 'max-bundle' }` for every call. */
  rtcConfig?: Partial<RTCConfiguration>;
  /** How long a request waits for its `ack` (default 15000 ms). */
  requestTimeoutMs?: number;
  /**
   * Connect and log in again, with the same login, when the connection is lost (a gateway node
   * died, a network change): backoff with jitter, not after the same user logged in elsewhere
   * (4001) or `close()`. `true` for the defaults. Off unless asked.
   */
  reconnect?: boolean | ReconnectOptions;
}

export interface CallOptions {
  /** Media to send; the SDK does not stop its tracks. Default: a new getUserMedia stream. */
  stream?: MediaStream;
  /** Ask getUserMedia for audio (default true), or for audio with these constraints (`{ deviceId }`). Ignored with `stream`. */
  audio?: boolean | MediaTrackConstraints;
  /** Ask getUserMedia for video (default false). Ignored with `stream`. */
  video?: boolean;
  /** Merged over the client's configuration for this call only. */
  rtcConfig?: Partial<RTCConfiguration>;
  /** Set when following a `transfer` event, so the transferor learns how it went. */
  transferId?: string;
}

export interface LoginOptions {
  /** Signed access token. */
  token?: string;
  /** Anonymous name (when the gateway allows it). */
  name?: string;
  /** A SIP account the gateway registers for this user; progress comes as `registration` events. */
  sip?: SipCredentials;
  /** An XMPP account the gateway logs in to for this user (per-user XMPP mode); progress comes as `registration` events. */
  xmpp?: XmppCredentials;
}
