/**
 * Trickle ICE for one call (docs/protocol.md, "Flows"): local candidates wait
 * until the gateway knows the call (an outgoing call's `call` frame is acked,
 * an incoming call's `accept` has gone out), because it has nothing to give
 * them to before, and a refused call would earn one `unknown-call` error per
 * candidate; remote candidates wait until a remote description is set,
 * because addIceCandidate needs one. Once the call ends (`stop()`), nothing
 * more is sent.
 */

import type { IceCandidate } from '../protocol/messages.js';

function toIceCandidate(candidate: RTCIceCandidate): IceCandidate {
  const json = candidate.toJSON();
  return {
    candidate: json.candidate ?? candidate.candidate,
    sdpMid: json.sdpMid ?? null,
    sdpMLineIndex: json.sdpMLineIndex ?? null,
    usernameFragment: json.usernameFragment ?? null,
  };
}

export class IceCandidateQueue {
  private localSignalingStarted = false;
  private stopped = false;
  private readonly localCandidates: (IceCandidate | null)[] = [];
  private readonly remoteCandidates: (IceCandidate | null)[] = [];

  constructor(
    private readonly pc: RTCPeerConnection,
    /** Sends one local candidate (`null`: the last one) to the gateway. */
    private readonly send: (candidate: IceCandidate | null) => void,
    private readonly live: () => boolean,
  ) {}

  /** The call's first frame went out: local candidates flow from now on. */
  startLocalSignaling(): void {
    if (this.stopped) return;
    this.localSignalingStarted = true;
    for (const candidate of this.localCandidates.splice(0)) this.send(candidate);
  }

  /** The peer connection's `icecandidate` event. */
  onLocalCandidate(candidate: RTCIceCandidate | null): void {
    if (this.stopped || !this.live()) return;
    // Some browsers mark the end of a generation with an empty candidate; the null one follows.
    if (candidate && !candidate.candidate) return;
    const frame = candidate ? toIceCandidate(candidate) : null;
    if (this.localSignalingStarted) this.send(frame);
    else this.localCandidates.push(frame);
  }

  /** A `candidate` frame from the other party. */
  onRemoteCandidate(candidate: IceCandidate | null): void {
    if (!this.pc.remoteDescription) {
      this.remoteCandidates.push(candidate);
      return;
    }
    this.addRemoteCandidate(candidate);
  }

  /** A remote description was just set: apply the candidates that came before it. */
  flushRemoteCandidates(): void {
    for (const candidate of this.remoteCandidates.splice(0)) this.addRemoteCandidate(candidate);
  }

  /** The call ended: drops what waits and sends nothing from now on. */
  stop(): void {
    this.stopped = true;
    this.localCandidates.length = 0;
    this.remoteCandidates.length = 0;
  }

  private addRemoteCandidate(candidate: IceCandidate | null): void {
    // A candidate the browser cannot use (other network, unknown m-line) is not fatal.
    const added = candidate ? this.pc.addIceCandidate(candidate) : this.pc.addIceCandidate();
    added.catch((err: unknown) => {
      if (this.live() && candidate) console.debug('switchboard: ignored remote candidate', candidate.candidate, err);
    });
  }
}
