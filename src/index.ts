/**
 * The core's public surface: what protocol adapters (adapters/sip,
 * adapters/xmpp) may import. Adapters import nothing else from src/ and never
 * each other; test/unit/architecture.test.ts checks it.
 */
export { parseAddress, AddressError, webAddress, type Address, type AddressScheme } from './calls/address.js';
export { BaseLeg, type IncomingCall, type Leg, type LegEvents, type LegMediaCapabilities, type TransferOutcome } from './calls/leg.js';
export type { LegFactory, OutboundLegRequest } from './calls/router.js';
export type { Router } from './calls/router.js';
export type { CallRegistry, PlaceCallRequest } from './calls/call-registry.js';
export { CallFailedError, GatewayError, InvalidStateError } from './errors/gateway-error.js';
export { TypedEmitter, type EventMap } from './events/typed-emitter.js';
export type { Logger } from './logging/logger.js';
export type { EndReason, ErrorCode, IceCandidate, LoginCredentials, RegistrationMessage, SipCredentials, XmppCredentials } from './protocol/messages.js';
export type { ChatDelivery, ChatMessage, ChatRouter } from './messaging/chat-router.js';
export type { UserRegistrar } from './signaling/user-registrar.js';
export type { Lease, LeaseEvents } from './cluster/lease.js';
export type { PresenceSubscription, PresenceSubscriptionStore } from './directory/presence-subscriptions.js';
export type { GatewayConfig } from './config/config-schema.js';
export { clientAddress } from './http/client-address.js';
export { defaultMaxConnections, readOpenFileLimit, shareOfOpenFiles } from './ops/open-file-limit.js';
export { DialPlan, type DialDecision, type DialRule } from './policy/dial-plan.js';
export { audienceIncludes, describeIdentity, EXTERNAL_PARTY, type Audience, type PartyIdentity, type WebIdentity } from './policy/party-identity.js';
