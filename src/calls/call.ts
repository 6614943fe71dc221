import { CallFailedError } from '../errors/gateway-error.js';
import { TypedEmitter } from '../events/typed-emitter.js';
import { iceUfragOf, restartsIce } from '../ice/ice-ufrag.js';
import type { Logger } from '../logging/logger.js';
import type { EndReason } from '../protocol/messages.js';
import type { Leg } from './leg.js';
import type { MediaSession } from './media-session.js';

/**
 *   ringing ──answered──> active ──> ended
 *      └────────────────────────────────^
 */
export type CallState = 'ringing' | 'active' | 'ended';

export type CallEvents = {
  answered: [setupMs: number];
  /** A party asked for a blind transfer and the other party was asked to follow it. */
  transfer: [transferId: string, requester: Leg];
  ended: [reason: EndReason, detail?: string];
  /** A party re-offered with new ICE credentials (a network change, failed ICE). */
  icerestart: [from: Leg];
  listenererror: [event: string, error: unknown];
};

export interface CallOptions {
  id: string;
  caller: Leg;
  callee: Leg;
  media: MediaSession;
  ringTimeoutMs: number;
  logger: Logger;
}

/**
 * A call joins two legs. It owns both and the media session: when either leg
 * ends, the other is told with the same reason, media is closed and the call
 * emits `ended` exactly once.
 *
 * Everything a leg emits is forwarded through one queue so that order holds
 * even where translating a description is asynchronous (an anchored call's
 * answer must reach the browser before the candidates that follow it).
 */
export class Call extends TypedEmitter<CallEvents> {
  readonly id: string;
  readonly caller: Leg;
  readonly callee: Leg;
  readonly media: MediaSession;
  readonly createdAt = Date.now();
  answeredAt: number | undefined;
  #state: CallState = 'ringing';
  #queue: Promise<void> = Promise.resolve();
  /** The answer the caller got with early media: the final answer repeats it, media is set up once. */
  #earlyAnswer: { from: string; to: string } | undefined;
  #ringTimer: NodeJS.Timeout | undefined;
  readonly #logger: Logger;
  /** Each party's ICE ufrag in its last description, to tell an ICE restart in a re-offer. */
  readonly #ufrags = new Map<Leg, string | undefined>();

  constructor(options: CallOptions) {
    super();
    this.id = options.id;
    this.caller = options.caller;
    this.callee = options.callee;
    this.media = options.media;
    this.#logger = options.logger;
    this.#ringTimer = setTimeout(() => this.hangup('no-answer'), options.ringTimeoutMs);
    this.#wire(this.caller, this.callee);
    this.#wire(this.callee, this.caller);
  }

  get state(): CallState {
    return this.#state;
  }

  /** `web-sip`, `web-web`...: the label metrics use. */
  get type(): string {
    return `${this.caller.address.scheme}-${this.callee.address.scheme}`;
  }

