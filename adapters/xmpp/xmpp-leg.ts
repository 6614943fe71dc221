import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { BaseLeg, CallFailedError, type Address, type EndReason, type IceCandidate, type IncomingCall, type Leg, type LegMediaCapabilities, type Logger } from '../../src/index.js';
import { isSupportedCandidate } from './jingle/jingle-candidates.js';
import { jingleExport, transportInfoExport } from './jingle/jingle-export.js';
import { transportInfoImport } from './jingle/jingle-import.js';
import { NS_HINTS, NS_JINGLE, NS_JINGLE_RTP_INFO, NS_JMI } from './jingle/namespaces.js';
import { parseSdpCandidate, writeSdpCandidate } from './jingle/sdp-candidate.js';
import { sdpImport } from './jingle/sdp-import.js';
import type { SessionDescription } from './jingle/session-description.js';
import { endReasonFor, jingleReasonFor } from './jingle-reasons.js';

/** How a leg reaches the XMPP network: the adapter's connection. */
export interface XmppStanzaPort {
  /** Our own full JID (where the Jingle session lives). */
  jid(): string;
  send(stanza: Element): Promise<void>;
  /** An IQ get/set; resolves with the result, rejects on an error reply or a timeout. */
  request(iq: Element): Promise<Element>;
}

export interface XmppLegOptions {
  id: string;
  /** The Jingle session id (XEP-0166) = the JMI id (XEP-0353 section 3). */
  sid: string;
  /** The XMPP party's full JID. */
  peer: string;
  address: Address;
  /** The offer the XMPP party sent in session-initiate (to index candidates by m-line). */
  offer: SessionDescription;
  port: XmppStanzaPort;
  logger: Logger;
  /** Called once the leg ended, to forget the session. */
  onReleased: (sid: string) => void;
}

/**
 * An XMPP party that called a web user with JMI + Jingle (XEP-0353, XEP-0166/0167/0176/0320):
 * the caller leg of an inbound call. Media is relayed: the party is a WebRTC endpoint itself
 * (ICE-UDP + DTLS-SRTP), so SDP is translated, not anchored.
 */
export class XmppLeg extends BaseLeg implements Leg {
  readonly capabilities: LegMediaCapabilities = { webrtc: true, trickle: true };
  readonly id: string;
  readonly address: Address;
  readonly sid: string;
  readonly peer: string;
  #answered = false;
  /** Our (the responder's) ICE ufrag per content, once session-accept went out. */
  readonly #ufrags = new Map<string, string>();
  /** Web-side candidates that came before session-accept (XEP-0176 section 6: after the accept). */
  readonly #pendingCandidates: IceCandidate[] = [];

  constructor(private readonly options: XmppLegOptions) {
    super();
    this.id = options.id;
    this.address = options.address;
    this.sid = options.sid;
    this.peer = options.peer;
  }

  get answered(): boolean {
    return this.#answered;
  }

  deliverCall(_call: IncomingCall): Promise<void> {
    return Promise.reject(new CallFailedError('unreachable', 'an inbound XMPP leg cannot be called'));
  }

  /** XEP-0167 section 7.2 `<ringing/>` session-info (JMI `<ringing/>` already went out on propose). */
  notifyRinging(): void {
    if (this.ended) return;
    this.#jingle('session-info', [xml('ringing', { xmlns: NS_JINGLE_RTP_INFO })]).catch(() => {});
  }

