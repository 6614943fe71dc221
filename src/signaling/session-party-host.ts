import type { Leg } from '../calls/leg.js';
import type { OutboundLegRequest } from '../calls/router.js';
import { CallFailedError, GatewayError } from '../errors/gateway-error.js';
import type { ChatMessage } from '../messaging/chat-router.js';
import type { BrowserSession } from './browser-session.js';

/** What another scheme may offer other nodes (the XMPP component's holder: `xmpp:` parties). */
export interface ExtraPartyHost {
  hostLeg?(request: OutboundLegRequest): Promise<Leg> | undefined;
  hostChat?(message: ChatMessage): Promise<void> | undefined;
}

/**
 * The parties this node holds for calls and chat other nodes of the cluster own: its browser
 * sessions, each only under the session id and user the directory gave the owner (a node never
 * answers for a session it does not hold), and whatever `extra` offers for other schemes.
 */
export class SessionPartyHost {
  constructor(
    private readonly sessions: Map<string, BrowserSession>,
    /** False while draining: no new calls, as for calls placed on this node. */
    private readonly accepting: () => boolean,
    private readonly extra: ExtraPartyHost = {},
  ) {}

  async hostLeg(request: OutboundLegRequest, sessionId: string | undefined): Promise<Leg> {
    if (!this.accepting()) throw new CallFailedError('shutdown', 'the node holding the party is shutting down');
    if (request.target.scheme === 'web') return this.#session(request.target.user, sessionId, () => new CallFailedError('offline', `${request.target.uri} is not online`)).createCalleeLeg(request.callId);
    const leg = this.extra.hostLeg?.(request);
    if (!leg) throw new CallFailedError('not-found', `${request.target.uri} is not served by this node`);
    return leg;
  }

  async hostChat(message: ChatMessage, sessionId: string | undefined): Promise<void> {
    if (message.to.scheme === 'web') {
      const session = this.#session(message.to.user, sessionId, () => new GatewayError('offline', `${message.to.uri} is not online`));
      session.send({ type: 'message', from: message.from.uri, body: message.body, messageId: message.id });
      return;
    }
    const delivered = this.extra.hostChat?.(message);
    if (!delivered) throw new GatewayError('not-found', `${message.to.uri} is not served by this node`);
    await delivered;
  }

  #session(user: string, sessionId: string | undefined, missing: () => Error): BrowserSession {
    const session = sessionId === undefined ? undefined : this.sessions.get(sessionId);
    if (!session || session.user !== user) throw missing();
    return session;
  }
}
