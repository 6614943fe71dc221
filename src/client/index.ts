/**
 * Switchboard browser SDK: the public API. Published as the npm package in
 * packages/client (`import { SwitchboardClient } from '@switchboard/client'`)
 * and served by the gateway as one module at /switchboard.js:
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
export { callQuality, type CallQuality } from './call-quality.js';
export { SDK_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './protocol-versions.js';
export { CloseCode, PROTOCOL_VERSION } from '../protocol/messages.js';
export type {
  ClientEndReason,
  EndReason,
  ErrorCode,
  IceCandidate,
  IceServer,
  MediaPath,
  PresenceStatus,
  WelcomeMessage,
} from '../protocol/messages.js';
