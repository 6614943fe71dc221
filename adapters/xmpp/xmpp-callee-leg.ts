import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { CallFailedError, type EndReason, type IncomingCall } from '../../src/index.js';
import { restoreAnswerBundle, UnbundledAnswerError } from './jingle/answer-bundle.js';
import { jingleExport } from './jingle/jingle-export.js';
import { jingleImport } from './jingle/jingle-import.js';
import { roleAfter } from './jingle/reanswer.js';
import { NS_JINGLE, NS_JINGLE_RTP, NS_JMI, NS_RECEIPTS } from './jingle/namespaces.js';
import { sdpExport } from './jingle/sdp-export.js';
import { sdpImport } from './jingle/sdp-import.js';
import type { SessionDescription } from './jingle/session-description.js';
import { bareJid, jidResource } from './jid.js';
import { JingleLeg, type JingleLegOptions } from './jingle-leg.js';
import { endReasonFor } from './jingle-reasons.js';

export interface XmppCalleeLegOptions extends JingleLegOptions {
  /**
   * Who is called: a bare JID is rung with JMI (XEP-0353) on all its devices; a full JID gets a
   * direct session-initiate, for clients without JMI (StanzaJS, JSXC; JINGLE.md pitfall 14).
   */
  target: string;
}

/**
 * An XMPP party called through the gateway (web user → `xmpp:carol@example.org`): we are the
 * Jingle initiator. JMI flow (JINGLE.md section 1.4, "web user calls XMPP user"): propose to the
 * bare JID, ringing, the first proceed wins and gets the session-initiate, later proceeds from
 * other devices get a retract; a reject before that ends the call.
 */
export class XmppCalleeLeg extends JingleLeg {
  protected readonly role = 'initiator' as const;
  readonly #target: string;
  readonly #direct: boolean;
  #peer: string | undefined;
  #offer: SessionDescription | undefined;
  #ringing = false;
  #answered = false;
  /** The responder's candidates that came before its session-accept (Conversations#3790). */
  readonly #earlyRemoteCandidates: Element[] = [];

  constructor(options: XmppCalleeLegOptions) {
    super(options);
    this.#target = options.target;
    this.#direct = jidResource(options.target) !== undefined;
  }

  get peer(): string | undefined {
    return this.#peer;
  }

  get answered(): boolean {
    return this.#answered;
  }

  /** Whether `from` may act for the callee: the called full JID, or any device of the called bare JID. */
  isCallee(from: string): boolean {
    return this.#direct ? from === this.#target : bareJid(from) === bareJid(this.#target);
  }

  async deliverCall(call: IncomingCall): Promise<void> {
    try {
      this.#offer = sdpImport(call.sdp, { type: 'offer' });
    } catch (error) {
      throw new CallFailedError('incompatible-media', `the offer has no Jingle form: ${(error as Error).message}`);
    }
    this.rememberLocal(this.#offer);
    if (this.#direct) {
      this.#peer = this.#target;
      await this.#initiate().catch((error: unknown) => {
        throw new CallFailedError(iqFailureReason(error), `${this.#target} refused the session: ${String((error as Error).message ?? error)}`);
      });
      return;
    }
    // XEP-0353 section 3.1: one description per medium that the session-initiate will carry.
    const media = this.#offer.contents.filter((content) => !content.rejected).map((content) => xml('description', { xmlns: NS_JINGLE_RTP, media: content.kind }));
    // A receipt request, as Conversations sends: a device's receipt shows it got the propose.
    this.sendJmi(this.#target, xml('propose', { xmlns: NS_JMI, id: this.sid }, ...media), xml('request', { xmlns: NS_RECEIPTS }));
  }

