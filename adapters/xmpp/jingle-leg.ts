import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { BaseLeg, type Address, type EndReason, type IceCandidate, type IncomingCall, type Leg, type LegMediaCapabilities, type Logger } from '../../src/index.js';
import { isSupportedCandidate } from './jingle/jingle-candidates.js';
import { transportInfoExport } from './jingle/jingle-export.js';
import { transportInfoImport } from './jingle/jingle-import.js';
import { NS_HINTS, NS_JINGLE, NS_JINGLE_RTP_INFO, NS_JMI } from './jingle/namespaces.js';
import { parseSdpCandidate, writeSdpCandidate } from './jingle/sdp-candidate.js';
import { reanswerFromPeer } from './jingle/reanswer.js';
import { sdpExport } from './jingle/sdp-export.js';
import { sdpImport } from './jingle/sdp-import.js';
import type { DtlsSetup, JingleRole, SessionDescription } from './jingle/session-description.js';
import { endReasonFor, jingleReasonFor, type JingleReason } from './jingle-reasons.js';
import { jmiMessageId } from './jmi.js';

/** How a leg reaches the XMPP network: the connection of the account the call runs on. */
export interface XmppStanzaPort {
  /** Our own full JID (where the Jingle session lives). */
  jid(): string;
  send(stanza: Element): Promise<void>;
  /** An IQ get/set; resolves with the result, rejects on an error reply or a timeout. */
  request(iq: Element): Promise<Element>;
}

export interface JingleLegOptions {
  id: string;
  /** The Jingle session id (XEP-0166) = the JMI id (XEP-0353 section 3). */
  sid: string;
  address: Address;
  port: XmppStanzaPort;
  logger: Logger;
  /** Called once the leg ended, to forget the session. */
  onReleased: (sid: string) => void;
}

/**
 * What both directions of a Jingle RTP session share (XEP-0166/0167/0176/0320): trickled
 * candidates both ways, session-info, and the end with session-terminate + JMI finish. Media is
 * relayed or anchored by the core; to it the XMPP party is a WebRTC endpoint (ICE-UDP +
 * DTLS-SRTP) that trickles.
 */
export abstract class JingleLeg extends BaseLeg implements Leg {
  readonly capabilities: LegMediaCapabilities = { webrtc: true, trickle: true };
  readonly id: string;
  readonly address: Address;
  readonly sid: string;
  /** Our role in the Jingle session. */
  protected abstract readonly role: JingleRole;
  /** Whether our session-initiate / session-accept reached the peer (candidates may follow). */
  protected transportReady = false;
  /** Our ICE ufrag per content, once our description went out. */
  protected readonly ufrags = new Map<string, string>();
  /** Our description's contents, to map an m-line index to a content name. */
  protected localContents: string[] = [];
  readonly #pendingCandidates: IceCandidate[] = [];
  /** What the XMPP party said (its offer or its answer), and its DTLS role since, for re-answers in its name. */
  protected peerDescription: SessionDescription | undefined;
  protected peerSetup: DtlsSetup | undefined;
  #reanswers = 0;

  constructor(protected readonly options: JingleLegOptions) {
    super();
    this.id = options.id;
    this.address = options.address;
    this.sid = options.sid;
  }

  /** The XMPP party's full JID, once known (the callee's is known only after its JMI proceed). */
  abstract get peer(): string | undefined;

  /** Whether the call was answered (decides what a terminate without reason means). */
  abstract get answered(): boolean;

  abstract deliverCall(call: IncomingCall): Promise<void>;
  abstract notifyRinging(): void;
  abstract notifyAnswered(sdp: string): void;

  /** A web-side candidate → transport-info (XEP-0176 section 6), one per stanza; queued until our description is out. */
  sendCandidate(candidate: IceCandidate | null): void {
    if (this.ended || candidate === null || candidate.candidate === '') return;
    if (!this.transportReady) {
      this.#pendingCandidates.push(candidate);
      return;
    }
    const mid = candidate.sdpMid ?? this.localContents[candidate.sdpMLineIndex ?? 0];
    if (mid === undefined) return;
    try {
      const parsed = parseSdpCandidate(candidate.candidate.replace(/^a=/, ''));
      if (!isSupportedCandidate(parsed) || parsed.component !== 1) return;
      const ufrag = this.ufrags.get(mid);
      const update = transportInfoExport({ mid, creator: 'initiator', candidates: [parsed], ...(ufrag ? { ufrag } : {}) });
      this.jingle('transport-info', [update]).catch(() => {});
    } catch (error) {
      this.options.logger.debug({ err: error, candidate }, 'dropped an untranslatable candidate');
    }
  }

  /** The XMPP party trickled candidates. Throws JingleParseError for a malformed transport-info. */
  remoteTransportInfo(jingle: Element): void {
    const remoteRole: JingleRole = this.role === 'initiator' ? 'responder' : 'initiator';
    for (const update of transportInfoImport(jingle, { author: remoteRole })) {
      const index = Math.max(0, this.localContents.indexOf(update.mid));
      for (const candidate of update.candidates) {
        // libjuice does not filter RTCP-component candidates itself (JINGLE.md section 2.3).
        if (!isSupportedCandidate(candidate) || candidate.component !== 1) continue;
        this.emitEvent('candidate', { candidate: writeSdpCandidate(candidate), sdpMid: update.mid, sdpMLineIndex: index });
      }
    }
  }

  /** Inbound session-terminate (XEP-0166 section 6.7) or JMI retract/finish. */
  remoteEnded(condition: string | undefined): void {
    this.partyEnded(endReasonFor(condition, this.answered));
  }

