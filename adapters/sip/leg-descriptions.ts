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

/** What the descriptions need from their SIP leg. */
export interface LegDescriptionsHost {
  /** Whether the call is answered, after which the party's descriptions are re-offers. */
  answered(): boolean;
  /** The party's description is an offer for the call to answer. */
  offer(sdp: string): void;
}

/**
 * The offer/answer state of a SIP leg between sip.js's session description
 * handler and the call: which description sip.js gets next from us, and what
 * the party's descriptions are (our offer's answer, the initial offer again,
 * a re-offer, the answer our refresh brings back).
 */
export class LegDescriptions {
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
  /** Set while our own refresh re-INVITE is out, so its answer is not taken for a change. */
  #refreshing = false;

  constructor(private readonly host: LegDescriptionsHost) {}

  /** The party's answer to our last offer, once it came. */
  get remoteAnswer(): string | undefined {
    return this.#remoteAnswer;
  }

  /** Whether an offer of ours (a re-offer or a refresh) awaits the party's answer. */
  get ownOfferPending(): boolean {
    return this.#awaitingAnswer || this.#refreshing;
  }

  /** An incoming INVITE: its offer (the call has it already), or for a delayed offer the ACK's answer, comes next. */
  expectInvitation(delayedOffer: boolean): void {
    this.#initialOfferPending = !delayedOffer;
    this.#awaitingAckAnswer = delayedOffer;
  }

  /** Our offer goes out (INVITE or re-INVITE); `renew` when the previous description was given already. */
  ownOffer(sdp: string, options: { renew: boolean }): void {
    if (options.renew) this.#local = pending();
    this.#local.resolve(sdp);
    this.#awaitingAnswer = true;
  }

  /** The call's answer to the INVITE's offer, for the 2xx. */
  initialAnswer(sdp: string): void {
    this.#local.resolve(sdp);
  }

  /** The call's answer to a re-offer, unless it answers the ACK's answer (see remoteDescription). */
  reOfferAnswer(sdp: string): void {
    if (this.#dropNextAnswer) {
      this.#dropNextAnswer = false;
      return;
    }
    this.#local.resolve(sdp);
  }

  /** A refresh re-INVITE offers the description in force again; false before there is one. */
  beginRefresh(): boolean {
    if (!this.#lastLocal) return false;
    this.#local = pending();
    this.#local.resolve(this.#lastLocal);
    this.#refreshing = true;
    return true;
  }

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
      this.host.offer(sdp);
      return;
    }
    if (this.host.answered()) this.host.offer(sdp);
  }
}