  /** JMI `<ringing/>` from a callee device: the call is ringing somewhere. */
  remoteRinging(): void {
    if (this.ended || this.#ringing) return;
    this.#ringing = true;
    this.emitEvent('ringing');
  }

  /** JMI `<proceed/>`: the first device wins; a later one is told the call was taken (a retract). */
  remoteProceed(from: string): void {
    if (this.ended) return;
    if (this.#peer !== undefined) {
      if (from !== this.#peer) this.sendJmi(from, xml('retract', { xmlns: NS_JMI, id: this.sid }, xml('reason', { xmlns: NS_JINGLE }, xml('cancel'))));
      return;
    }
    this.#peer = from;
    this.remoteRinging();
    this.#initiate().catch((error: unknown) => {
      this.options.logger.info({ err: error, sid: this.sid, peer: from }, 'session-initiate refused');
      this.partyEnded(iqFailureReason(error));
    });
  }

  /**
   * The callee proposed to us at the same moment and its session id won (XEP-0353 tie-break): our
   * proposal is retracted with `<tie-break/>` and this call ends as busy; theirs rings instead.
   */
  loseTieBreak(): void {
    if (this.ended || this.#peer !== undefined) return;
    this.sendJmi(this.#target, xml('retract', { xmlns: NS_JMI, id: this.sid }, xml('tie-break', { xmlns: NS_JMI }), xml('reason', { xmlns: NS_JINGLE }, xml('expired'))));
    this.partyEnded('busy', 'both sides called at once; the other call won the tie-break');
  }

  /** JMI `<reject/>` before proceed: busy or declined. */
  remoteReject(condition: string | undefined): void {
    if (this.ended || this.#peer !== undefined) return;
    this.partyEnded(endReasonFor(condition ?? 'decline', false));
  }

  /** XEP-0166 section 6.3: the callee's answer. Throws JingleParseError when it is malformed. */
  remoteAccept(jingle: Element): void {
    if (this.ended || this.#answered) return;
    let answer = jingleImport(jingle, { author: 'responder' });
    this.#answered = true;
    try {
      answer = restoreAnswerBundle(this.#offer!, answer);
    } catch (error) {
      if (!(error instanceof UnbundledAnswerError)) throw error;
      // The session-accept is acked first (XEP-0166 section 6.3), then ended: the party's answer is
      // well formed, its parameters are what the browser cannot take (XEP-0166 section 7.4).
      setImmediate(() => this.fail('incompatible-parameters', 'incompatible-media', error.message));
      return;
    }
    this.peerDescription = answer;
    this.peerSetup = roleAfter(answer.contents[0]?.dtls?.setup).answerer;
    this.emitEvent('answered', sdpExport(answer));
    for (const early of this.#earlyRemoteCandidates.splice(0)) super.remoteTransportInfo(early);
  }

  override remoteTransportInfo(jingle: Element): void {
    if (this.#answered) super.remoteTransportInfo(jingle);
    else this.#earlyRemoteCandidates.push(jingle);
  }

  notifyRinging(): void {}

  notifyAnswered(_sdp: string): void {}

  protected override onEnd(reason: EndReason): void {
    if (this.#peer === undefined && !this.#direct) {
      // Nobody proceeded yet: XEP-0353 section 3.2 retract, to the bare JID like the propose.
      this.sendJmi(this.#target, xml('retract', { xmlns: NS_JMI, id: this.sid }, xml('reason', { xmlns: NS_JINGLE }, xml('cancel'))));
      return;
    }
    super.onEnd(reason);
  }

  async #initiate(): Promise<void> {
    const offer = this.#offer!;
    // XEP-0166 section 6.2 (initiator attribute) and XEP-0320: our fingerprint goes with setup=actpass.
    await this.jingle('session-initiate', jingleExport(offer, { author: 'initiator' }), { initiator: this.options.port.jid() });
    this.flushCandidates();
  }
}

/** An IQ error from the callee's side → why the call failed. */
function iqFailureReason(error: unknown): EndReason {
  const condition = (error as { condition?: string } | undefined)?.condition;
  if (condition === 'service-unavailable' || condition === 'recipient-unavailable' || condition === 'remote-server-not-found') return 'offline';
  if (condition === 'item-not-found') return 'not-found';
  return 'failed';
}
