/**
 * Switchboard browser SDK: the public API, bundled as dist/web/switchboard.js.
 *
 *   import { SwitchboardClient } from '/switchboard.js';
 *   const client = new SwitchboardClient();
 *   await client.login({ name: 'alice' });
 *   const call = await client.call('web:bob');
 */

export { SwitchboardClient } from './switchboard-client.js';
export type { CallOptions, LoginOptions, SwitchboardClientOptions } from './client-options.js';
export type { ClientEvents, PresenceEntry } from './client-events.js';
export { Call } from './call.js';
export type { AnswerOptions, CallDirection, CallEvents, CallState } from './call-events.js';
export { SwitchboardError } from './switchboard-error.js';
export { ReconnectPolicy, type ReconnectOptions } from './reconnect-policy.js';
export type { ClientErrorCode, RoutingFailureCode, SwitchboardErrorCode } from './switchboard-error.js';
export { TypedEmitter } from './typed-events.js';
export { CloseCode, PROTOCOL_VERSION } from '../protocol/messages.js';
export type {
  EndReason,
  ErrorCode,
  IceCandidate,
  IceServer,
  PresenceStatus,
  WelcomeMessage,
} from '../protocol/messages.js';
