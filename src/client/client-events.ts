/** The events of SwitchboardClient. */

import type { PresenceStatus, RegistrationMessage, ResumedMessage, WelcomeMessage } from '../protocol/messages.js';
import type { Call } from './call.js';
import type { SwitchboardError } from './switchboard-error.js';

export interface PresenceEntry {
  user: string;
  status: PresenceStatus;
}

export interface ClientEvents {
  /** The WebSocket opened. */
  connected: [];
  /**
   * The WebSocket closed (after `connected`). With `resuming`, the gateway holds the session: calls
   * go on and `reconnecting` / `reconnected` (or an `error` `resume-failed`, calls ending with
   * `resume-failed`) follow. Otherwise every call has ended with `connection-lost`.
   */
  disconnected: [info: { code: number; reason: string; resuming?: boolean }];
  /** A new incoming call, already ringing; answer or reject it. */
  incoming: [call: Call];
  /** Every new call, outgoing or incoming, before any of its events: a place to attach listeners. */
  call: [call: Call];
  /** Presence entries as received; `snapshot` is true for the full list that follows `subscribePresence()`. */
  presence: [users: PresenceEntry[], snapshot: boolean];
  /** A registration the gateway holds for this user (SIP `sip:…`, XMPP `xmpp:…`) changed state. */
  registration: [registration: RegistrationMessage];
  /** A chat message for this user (`from` is an address: `web:bob`, `xmpp:carol@example.org`). */
  message: [message: { from: string; body: string; messageId: string }];
  /** A chat message sent with `sendMessage()` bounced after it was accepted (`id` is what `sendMessage()` resolved with). */
  messageerror: [error: { id: string | undefined; to: string; code: string; message: string }];
  /** Attempt `attempt` to resume the session (`resuming`) or, with the `reconnect` option, to log in again starts in `delayMs`. */
  reconnecting: [info: { attempt: number; delayMs: number; resuming?: boolean }];
  /**
   * Back: `resumed` (the session and its calls go on; frames missed meanwhile follow) or, with the
   * `reconnect` option, `welcome` (logged in again; the calls of the lost session have ended).
   */
  reconnected: [reply: WelcomeMessage | ResumedMessage];
  /** An error frame no pending request was waiting for, or a background failure. */
  error: [error: SwitchboardError];
}