  /** Sends the caller's offer to the callee. Failures end the call with their reason. */
  start(offerSdp: string, fromName?: string): void {
    this.#ufrags.set(this.caller, iceUfragOf(offerSdp));
    this.#enqueue(async () => {
      const outcome = await this.media.offer(this.caller, offerSdp);
      if (this.#state === 'ended') return;
      if (!('forward' in outcome)) throw new Error('an initial offer must go to the called party');
      const incoming = { callId: this.id, from: this.caller.address, sdp: outcome.forward, media: this.media.mode };
      await this.callee.deliverCall(fromName === undefined ? incoming : { ...incoming, fromName });
    });
  }

  /** Ends the call from the gateway's side (shutdown, admin, timeout). */
  hangup(reason: EndReason, detail?: string): void {
    this.#finish(reason, detail, undefined);
  }

  #wire(from: Leg, to: Leg): void {
    const isCallee = from === this.callee;
    from.on('ringing', () => {
      if (isCallee && this.#state === 'ringing') to.notifyRinging();
    });
    from.on('progress', (sdp) => {
      if (!isCallee || this.#state !== 'ringing' || this.#earlyAnswer) return;
      this.#enqueue(async () => {
        const answer = await this.media.answer(from, sdp);
        this.#earlyAnswer = { from: sdp, to: answer };
        to.notifyEarlyMedia(answer);
      });
    });
    from.on('answered', (sdp) => {
      if (!isCallee || this.#state !== 'ringing') return;
      this.#ufrags.set(from, iceUfragOf(sdp));
      this.#setActive();
      this.#enqueue(async () => {
        const early = this.#earlyAnswer;
        // RFC 3261 section 13.2.1: the 2xx repeats the early answer; media is already in place.
        if (early && (early.from === sdp || this.media.mode === 'anchor')) return to.notifyAnswered(early.to, this.media.mode);
        to.notifyAnswered(await this.media.answer(from, sdp), this.media.mode);
      });
    });
    from.on('candidate', (candidate) => {
      this.#enqueue(async () => {
        const forwarded = this.media.candidate(from, candidate);
        if (forwarded !== undefined) to.sendCandidate(forwarded);
      });
    });
    from.on('offer', (sdp) =>
      this.#enqueue(async () => {
        if (restartsIce(this.#ufrags.get(from), sdp)) {
          this.#logger.info({ callId: this.id, party: from.address.uri, media: this.media.mode }, 'ICE restart');
          this.safeEmit('icerestart', from);
        }
        this.#ufrags.set(from, iceUfragOf(sdp) ?? this.#ufrags.get(from));
        const outcome = await this.media.offer(from, sdp);
        if ('forward' in outcome) to.sendOffer(outcome.forward);
        else from.sendAnswer(outcome.answer);
      }),
    );
    from.on('answer', (sdp) => this.#enqueue(async () => to.sendAnswer(await this.media.answer(from, sdp))));
    from.on('transfer', (target, transferId) => {
      if (this.#state !== 'active') return from.transferOutcome(transferId, { state: 'failed', reason: 'failed' });
      let requested: boolean;
      try {
        requested = to.requestTransfer(target, transferId, from.identity);
      } catch (error) {
        if (!(error instanceof CallFailedError)) throw error;
        this.#logger.info({ callId: this.id, target, reason: error.reason, detail: error.detail ?? error.message }, 'transfer refused');
        return from.transferOutcome(transferId, { state: 'failed', reason: error.reason });
      }
      if (requested) this.safeEmit('transfer', transferId, from);
      else from.transferOutcome(transferId, { state: 'failed', reason: 'failed' });
    });
    from.on('dtmf', (digits) => {
      if (!this.media.dtmf(from, digits)) to.sendDtmf(digits);
    });
    from.on('ended', (reason, detail) => this.#finish(reason, detail, from));
  }

  #setActive(): void {
    this.#state = 'active';
    this.answeredAt = Date.now();
    clearTimeout(this.#ringTimer);
    // A party that vanished without a word (no BYE, no session timer, its PeerConnection gone
    // while its WebSocket lives) must not keep the call and its ports forever.
    this.media.watch((detail) => this.hangup('media-timeout', detail));
    this.safeEmit('answered', this.answeredAt - this.createdAt);
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#state === 'ended') return;
      try {
        await step();
      } catch (error) {
        const failure =
          error instanceof CallFailedError
            ? error
            : new CallFailedError('failed', `call step failed: ${(error as Error).message}`);
        if (!(error instanceof CallFailedError)) this.#logger.error({ err: error, callId: this.id }, 'call failed');
        this.#finish(failure.reason, failure.detail ?? failure.message, undefined);
      }
    });
  }

  /** `origin` is the leg whose party ended the call; it is not told again. */
  #finish(reason: EndReason, detail: string | undefined, origin: Leg | undefined): void {
    if (this.#state === 'ended') return;
    const wasRinging = this.#state === 'ringing';
    this.#state = 'ended';
    clearTimeout(this.#ringTimer);
    // A caller giving up before answer is a cancel for the callee, not a hangup.
    const told: EndReason = wasRinging && origin === this.caller && reason === 'hangup' ? 'cancelled' : reason;
    for (const leg of [this.caller, this.callee]) {
      if (leg !== origin) leg.end(told, detail);
    }
    this.media.close();
    this.#logger.info({ callId: this.id, reason: told, detail, type: this.type }, 'call ended');
    this.safeEmit('ended', told, detail);
    this.removeAllListeners();
  }
}
