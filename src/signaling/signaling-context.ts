import type { CallRegistry } from '../calls/call-registry.js';
import type { GatewayConfig } from '../config/config-schema.js';
import type { Directory } from '../directory/directory.js';
import type { Logger } from '../logging/logger.js';
import type { AnnouncedAddressCheck } from '../media/announced-address-check.js';
import type { ChatRouter } from '../messaging/chat-router.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { IceServer } from '../protocol/messages.js';
import type { BrowserSession } from './browser-session.js';
import type { ResumeTokens } from './resume-tokens.js';
import type { UserRegistrar } from './user-registrar.js';

/** What browser sessions share: passed in once by the signaling server. */
export interface SignalingContext {
  config: GatewayConfig['signaling'];
  auth: { secret?: string | undefined; anonymous: boolean; guestPrefix: string };
  /** This gateway node's id in the directory. */
  nodeId: string;
  directory: Directory;
  /** Logged-in sessions on this node, by session id. */
  sessions: Map<string, BrowserSession>;
  /** Who may take a session of this node back (`resume`). */
  resumeTokens: ResumeTokens<BrowserSession>;
  calls: CallRegistry;
  chat: ChatRouter;
  iceServersFor(user: string, requestHost: string | undefined): IceServer[];
  metrics: GatewayMetrics;
  /** Told the address each browser typed to reach the gateway when a NAT translated it (a warning when media does not announce it). */
  announcedAddressCheck?: AnnouncedAddressCheck;
  /** Registers logged-in users elsewhere (SIP registration, XMPP login), when an adapter offers it. */
  registrars: UserRegistrar[];
  logger: Logger;
  onSessionClosed(session: BrowserSession): void;
  /** The session logged in (it stops counting against its source's pending logins). */
  onSessionLoggedIn(session: BrowserSession): void;
  /** A place for a call this session places, counted per source; false when the source has no more. */
  takeCall(session: BrowserSession): boolean;
  releaseCall(session: BrowserSession): void;
}
