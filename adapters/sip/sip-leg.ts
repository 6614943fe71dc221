import { Core, Inviter, SessionState, UserAgent, type Invitation, type Session, type URI } from 'sip.js';
import {
  BaseLeg,
  CallFailedError,
  type Address,
  type EndReason,
  type IncomingCall,
  type Leg,
  type LegMediaCapabilities,
  type Logger,
  type TransferOutcome,
} from '../../src/index.js';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDtmfInfo, dtmfInfoBody } from './dtmf-info.js';
import { DialogSessionTimer } from './dialog-session-timer.js';
import { MIN_SESSION_EXPIRES_SECONDS, type AgreedSessionTimer, type SessionTimerHeaders } from './session-timer.js';
import { judgeUpdate } from './update-request.js';
import { describeStatus, endReasonForStatus, statusForEndReason } from './sip-reasons.js';

/** How long an UPDATE's offer may wait for the call's answer before the party gets 500. */
const UPDATE_ANSWER_TIMEOUT_MS = 8000;

/** One pending SDP the session description handler waits for. */
interface Pending {
  promise: Promise<string>;
  resolve: (sdp: string) => void;
}

function pending(): Pending {
  let resolve!: (sdp: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A SIP dialog as one leg of a call: an Invitation (the SIP party called the
 * gateway) or an Inviter (the gateway calls the SIP party). SDP goes through
 * the leg's session description handler: sip.js asks it for our descriptions
 * and hands it theirs; the leg turns that into leg events and back.
 */
export class SipLeg extends BaseLeg implements Leg {
  readonly capabilities: LegMediaCapabilities;
  readonly signalingAddress: string | undefined;
  #session: Session | undefined;
  #answered = false;
  /** Our next description: the initial offer or answer, or the answer to a re-offer. */
  #local: Pending = pending();
  /** Set while our offer awaits the SIP party's answer. */
  #awaitingAnswer = false;
  #remoteAnswer: string | undefined;
  /** An incoming INVITE's offer, which sip.js hands over again when we accept: not a re-offer. */
  #initialOfferPending = false;
  /** A delayed-offer INVITE: the 2xx carries our offer and the ACK the party's answer (see delayed-offer.ts). */
  #awaitingAckAnswer = false;
  /** The anchor's answer to the ACK's answer handed over as a re-offer: it goes to nobody. */
  #dropNextAnswer = false;
  /** The last description we gave, for session refreshes that change nothing. */
  #lastLocal: string | undefined;
  /** The dialog's session timer (RFC 4028), whichever side refreshes. */
  readonly #timer: DialogSessionTimer;
  /** CSeq of the last UPDATE from the party, which sip.js's dialog does not see. */
  #updateCSeq = 0;
  /** Set while our own refresh re-INVITE is out, so its answer is not taken for a change. */
  #refreshing = false;

  constructor(
    readonly id: string,
    readonly address: Address,
    private readonly logger: Logger,
    private readonly options: {
      webrtc: boolean;
      /** The gateway's SIP domain: where a transfer to a web user must send the SIP party. */
      domain: string;
      /** Where the party's SIP comes from: its media may latch from there (NAT). */
      signalingAddress?: string;
      /** The session timer agreed with a calling party that asked for one (RFC 4028). */
      sessionTimer?: AgreedSessionTimer;
      /** Where the agreed timer goes for the 2xx to the party's re-INVITEs. */
      sessionTimerHeaders: SessionTimerHeaders;
      /** For calls out: the user agent, the target, and how sip.js's SDH factory finds this leg. */
      outbound?: {
        ua: UserAgent;
        target: URI;
        register: (session: Session, leg: SipLeg) => void;
        /** The interval to ask for (RFC 4028 section 7.1) and the smallest the gateway accepts. */
        sessionTimer?: { seconds: number; minSeconds: number };
      };
    },
  ) {
    super();
    this.capabilities = { webrtc: options.webrtc, trickle: false };
    this.#timer = new DialogSessionTimer(
      {
        isEnded: () => this.ended,
        current: () => (this.#session ? { session: this.#session, callId: sipCallId(this.#session) } : undefined),
        reInvite: (extraHeaders, done) => this.#refreshByReInvite(extraHeaders, done),
        lost: (detail) => {
          this.#session?.bye().catch(() => {});
          this.partyEnded('failed', detail);
        },
      },
      options.sessionTimerHeaders,
      logger,
      options.sessionTimer,
    );
    this.signalingAddress = options.signalingAddress;
  }

  get answered(): boolean {
    return this.#answered;
  }

  // ------------------------------------------------------------ the SIP party called us

  /**
   * Binds an incoming INVITE; the caller places the call with its offer afterwards
   * (the INVITE's, or for a delayed offer the placeholder of delayed-offer.ts).
   */
  attachInvitation(invitation: Invitation, options: { delayedOffer: boolean } = { delayedOffer: false }): void {
    this.#session = invitation;
    this.#timer.peerAllows(invitation.request.getHeader('allow'));
    this.#initialOfferPending = !options.delayedOffer;
    this.#awaitingAckAnswer = options.delayedOffer;
    this.#watch(invitation);
  }

  // ------------------------------------------------------------ the gateway calls the SIP party

  /** Sends the INVITE with the offer; resolves once it is on its way. */
  async deliverCall(call: IncomingCall): Promise<void> {
    if (!this.options.outbound) throw new CallFailedError('failed', 'this SIP leg cannot call out');
    await this.#sendInvite(call, this.options.outbound.sessionTimer, undefined);
  }

  /**
   * The INVITE, asking for a session timer (RFC 4028 section 7.1: Supported:
   * timer comes from the user agent, Session-Expires and Min-SE from here).
   * After a 422 it goes once more with the peer's Min-SE as interval and
   * Min-SE (section 7.4), in the same Call-ID with the next CSeq (RFC 3261
   * section 8.1.3.5).
   */
  async #sendInvite(call: IncomingCall, timer: { seconds: number; minSeconds: number } | undefined, retryOf: Inviter | undefined): Promise<void> {
    const outbound = this.options.outbound!;
    const retryParams: Partial<Core.OutgoingRequestMessageOptions> = retryOf ? { callId: retryOf.request.callId, cseq: retryOf.request.cseq + 1 } : {};
    const inviter = new Inviter(outbound.ua, outbound.target, {
      // sip.js passes the params through to the request; its typing lists only some of them.
      params: { fromDisplayName: call.fromName ?? call.from.user, ...retryParams } as { fromDisplayName: string },
      ...(timer ? { extraHeaders: [`Session-Expires: ${timer.seconds}`, `Min-SE: ${Math.min(timer.minSeconds, timer.seconds)}`] } : {}),
    });
    outbound.register(inviter, this);
    this.#session = inviter;
    this.#watch(inviter);
    if (retryOf) this.#local = pending();
    this.#local.resolve(call.sdp);
    this.#awaitingAnswer = true;
    await inviter.invite({
      requestDelegate: {
        onProgress: (response) => {
          const { statusCode } = response.message;
          if (statusCode === 180 || statusCode === 183) this.emitEvent('ringing');
          // Early media (RFC 3261 section 13.2.1, RFC 3960): a provisional answer with SDP.
          if (statusCode === 183 && /^application\/sdp/i.test(response.message.getHeader('content-type') ?? '') && response.message.body) {
            this.emitEvent('progress', response.message.body);
          }
        },
        onAccept: (response) => {
          this.#answered = true;
          this.#timer.peerAllows(response.message.getHeader('allow'));
          if (timer) this.#timer.takeFromOwnResponse(response.message);
          const answer = response.message.body || this.#remoteAnswer;
          if (!answer) {
            this.partyEnded('incompatible-media', 'SIP 200 OK without SDP');
            return;
          }
          this.emitEvent('answered', answer);
        },
        onReject: (response) => {
          const statusCode = response.message.statusCode ?? 500;
          const minSe = Number(/^\s*(\d{1,10})/.exec(response.message.getHeader('min-se') ?? '')?.[1]);
          if (statusCode === 422 && !retryOf && timer && minSe > timer.seconds) {
            this.#sendInvite(call, { seconds: minSe, minSeconds: minSe }, inviter).catch((error: unknown) => this.partyEnded('failed', (error as Error).message));
            return;
          }
          this.partyEnded(endReasonForStatus(statusCode), describeStatus(statusCode, response.message.reasonPhrase ?? ''));
        },
      },
    });
  }

  // ------------------------------------------------------------ commands from the call

  notifyRinging(): void {
    const invitation = this.#invitation();
    if (invitation?.state === SessionState.Initial) {
      invitation.progress().catch((error: unknown) => this.logger.debug({ err: error }, '180 failed'));
    }
  }

  notifyAnswered(sdp: string): void {
    const invitation = this.#invitation();
    if (!invitation) return;
    this.#local.resolve(sdp);
    this.#answered = true;
    this.#timer.publish();
    invitation.accept().then(() => this.#timer.arm(), (error: unknown) => {
      this.logger.warn({ err: error, callId: this.id }, 'SIP accept failed');
      this.partyEnded('failed', 'could not answer the SIP call');
    });
  }

  sendCandidate(): void {
    // SIP parties get complete SDP; there is nothing to trickle.
  }

  /** A re-offer towards the SIP party (relay mode): a re-INVITE carrying it. */
  sendOffer(sdp: string): void {
    if (!this.#session || this.#session.state !== SessionState.Established) return;
    this.#local = pending();
    this.#local.resolve(sdp);
    this.#awaitingAnswer = true;
    this.#session
      .invite({
        requestDelegate: {
          onAccept: () => {
            if (this.#remoteAnswer) this.emitEvent('answer', this.#remoteAnswer);
          },
        },
      })
      .catch((error: unknown) => this.logger.debug({ err: error }, 're-INVITE failed'));
  }

  sendAnswer(sdp: string): void {
    if (this.#dropNextAnswer) {
      this.#dropNextAnswer = false;
      return;
    }
    this.#local.resolve(sdp);
  }

  /** DTMF as SIP INFO (application/dtmf-relay), for parties that did not negotiate RFC 4733. */
  sendDtmf(digits: string): void {
    const session = this.#session;
    if (!session || session.state !== SessionState.Established) return;
    let chain = Promise.resolve();
    for (const digit of digits) {
      chain = chain
        .then(() => session.info({ requestOptions: { body: dtmfInfoBody(digit) } }))
        .then(() => undefined);
    }
    chain.catch((error: unknown) => this.logger.debug({ err: error }, 'INFO failed'));
  }

  /** Blind transfer out: REFER the SIP party to `target` (RFC 3515); it calls the target itself. */
  override requestTransfer(target: string, _transferId: string): boolean {
    const session = this.#session;
    if (!session || session.state !== SessionState.Established) return false;
    const uri = UserAgent.makeURI(this.#sipUriFor(target));
    if (!uri) return false;
    session
      .refer(uri, {
        // RFC 3515 section 2.4.5: the transferee reports progress; a final 2xx means the
        // transfer took place, and the transferor leaves the call.
        onNotify: (notification) => {
          notification.accept().catch(() => {});
          const status = Number(/^SIP\/2\.0 (\d{3})/m.exec(notification.request.body)?.[1] ?? 0);
          if (status >= 200 && status < 300 && !this.ended) {
            session.bye().catch(() => {});
            this.partyEnded('hangup', 'transferred');
          }
        },
      })
      .catch((error: unknown) => this.logger.debug({ err: error }, 'REFER failed'));
    return true;
  }

  /** The REFER this party sent us: tell it how the transferred call went (NOTIFY with sipfrag, RFC 3515 section 2.4.5). */
  override transferOutcome(_transferId: string, outcome: TransferOutcome): void {
    const status = outcome.state === 'trying' ? 'SIP/2.0 100 Trying' : outcome.state === 'succeeded' ? 'SIP/2.0 200 OK' : `SIP/2.0 ${statusForEndReason(outcome.reason).statusCode} ${statusForEndReason(outcome.reason).reasonPhrase}`;
    this.#notifyReferrer(status, outcome.state !== 'trying');
  }

  #notifyReferrer(sipfrag: string, final: boolean): void {
    const dialog = this.#session?.dialog;
    if (!dialog || this.#session?.state !== SessionState.Established) return;
    try {
      dialog.notify(undefined, {
        extraHeaders: ['Event: refer', `Subscription-State: ${final ? 'terminated;reason=noresource' : 'active;expires=60'}`],
        body: { contentDisposition: 'render', contentType: 'message/sipfrag;version=2.0', content: sipfrag },
      });
    } catch (error) {
      this.logger.debug({ err: error }, 'NOTIFY failed');
    }
  }

  #sipUriFor(target: string): string {
    if (target.startsWith('web:')) return `sip:${target.slice(4)}@${this.options.domain}`;
    if (target.startsWith('tel:')) return `sip:${target.slice(4)}@${this.options.domain};user=phone`;
    return target;
  }

  protected override release(): void {
    this.#timer.stop();
  }

  protected onEnd(reason: EndReason, detail?: string): void {
    const session = this.#session;
    if (!session) return;
    const done = (error: unknown) => this.logger.debug({ err: error, callId: this.id }, 'ending the SIP session failed');
    if (session.state === SessionState.Established) {
      session.bye().catch(done);
    } else if (session instanceof Inviter) {
      if (session.state === SessionState.Initial || session.state === SessionState.Establishing) session.cancel().catch(done);
    } else {
      const invitation = session as Invitation;
      if (invitation.state === SessionState.Initial || invitation.state === SessionState.Establishing) {
        invitation.reject(statusForEndReason(reason)).catch(done);
      }
    }
    void detail;
  }

  // ------------------------------------------------------------ from the session description handler

  /** sip.js asks for our description (INVITE body, 200 OK body, re-INVITE answer). */
  localDescription(): Promise<string> {
    const current = this.#local;
    void current.promise.then((sdp) => {
      this.#lastLocal = sdp;
    });
    // The next request for a description is a new one (the answer to a later re-offer).
    current.promise.then(() => {
      if (this.#local === current) this.#local = pending();
    });
    return current.promise;
  }

  /** sip.js hands us the party's description: our offer's answer, or a re-offer. */
  remoteDescription(sdp: string): void {
    this.#timer.arm(); // any re-INVITE from the party refreshes the session (RFC 4028 section 10)
    if (this.#refreshing) {
      this.#refreshing = false; // the answer to our own refresh: nothing changed
      return;
    }
    if (this.#initialOfferPending) {
      this.#initialOfferPending = false; // the call already has it
      return;
    }
    if (this.#awaitingAnswer) {
      this.#awaitingAnswer = false;
      this.#remoteAnswer = sdp;
      return;
    }
    if (this.#awaitingAckAnswer) {
      // The ACK's answer to the offer in our 2xx: the anchor learns the party's address from it.
      this.#awaitingAckAnswer = false;
      this.#dropNextAnswer = true;
      this.emitEvent('offer', sdp);
      return;
    }
    if (this.#answered) this.emitEvent('offer', sdp);
  }

  // ------------------------------------------------------------

  // ------------------------------------------------------------ UPDATE (RFC 3311), answered by the adapter

  /** Whether an in-dialog request with this dialog id belongs to this leg. */
  hasDialog(dialogId: string): boolean {
    return this.#session?.dialog?.id === dialogId;
  }

  /**
   * The party's UPDATE: a session refresh without SDP (RFC 4028 section 10),
   * or an offer, which goes to the call like a re-INVITE's (the anchor answers
   * hold, resume and address changes itself). Resolves with the response.
   */
  async receiveUpdate(request: Core.IncomingRequestMessage): Promise<Core.ResponseOptions> {
    const session = this.#session;
    const dialog = session?.dialog;
    const verdict = judgeUpdate(request, {
      established: session?.state === SessionState.Established && this.#answered,
      ownOfferPending: this.#awaitingAnswer || this.#refreshing,
      highestPeerCSeq: Math.max((dialog instanceof Core.SessionDialog ? dialog.remoteSequenceNumber : undefined) ?? 0, this.#updateCSeq),
    });
    if (verdict.kind === 'reject') return verdict;
    this.#updateCSeq = request.cseq;
    const refresh = this.#timer.answerPeerRefresh(request, MIN_SESSION_EXPIRES_SECONDS);
    if (refresh.kind === 'too-small') {
      return { statusCode: 422, reasonPhrase: 'Session Interval Too Small', extraHeaders: [`Min-SE: ${refresh.minSeconds}`] };
    }
    if (verdict.kind === 'refresh') return { statusCode: 200, extraHeaders: refresh.headers };
    const answer = this.localDescription();
    this.emitEvent('offer', verdict.sdp);
    const sdp = await Promise.race([answer, sleep(UPDATE_ANSWER_TIMEOUT_MS, undefined, { ref: false })]);
    if (sdp === undefined) return { statusCode: 500, reasonPhrase: 'No Answer From Media', extraHeaders: ['Retry-After: 5'] };
    return {
      statusCode: 200,
      extraHeaders: refresh.headers,
      body: { contentDisposition: 'session', contentType: 'application/sdp', content: sdp },
    };
  }

  // ------------------------------------------------------------

  /** A session refresh by re-INVITE (RFC 4028 section 10) with the description already in force. */
  #refreshByReInvite(extraHeaders: string[], done: (response: Core.IncomingResponseMessage) => void): boolean {
    const session = this.#session;
    if (!session || !this.#lastLocal) return false;
    this.#local = pending();
    this.#local.resolve(this.#lastLocal);
    this.#refreshing = true;
    session
      .invite({ requestOptions: { extraHeaders }, requestDelegate: { onAccept: (response) => done(response.message), onReject: (response) => done(response.message) } })
      .catch((error: unknown) => this.logger.debug({ err: error }, 'session refresh failed'));
    return true;
  }

  #invitation(): Invitation | undefined {
    return this.#session && !(this.#session instanceof Inviter) ? (this.#session as Invitation) : undefined;
  }

  #watch(session: Session): void {
    session.delegate = {
      // A REFER from the SIP party (it transfers the other party, RFC 3515): accept, report
      // progress, and let the call ask the other party to follow it.
      onRefer: (referral) => {
        const target = referral.referTo.uri.toString();
        referral
          .accept()
          .then(() => {
            this.#notifyReferrer('SIP/2.0 100 Trying', false);
            this.emitEvent('transfer', target, randomUUID());
          })
          .catch((error: unknown) => this.logger.debug({ err: error }, 'REFER accept failed'));
      },
      onInfo: (info) => {
        const digits = parseDtmfInfo(info.request.getHeader('content-type') ?? '', info.request.body);
        if (digits === undefined) {
          info.reject({ statusCode: 415 }).catch(() => {});
          return;
        }
        info.accept().catch(() => {});
        this.emitEvent('dtmf', digits);
      },
    };
    session.stateChange.addListener((state) => {
      // A session given up for a retry (422) is no end of the call.
      if (state !== SessionState.Terminated || this.ended || session !== this.#session) return;
      // BYE from the party after answer; CANCEL (or a failure) before it. sip.js terminates the
      // session before it reports a final response, so let onReject give the precise reason first.
      setImmediate(() => {
        if (!this.ended && session === this.#session) this.partyEnded('hangup');
      });
    });
  }
}

/** The Call-ID of a session's INVITE, either way round. */
export function sipCallId(session: Session): string {
  return session instanceof Inviter ? session.request.callId : (session as Invitation).request.callId;
}
