import type { Address } from '../../src/calls/address.js';
import { BaseLeg, type IncomingCall, type Leg, type LegMediaCapabilities } from '../../src/calls/leg.js';
import { CallFailedError } from '../../src/errors/gateway-error.js';
import type { EndReason } from '../../src/protocol/messages.js';
import type { Gateway } from '../../src/gateway.js';
import { RtpTonePeer } from '../../src/testing/rtp-tone-peer.js';

/**
 * The signaling half of a plain-RTP party in tests: hands SDP to a real
 * RtpTonePeer (a UDP socket playing a tone) and back, the way the SIP adapter
 * does for a desk phone. The media is real; only the signaling is in-process.
 */
export class RtpPeerLeg extends BaseLeg implements Leg {
  readonly capabilities: LegMediaCapabilities = { webrtc: false, trickle: false };
  /** The SDP the gateway offered this party (its RTP address and port). */
  receivedOffer: string | undefined;
  readonly dtmfSignaled: string[] = [];
  endReason: EndReason | undefined;
  endDetail: string | undefined;
  #answerWaiters: ((sdp: string) => void)[] = [];

  constructor(
    readonly id: string,
    readonly address: Address,
    public peer: RtpTonePeer,
    private readonly options: { answerSdp?: (offer: string) => string; signalingAddress?: string } = {},
  ) {
    super();
    this.signalingAddress = options.signalingAddress;
  }

  readonly signalingAddress: string | undefined;

  async deliverCall(call: IncomingCall): Promise<void> {
    this.receivedOffer = call.sdp;
    let answer: string;
    try {
      answer = this.options.answerSdp ? this.options.answerSdp(call.sdp) : this.peer.answerSdp(call.sdp);
    } catch (error) {
      // What a phone does with an offer it cannot use: 488 Not Acceptable Here.
      throw new CallFailedError('incompatible-media', (error as Error).message);
    }
    setImmediate(() => {
      this.emitEvent('ringing');
      this.emitEvent('answered', answer);
      if (!this.ended && (!this.options.answerSdp || this.options.signalingAddress)) this.peer.start();
    });
  }

  /** This party placed the call: the gateway's answer tells the peer where to send. */
  notifyAnswered(sdp: string): void {
    this.peer.setRemoteFromAnswer(sdp);
    this.peer.start();
  }

  /** Sends a re-offer (hold, resume, new address) and resolves with the gateway's answer. */
  reoffer(sdp: string): Promise<string> {
    const answered = new Promise<string>((resolve) => this.#answerWaiters.push(resolve));
    this.emitEvent('offer', sdp);
    return answered;
  }

  sendAnswer(sdp: string): void {
    this.#answerWaiters.shift()?.(sdp);
  }

  sendDtmf(digits: string): void {
    this.dtmfSignaled.push(digits);
  }

  hangup(): void {
    this.partyEnded('hangup');
  }

  notifyRinging(): void {}
  sendCandidate(): void {}
  sendOffer(): void {}

  protected onEnd(reason: EndReason, detail?: string): void {
    this.endReason = reason;
    this.endDetail = detail;
  }

  protected override release(): void {
    void this.peer.close();
  }
}

/**
 * Makes `tel:` numbers reach plain-RTP phones playing a 440 Hz tone, as a SIP trunk would; each
 * leg made goes into `legs` (the test closes their peers).
 */
export function routeTelToTonePhones(gateway: Gateway, legs: RtpPeerLeg[]): void {
  gateway.router.register(['tel'], {
    createLeg: async ({ callId, target }) => {
      const leg = new RtpPeerLeg(callId, target, await RtpTonePeer.create({ toneHz: 440, amplitude: 0.3 }));
      legs.push(leg);
      return leg;
    },
  });
}
