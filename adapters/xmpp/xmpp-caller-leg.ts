import { CallFailedError, EXTERNAL_PARTY, type IncomingCall, type PartyIdentity } from '../../src/index.js';
import { jingleExport } from './jingle/jingle-export.js';
import { roleAfter } from './jingle/reanswer.js';
import { sdpImport } from './jingle/sdp-import.js';
import type { SessionDescription } from './jingle/session-description.js';
import { JingleLeg, type JingleLegOptions } from './jingle-leg.js';

export interface XmppCallerLegOptions extends JingleLegOptions {
  /** The calling party's full JID (it sent session-initiate). */
  peer: string;
  /** Its offer, to index our candidates by m-line. */
  offer: SessionDescription;
  /** `routed` when an operator's rule chose a phone or trunk for this admitted caller; external otherwise. */
  identity?: PartyIdentity;
}

/**
 * An XMPP party that called through the gateway (JMI + session-initiate, or a direct
 * session-initiate): the caller leg of an inbound call. We are the Jingle responder.
 */
export class XmppCallerLeg extends JingleLeg {
  protected readonly role = 'responder' as const;
  readonly #peer: string;
  readonly #identity: PartyIdentity;
  #answered = false;

  constructor(options: XmppCallerLegOptions) {
    super(options);
    this.#peer = options.peer;
    this.#identity = options.identity ?? EXTERNAL_PARTY;
    this.localContents = options.offer.contents.map((content) => content.mid);
    this.peerDescription = options.offer;
  }

  override get identity(): PartyIdentity {
    return this.#identity;
  }

  get peer(): string {
    return this.#peer;
  }

  get answered(): boolean {
    return this.#answered;
  }

  deliverCall(_call: IncomingCall): Promise<void> {
    return Promise.reject(new CallFailedError('unreachable', 'an inbound XMPP leg cannot be called'));
  }

  /** The callee rings: XEP-0167 section 7.2 (JMI `<ringing/>` already went out on propose). */
  notifyRinging(): void {
    if (!this.ended) this.sendRingingInfo();
  }

  /** The callee answered: XEP-0166 section 6.3 session-accept from the SDP answer. */
  notifyAnswered(sdp: string): void {
    if (this.ended || this.#answered) return;
    let answer: SessionDescription;
    try {
      answer = sdpImport(sdp, { type: 'answer' });
    } catch (error) {
      this.fail('failed-application', 'media-failed', `the answer has no Jingle form: ${(error as Error).message}`);
      return;
    }
    this.#answered = true;
    this.rememberLocal(answer);
    // The caller offered actpass; the answer's setup fixed both roles (RFC 4145 section 4).
    this.peerSetup = roleAfter(answer.contents[0]?.dtls?.setup).offerer;
    this.jingle('session-accept', jingleExport(answer, { author: 'responder' }), { responder: this.options.port.jid() })
      .then(() => this.flushCandidates())
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error, sid: this.sid }, 'session-accept was refused');
        this.partyEnded('failed', 'session-accept refused');
      });
  }
}
