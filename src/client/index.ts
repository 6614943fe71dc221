/**
 * Switchboard browser SDK: the public API, bundled as dist/web/switchboard.js.
 *
 *   import { SwitchboardClient } from '/switchboard.js';
 *   const client = new SwitchboardClient();
 *   await client.login({ name: 'alice' });
 *   const call = await client.call('web:bob');
 */

export { SwitchboardClient } from './switchboard-client.js';
export type {
  CallOptions,
  ClientEvents,
  LoginOptions,
  PresenceEntry,
  SwitchboardClientOptions,
} from './switchboard-client.js';
export { Call, SwitchboardError } from './call.js';
export type {
  AnswerOptions,
  CallDirection,
  CallEvents,
  CallState,
  ClientErrorCode,
  RoutingFailureCode,
  SwitchboardErrorCode,
} from './call.js';
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