  /**
   * The adapter ends the call on its own: its stream was lost (`connection-lost`, nothing can be
   * sent) or it is shutting down (the peer is told). The core hears it as this party's end.
   */
  abort(reason: EndReason, notifyPeer: boolean): void {
    if (this.ended) return;
    if (notifyPeer) this.onEnd(reason);
    this.partyEnded(reason);
  }

  /**
   * The call fails here, not at the party: the party is told why with session-terminate (and JMI
   * finish), the core hears `reason` with `detail` as this party's end, so the other side gets a
   * failure and never a hangup.
   */
  fail(condition: JingleReason, reason: EndReason, detail: string): void {
    if (this.ended) return;
    this.options.logger.info({ sid: this.sid, condition, detail }, 'the Jingle session failed');
    this.terminate(condition);
    this.partyEnded(reason, detail);
  }

  /** XEP-0167 section 7: hold/mute/ringing are informational here; an empty one is a ping. */
  remoteSessionInfo(_jingle: Element): void {}

  /**
   * A re-offer from the other party (relay mode: the browser holds or resumes). Clients do not
   * renegotiate direction with Jingle in the same way (Conversations ignores content-modify for
   * it), so the peer is told with XEP-0167 session-info `<hold/>` / `<active/>` and the re-offer is
   * answered in its name from what it already said (same ICE, fingerprint, DTLS role, codecs).
   * Anything else (new contents, an ICE restart) is not renegotiated.
   */
  sendOffer(sdp: string): void {
    if (this.ended) return;
    const peer = this.peerDescription;
    const setup = this.peerSetup;
    let offer: SessionDescription;
    try {
      offer = sdpImport(sdp, { type: 'offer' });
    } catch (error) {
      this.options.logger.warn({ err: error, sid: this.sid }, 'an untranslatable re-offer towards XMPP was ignored');
      return;
    }
    if (!peer || !setup || offer.contents.some((content) => !content.rejected && !peer.contents.some((known) => known.mid === content.mid))) {
      this.options.logger.warn({ sid: this.sid }, 'renegotiation towards XMPP beyond hold/resume (content-add) is not implemented');
      return;
    }
    const held = offer.contents.every((content) => content.rejected || content.direction === 'sendonly' || content.direction === 'inactive');
    this.jingle('session-info', [xml(held ? 'hold' : 'active', { xmlns: NS_JINGLE_RTP_INFO })]).catch(() => {});
    this.#reanswers += 1;
    this.emitEvent('answer', sdpExport(reanswerFromPeer(offer, peer, setup), { sessionVersion: this.#reanswers }));
  }

  sendAnswer(_sdp: string): void {
    this.options.logger.warn({ sid: this.sid }, 'renegotiation towards XMPP is not implemented');
  }

  /** Jingle has no DTMF element; telephone-event RTP travels in the media (JINGLE.md section 2.4). */
  sendDtmf(_digits: string): void {}

  /**
   * Tells the peer, late, why a call that ended while our stream was down ended (the grace time for
   * a resumption ran out): sent from the new session, the same full JID when the resource is free.
   */
  notifyEndedLate(reason: EndReason): void {
    this.terminate(jingleReasonFor(reason));
  }

  protected onEnd(reason: EndReason): void {
    this.terminate(jingleReasonFor(reason));
  }

  protected override release(): void {
    this.options.onReleased(this.sid);
  }

  /** Our description is out: send the candidates that waited for it. */
  protected flushCandidates(): void {
    this.transportReady = true;
    for (const candidate of this.#pendingCandidates.splice(0)) this.sendCandidate(candidate);
  }

  protected rememberLocal(description: SessionDescription): void {
    this.localContents = description.contents.map((content) => content.mid);
    for (const content of description.contents) if (content.ice?.ufrag) this.ufrags.set(content.mid, content.ice.ufrag);
  }

  /** session-terminate with `<reason/>` (XEP-0166 section 6.7), then JMI `<finish/>` (XEP-0353 section 3.6). */
  protected terminate(condition: JingleReason): void {
    const peer = this.peer;
    if (!peer) return;
    this.jingle('session-terminate', [xml('reason', {}, xml(condition))]).catch(() => {});
    this.sendJmi(peer, xml('finish', { xmlns: NS_JMI, id: this.sid }, xml('reason', { xmlns: NS_JINGLE }, xml(condition))));
  }

  /** XEP-0167 section 7.2 `<ringing/>` session-info. */
  protected sendRingingInfo(): void {
    this.jingle('session-info', [xml('ringing', { xmlns: NS_JINGLE_RTP_INFO })]).catch(() => {});
  }

  /** JMI messages are type chat with a store hint (XEP-0353 section 4; JINGLE.md section 1.2). */
  protected sendJmi(to: string, payload: Element, ...extra: Element[]): void {
    const message = xml('message', { to, type: 'chat', id: jmiMessageId(payload.name, this.sid) }, payload, ...extra, xml('store', { xmlns: NS_HINTS }));
    this.options.port.send(message).catch((error: unknown) => this.options.logger.warn({ err: error }, 'jmi send failed'));
  }

  protected async jingle(action: string, children: Element[], attrs: Record<string, string> = {}): Promise<void> {
    const peer = this.peer;
    if (!peer) throw new Error('no Jingle peer yet');
    const jingle = xml('jingle', { xmlns: NS_JINGLE, action, sid: this.sid, ...attrs }, ...children);
    await this.options.port.request(xml('iq', { type: 'set', to: peer }, jingle));
  }
}
