import type { BodyAndContentType, SessionDescriptionHandler, SessionDescriptionHandlerFactory, Session } from 'sip.js';
import type { SipLeg } from './sip-leg.js';

/**
 * sip.js's seam for media (its SessionDescriptionHandler): instead of a
 * browser's RTCPeerConnection, the descriptions come from and go to the call
 * through the SIP leg, where the core's media session (relay or anchor)
 * decides them.
 */
export class LegSessionDescriptionHandler implements SessionDescriptionHandler {
  constructor(private readonly leg: SipLeg) {}

  async getDescription(): Promise<BodyAndContentType> {
    return { body: await this.leg.localDescription(), contentType: 'application/sdp' };
  }

  hasDescription(contentType: string): boolean {
    return contentType.split(';', 1)[0]!.trim().toLowerCase() === 'application/sdp';
  }

  async setDescription(sdp: string): Promise<void> {
    this.leg.remoteDescription(sdp);
  }

  /** DTMF travels as RFC 4733 in the anchor or as INFO from the leg, never through here. */
  sendDtmf(): boolean {
    return false;
  }

  close(): void {}
}

/**
 * Finds the leg of a session. sip.js calls the factory with the user agent's
 * options, not the session's, so legs register their sessions in a map.
 */
export function makeLegSdhFactory(legOfSession: WeakMap<Session, SipLeg>): SessionDescriptionHandlerFactory {
  return (session) => {
    const leg = legOfSession.get(session);
    if (!leg) throw new Error('no call leg for this SIP session');
    return new LegSessionDescriptionHandler(leg);
  };
}
