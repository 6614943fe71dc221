import { Core, Inviter, SessionState, type Invitation, type Message, type Session, type URI, type UserAgent } from 'sip.js';
import {
  BaseLeg,
  CallFailedError,
  type Address,
  type EndReason,
  type IncomingCall,
  type Leg,
  type LegMediaCapabilities,
  type Logger,
  type PartyIdentity,
  type TransferOutcome,
} from '../../src/index.js';
import type { SipDialPolicy } from './sip-dial-policy.js';
import { BlindTransfer } from './blind-transfer.js';
import { parseDtmfInfo, dtmfInfoBody } from './dtmf-info.js';
import { DialogSessionTimer } from './dialog-session-timer.js';
import { LegDescriptions } from './leg-descriptions.js';
import { sendInvite, type InviteSessionTimer } from './outbound-invite.js';
import type { AgreedSessionTimer, SessionTimerHeaders } from './session-timer.js';
import { endSipSession } from './end-sip-session.js';
import { sipCallId } from './sip-call-id.js';
import { UpdateAnswer } from './update-answer.js';

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
  /** What sip.js gets from us next and what the party's descriptions mean. */
  readonly #descriptions = new LegDescriptions({
    answered: () => this.#answered,
    offer: (sdp) => this.emitEvent('offer', sdp),
  });
  /** The dialog's session timer (RFC 4028), whichever side refreshes. */
  readonly #timer: DialogSessionTimer;
  readonly #transfer: BlindTransfer;
  readonly #updates = new UpdateAnswer({
    dialogState: () => {
      const session = this.#session;
      const dialog = session?.dialog;
      return {
        established: session?.state === SessionState.Established && this.#answered,
        ownOfferPending: this.#descriptions.ownOfferPending,
        dialogCSeq: (dialog instanceof Core.SessionDialog ? dialog.remoteSequenceNumber : undefined) ?? 0,
      };
    },
    answerRefresh: (request, minSeconds) => this.#timer.answerPeerRefresh(request, minSeconds),
    offer: (sdp) => {
      const answer = this.#descriptions.localDescription();
      this.emitEvent('offer', sdp);
      return answer;
    },
  });

  constructor(
    readonly id: string,
    readonly address: Address,
    private readonly logger: Logger,
    private readonly options: {
      webrtc: boolean;
      /** The dial plan for transfers both ways (and the SIP URIs of the gateway's addresses). */
      dialPolicy: SipDialPolicy;
      /** Where the party's SIP comes from: its media may latch from there (NAT). */
      signalingAddress?: string;
      /** A MESSAGE inside the call's dialog (chat during the call), which sip.js would answer 200 and drop. */
      inDialogMessage: (message: Message) => void;
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
        sessionTimer?: InviteSessionTimer;
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
    this.#transfer = new BlindTransfer(
      {
        session: () => this.#session,
        isEnded: () => this.ended,
        transferred: () => this.partyEnded('hangup', 'transferred'),
        transferRequested: (target, transferId) => this.emitEvent('transfer', target, transferId),
      },
      options.dialPolicy,
      () => this.identity,
      logger,
    );
    this.signalingAddress = options.signalingAddress;
  }

  /** An outside party: its REFERs carry only the rights the dial plan gives its source address. */
  override get identity(): PartyIdentity {
    return { kind: 'external', source: this.signalingAddress };
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
    this.#descriptions.expectInvitation(options.delayedOffer);
    this.#watch(invitation);
  }

  // ------------------------------------------------------------ the gateway calls the SIP party

  /** Sends the INVITE with the offer; resolves once it is on its way. */
  async deliverCall(call: IncomingCall): Promise<void> {
    const outbound = this.options.outbound;
    if (!outbound) throw new CallFailedError('failed', 'this SIP leg cannot call out');
    await sendInvite(outbound.ua, outbound.target, call, outbound.sessionTimer, {
      started: (inviter, retry) => {
        outbound.register(inviter, this);
        this.#session = inviter;
        this.#watch(inviter);
        this.#descriptions.ownOffer(call.sdp, { renew: retry });
      },
      ringing: () => this.emitEvent('ringing'),
      earlyMedia: (sdp) => this.emitEvent('progress', sdp),
      accepted: (response, askedForTimer) => {
        this.#answered = true;
        this.#timer.peerAllows(response.getHeader('allow'));
        if (askedForTimer) this.#timer.takeFromOwnResponse(response);
        const answer = response.body || this.#descriptions.remoteAnswer;
        if (!answer) {
          this.partyEnded('incompatible-media', 'SIP 200 OK without SDP');
          return;
        }
        this.emitEvent('answered', answer);
      },
      ended: (reason, detail) => this.partyEnded(reason, detail),
    });
  }

  /**
   * A 180/183 to our INVITE that sip.js dropped for lacking a Contact (linphone's 180 does,
   * contactless-ringing.ts): the phone rings all the same, so the caller hears it does.
   */
  peerRinging(): void {
    if (this.options.outbound && !this.#answered) this.emitEvent('ringing');
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
    this.#descriptions.initialAnswer(sdp);
    this.#answered = true;
    this.#timer.publish();
    invitation.accept().then(() => this.#timer.arm(), (error: unknown) => {
      this.logger.warn({ err: error }, 'SIP accept failed');
      this.partyEnded('failed', 'could not answer the SIP call');
    });
  }

  sendCandidate(): void {
    // SIP parties get complete SDP; there is nothing to trickle.
  }

  /** A re-offer towards the SIP party (relay mode): a re-INVITE carrying it. */
  sendOffer(sdp: string): void {
    if (!this.#session || this.#session.state !== SessionState.Established) return;
    this.#descriptions.ownOffer(sdp, { renew: true });
    this.#session
      .invite({
        requestDelegate: {
          onAccept: () => {
            const answer = this.#descriptions.remoteAnswer;
            if (answer) this.emitEvent('answer', answer);
          },
        },
      })
      .catch((error: unknown) => this.logger.debug({ err: error }, 're-INVITE failed'));
  }

  sendAnswer(sdp: string): void {
    this.#descriptions.reOfferAnswer(sdp);
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
  override requestTransfer(target: string, _transferId: string, requestedBy: PartyIdentity): boolean {
    return this.#transfer.refer(target, requestedBy);
  }

  /** The REFER this party sent us: tell it how the transferred call went (NOTIFY with sipfrag, RFC 3515 section 2.4.5). */
  override transferOutcome(_transferId: string, outcome: TransferOutcome): void {
    this.#transfer.reportOutcome(outcome);
  }

  protected override release(): void {
    this.#timer.stop();
  }

  protected onEnd(reason: EndReason, detail?: string): void {
    const session = this.#session;
    if (!session) return;
    endSipSession(session, reason, (error: unknown) => this.logger.debug({ err: error }, 'ending the SIP session failed'));
    void detail;
  }

  // ------------------------------------------------------------ from the session description handler

  /** sip.js asks for our description (INVITE body, 200 OK body, re-INVITE answer). */
  localDescription(): Promise<string> {
    return this.#descriptions.localDescription();
  }

  /** sip.js hands us the party's description: our offer's answer, or a re-offer. */
  remoteDescription(sdp: string): void {
    this.#timer.arm(); // any re-INVITE from the party refreshes the session (RFC 4028 section 10)
    this.#descriptions.remoteDescription(sdp);
  }

  // ------------------------------------------------------------ UPDATE (RFC 3311), answered by the adapter

  /** Whether an in-dialog request with this dialog id belongs to this leg. */
  hasDialog(dialogId: string): boolean {
    return this.#session?.dialog?.id === dialogId;
  }

  /** The party's UPDATE (see update-answer.ts); resolves with the response. */
  receiveUpdate(request: Core.IncomingRequestMessage): Promise<Core.ResponseOptions> {
    return this.#updates.answer(request);
  }

  // ------------------------------------------------------------

  /** A session refresh by re-INVITE (RFC 4028 section 10) with the description already in force. */
  #refreshByReInvite(extraHeaders: string[], done: (response: Core.IncomingResponseMessage) => void): boolean {
    const session = this.#session;
    if (!session || !this.#descriptions.beginRefresh()) return false;
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
      onRefer: (referral) => this.#transfer.accept(referral),
      onMessage: (message) => this.options.inDialogMessage(message),
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