  /** The web user answered: XEP-0166 section 6.3 session-accept from the SDP answer. */
  notifyAnswered(sdp: string): void {
    if (this.ended || this.#answered) return;
    let answer: SessionDescription;
    try {
      answer = sdpImport(sdp, { type: 'answer' });
    } catch (error) {
      this.options.logger.warn({ err: error, sid: this.sid }, 'the web answer could not be translated to Jingle');
      this.partyEnded('incompatible-media');
      this.#terminate('failed-application');
      return;
    }
    this.#answered = true;
    for (const content of answer.contents) if (content.ice?.ufrag) this.#ufrags.set(content.mid, content.ice.ufrag);
    this.#jingle('session-accept', jingleExport(answer, { author: 'responder' }), { responder: this.options.port.jid() })
      .then(() => {
        for (const candidate of this.#pendingCandidates.splice(0)) this.sendCandidate(candidate);
      })
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error, sid: this.sid }, 'session-accept was refused');
        this.partyEnded('failed', 'session-accept refused');
      });
  }

  /** A web-side candidate → transport-info (XEP-0176 section 6), one candidate per stanza. */
  sendCandidate(candidate: IceCandidate | null): void {
    if (this.ended || candidate === null || candidate.candidate === '') return;
    if (!this.#answered) {
      this.#pendingCandidates.push(candidate);
      return;
    }
    const mid = candidate.sdpMid ?? this.options.offer.contents[candidate.sdpMLineIndex ?? 0]?.mid;
    if (mid === undefined) return;
    try {
      const parsed = parseSdpCandidate(candidate.candidate.replace(/^a=/, ''));
      if (!isSupportedCandidate(parsed) || parsed.component !== 1) return;
      const ufrag = this.#ufrags.get(mid);
      const update = transportInfoExport({ mid, creator: 'initiator', candidates: [parsed], ...(ufrag ? { ufrag } : {}) });
      this.#jingle('transport-info', [update]).catch(() => {});
    } catch (error) {
      this.options.logger.debug({ err: error, candidate }, 'dropped an untranslatable candidate');
    }
  }

  /** The XMPP party trickled candidates. Throws JingleParseError for a malformed transport-info. */
  remoteTransportInfo(jingle: Element): void {
    for (const update of transportInfoImport(jingle, { author: 'initiator' })) {
      const index = this.options.offer.contents.findIndex((content) => content.mid === update.mid);
      for (const candidate of update.candidates) {
        if (!isSupportedCandidate(candidate) || candidate.component !== 1) continue;
        this.emitEvent('candidate', { candidate: writeSdpCandidate(candidate), sdpMid: update.mid, sdpMLineIndex: index < 0 ? 0 : index });
      }
    }
  }

  /** Inbound session-terminate (XEP-0166 section 6.7) or JMI retract/finish. */
  remoteEnded(condition: string | undefined): void {
    this.partyEnded(endReasonFor(condition, this.#answered));
  }

  sendOffer(_sdp: string): void {
    this.options.logger.warn({ sid: this.sid }, 'renegotiation towards XMPP (content-add) is not implemented');
  }

  sendAnswer(_sdp: string): void {
    this.options.logger.warn({ sid: this.sid }, 'renegotiation towards XMPP is not implemented');
  }

  sendDtmf(_digits: string): void {}

  protected onEnd(reason: EndReason): void {
    this.#terminate(jingleReasonFor(reason));
  }

  protected override release(): void {
    this.options.onReleased(this.sid);
  }

  /** session-terminate with `<reason/>` (XEP-0166 section 6.7), then JMI `<finish/>` (XEP-0353 section 3.6). */
  #terminate(condition: string): void {
    const reason = () => xml('reason', {}, xml(condition));
    this.#jingle('session-terminate', [reason()]).catch(() => {});
    const finish = xml('finish', { xmlns: NS_JMI, id: this.sid }, xml('reason', { xmlns: NS_JINGLE }, xml(condition)));
    this.options.port.send(xml('message', { to: this.peer, type: 'chat' }, finish, xml('store', { xmlns: NS_HINTS }))).catch(() => {});
  }

  async #jingle(action: string, children: Element[], attrs: Record<string, string> = {}): Promise<void> {
    const jingle = xml('jingle', { xmlns: NS_JINGLE, action, sid: this.sid, ...attrs }, ...children);
    await this.options.port.request(xml('iq', { type: 'set', to: this.peer }, jingle));
  }
}
