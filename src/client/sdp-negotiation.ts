/**
 * Offer/answer on one call's peer connection once the first exchange is done:
 * every operation runs one at a time, our own re-offers (hold, resume) wait for
 * the other side's answer, and glare is resolved like WebRTC "perfect
 * negotiation" (docs/protocol.md, "Renegotiation"): the gateway does not
 * arbitrate, so the callee side rolls back its own offer, answers, and offers
 * again, while the caller side ignores the callee's colliding offer.
 */

import type { CallDirection, CallState } from './call-events.js';
import type { OutgoingFrame } from './call-signaling.js';
import { SwitchboardError, errorText } from './switchboard-error.js';

const RENEGOTIATION_TIMEOUT_MS = 15_000;

/** What the negotiation needs from its call. */
export interface NegotiationContext {
  readonly pc: RTCPeerConnection;
  readonly callId: string;
  readonly direction: CallDirection;
  state(): CallState;
  live(): boolean;
  /** Sends a frame and resolves on its ack. */
  request(frame: OutgoingFrame): Promise<unknown>;
  /** Sends a frame whose failure only matters while the call lives. */
  fireAndForget(frame: OutgoingFrame): void;
  /** A remote description was set: queued remote candidates can be applied. */
  remoteDescriptionSet(): void;
  /** Reports an error nobody awaits. */
  report(error: SwitchboardError): void;
  endedError(): SwitchboardError;
}

interface PendingOffer {
  prepare: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class SdpNegotiation {
  /** Serializes every offer/answer operation on the peer connection. */
  private chain: Promise<void> = Promise.resolve();
  /** Serializes our own re-offers (hold/resume). */
  private offerChain: Promise<void> = Promise.resolve();
  private pendingOffer: PendingOffer | undefined;

  constructor(private readonly call: NegotiationContext) {}

  /** Runs `op` after every earlier offer/answer operation. */
  enqueue(op: () => Promise<void>): Promise<void> {
    const result = this.chain.then(op);
    this.chain = result.catch(() => undefined);
    return result;
  }

  /** Runs `prepare` then re-offers; resolves when the answer is applied. Re-offers run one at a time. */
  renegotiate(prepare: () => void): Promise<void> {
    const run = () =>
      new Promise<void>((resolve, reject) => {
        if (!this.call.live()) {
          reject(this.call.endedError());
          return;
        }
        const timer = setTimeout(() => {
          if (this.pendingOffer?.timer !== timer) return;
          this.pendingOffer = undefined;
          void this.enqueue(() => this.rollback());
          reject(new SwitchboardError('timeout', 'the other side did not answer the re-offer', { callId: this.call.callId }));
        }, RENEGOTIATION_TIMEOUT_MS);
        this.pendingOffer = { prepare, resolve, reject, timer };
        this.sendPendingOffer();
      });
    const result = this.offerChain.then(run, run);
    this.offerChain = result.catch(() => undefined);
    return result;
  }

  /** An `offer` frame from the other party. */
  onRemoteOffer(sdp: string): void {
    const { pc } = this.call;
    this.enqueue(async () => {
      if (!this.call.live()) return;
      const state = this.call.state();
      if (state === 'incoming') {
        // Not answered yet: the new offer replaces the first; `accept` answers it.
        await pc.setRemoteDescription({ type: 'offer', sdp });
        this.call.remoteDescriptionSet();
        return;
      }
      if (state === 'calling' || state === 'ringing') return; // our offer is unanswered
      let rolledBack = false;
      if (pc.signalingState === 'have-local-offer') {
        // Glare: the callee side yields (rolls back its re-offer and sends it again afterwards).
        if (this.call.direction === 'outgoing') return;
        await pc.setLocalDescription({ type: 'rollback' });
        rolledBack = true;
      }
      await pc.setRemoteDescription({ type: 'offer', sdp });
      this.call.remoteDescriptionSet();
      await pc.setLocalDescription(await pc.createAnswer());
      this.call.fireAndForget({ type: 'answer', callId: this.call.callId, sdp: pc.localDescription?.sdp ?? '' });
      if (rolledBack && this.pendingOffer) this.sendPendingOffer();
    }).catch((err) => {
      if (!this.call.live()) return;
      this.call.report(
        new SwitchboardError('media-failed', `could not apply the re-offer: ${errorText(err)}`, { callId: this.call.callId }),
      );
    });
  }

  /** An `answer` frame: the other party's answer to our re-offer. */
  onRemoteAnswer(sdp: string): void {
    const { pc } = this.call;
    this.enqueue(async () => {
      const pending = this.pendingOffer;
      if (!this.call.live() || pc.signalingState !== 'have-local-offer' || !pending) return;
      clearTimeout(pending.timer);
      this.pendingOffer = undefined;
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp });
      } catch (err) {
        await this.rollback();
        pending.reject(
          new SwitchboardError('media-failed', `could not apply the answer: ${errorText(err)}`, { callId: this.call.callId, cause: err }),
        );
        return;
      }
      this.call.remoteDescriptionSet();
      pending.resolve();
    }).catch(() => undefined);
  }

  /** The call ended: a re-offer still waiting for its answer fails with `error`. */
  abort(error: SwitchboardError): void {
    const pending = this.pendingOffer;
    this.pendingOffer = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  private sendPendingOffer(): void {
    const pending = this.pendingOffer;
    if (!pending) return;
    const { pc } = this.call;
    this.enqueue(async () => {
      if (!this.call.live() || this.pendingOffer !== pending) return;
      pending.prepare();
      await pc.setLocalDescription(await pc.createOffer());
      const sdp = pc.localDescription?.sdp ?? '';
      this.call.request({ type: 'offer', callId: this.call.callId, sdp }).catch((err: unknown) => {
        if (this.pendingOffer !== pending) return;
        clearTimeout(pending.timer);
        this.pendingOffer = undefined;
        void this.enqueue(() => this.rollback());
        pending.reject(err);
      });
    }).catch((err) => {
      if (this.pendingOffer !== pending) return;
      clearTimeout(pending.timer);
      this.pendingOffer = undefined;
      pending.reject(new SwitchboardError('media-failed', `could not create the re-offer: ${errorText(err)}`, { callId: this.call.callId }));
    });
  }

  private async rollback(): Promise<void> {
    if (this.call.live() && this.call.pc.signalingState === 'have-local-offer') {
      try {
        await this.call.pc.setLocalDescription({ type: 'rollback' });
      } catch {
        // nothing more to do
      }
    }
  }
}
