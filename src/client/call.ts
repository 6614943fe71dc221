/**
 * One call of the browser SDK: its RTCPeerConnection, its media and its state
 * machine. Calls are created by SwitchboardClient (`call()` for outgoing ones,
 * the `incoming` event for incoming ones); the constructor is internal.
 *
 * States:
 *   outgoing: calling -> ringing -> connecting -> active -> ended
 *   incoming: incoming -> connecting -> active -> ended
 * `connecting` means answered (SDP exchanged), `active` means the peer
 * connection reached `connected`. Any state can go to `ended`, which is final.
 *
 * Trickle ICE lives in IceCandidateQueue, re-offers and glare in SdpNegotiation.
 */

import type { ClientEndReason, EndReason, MediaPath } from '../protocol/messages.js';
import type { AnswerOptions, CallDirection, CallEvents, CallState } from './call-events.js';
import type { CallInit, CallMessage, CallSignaling, OutgoingFrame } from './call-signaling.js';
import { callQuality, type CallQuality } from './call-quality.js';
import { sendDtmfTones, validDtmfDigits } from './dtmf.js';
import { IceCandidateQueue } from './ice-candidate-queue.js';
import { IceRecovery } from './ice-recovery.js';
import { SdpNegotiation } from './sdp-negotiation.js';
import { SwitchboardError, errorText, type RoutingFailureCode } from './switchboard-error.js';
import { TypedEmitter } from './typed-events.js';
import { getUserMediaStream } from './user-media.js';

/** `call` errors whose code is really an end reason: the destination does not exist, is offline or is refused. */
const ROUTING_FAILURES: ReadonlySet<string> = new Set<RoutingFailureCode>(['not-found', 'offline', 'forbidden']);

export class Call extends TypedEmitter<CallEvents> {
  /** The call id, shared with the gateway. */
  readonly id: string;
  readonly direction: CallDirection;
  /** The other party's address, e.g. `web:bob` or `sip:+15551234@pbx.example.com`. */
  readonly remote: string;
  /** The other party's display name, when known. */
  readonly remoteName: string | undefined;
  /** The address that was called (incoming calls). */
  readonly local: string | undefined;
  readonly pc: RTCPeerConnection;
  /** Remote tracks, gathered in one stream that stays the same for the whole call. */
  readonly remoteStream: MediaStream;
  localStream: MediaStream | undefined;
  /**
   * How media flows, as the gateway said (`incoming`, `answered`): `relay`
   * browser to browser, `anchor` through the gateway. Undefined before answer
   * for outgoing calls, and with gateways that do not say.
   */
  mediaPath: MediaPath | undefined;

  state: CallState;
  endReason: ClientEndReason | undefined;
  endDetail: string | undefined;
  muted = false;
  onHold = false;
  readonly createdAt = new Date();
  /** When the call was answered (state `connecting`). */
  answeredAt: Date | undefined;
  /** When the media connection first came up (state `active`). */
  connectedAt: Date | undefined;
  endedAt: Date | undefined;

  private readonly signaling: CallSignaling;
  /** Whether the SDK acquired `localStream` itself, and so must stop it. */
  private ownsLocalStream = false;
  private readonly candidates: IceCandidateQueue;
  private readonly negotiation: SdpNegotiation;
  private readonly iceRecovery: IceRecovery;
  private answering = false;
  /** ICE restarts this call made (see `restartIce()`). */
  iceRestarts = 0;

  /** @internal Calls are created by SwitchboardClient. */
  constructor(init: CallInit) {
    super();
    this.id = init.id;
    this.direction = init.direction;
    this.remote = init.remote;
    this.remoteName = init.remoteName;
    this.local = init.local;
    this.mediaPath = init.mediaPath;
    this.signaling = init.signaling;
    this.state = init.direction === 'outgoing' ? 'calling' : 'incoming';
    this.remoteStream = new MediaStream();
    this.pc = new RTCPeerConnection(init.rtcConfig);
    this.candidates = new IceCandidateQueue(
      this.pc,
      (candidate) => this.fireAndForget({ type: 'candidate', callId: this.id, candidate }),
      () => this.live,
    );
    this.negotiation = new SdpNegotiation({
      pc: this.pc,
      callId: this.id,
      direction: this.direction,
      state: () => this.state,
      live: () => this.live,
      request: (frame) => this.signaling.request(frame),
      fireAndForget: (frame) => this.fireAndForget(frame),
      remoteDescriptionSet: () => this.candidates.flushRemoteCandidates(),
      report: (error) => this.signaling.report(error),
      endedError: () => this.endedError(),
    });
    this.pc.addEventListener('icecandidate', (event) => this.candidates.onLocalCandidate(event.candidate));
    this.pc.addEventListener('track', (event) => this.onTrack(event.track));
    this.pc.addEventListener('connectionstatechange', () => this.onConnectionStateChange());
    this.iceRecovery = new IceRecovery(this.pc, {
      active: () => this.state === 'active',
      restart: () => this.restartIce(),
      giveUp: (detail) => this.hangupAs('failed', detail),
    });
  }

  /** True until the call has ended. */
  get live(): boolean {
    return this.state !== 'ended';
  }

  // ------------------------------------------------------------------ public API

  /** Answers an incoming call: gets the microphone, sends `accept`, resolves on the gateway's ack. */
  async answer(options: AnswerOptions = {}): Promise<void> {
    if (this.direction !== 'incoming' || this.state !== 'incoming' || this.answering) {
      throw new SwitchboardError('invalid-state', `cannot answer a call in state ${this.state}`, { callId: this.id });
    }
    this.answering = true;
    try {
      const stream = options.stream ?? (await getUserMediaStream(options.audio ?? true, options.video ?? false));
      if (!this.live) {
        if (!options.stream) stream.getTracks().forEach((track) => track.stop());
        throw this.endedError();
      }
      this.attachLocalStream(stream, !options.stream);
      let sdp = '';
      await this.negotiation.enqueue(async () => {
        if (!this.live) return;
        await this.pc.setLocalDescription(await this.pc.createAnswer());
        sdp = this.pc.localDescription?.sdp ?? '';
      });
      if (!this.live) throw this.endedError();
      const ack = this.signaling.request({ type: 'accept', callId: this.id, sdp });
      this.candidates.startLocalSignaling();
      this.answeredAt = new Date();
      this.setState('connecting');
      this.emit('answered');
      this.checkConnected();
      try {
        await ack;
      } catch (err) {
        this.terminate('failed', errorText(err));
        throw err;
      }
    } catch (err) {
      if (err instanceof SwitchboardError) throw err;
      // WebRTC refused to create the answer: nothing was accepted, so refuse the call.
      if (this.live) this.refuse('incompatible-media', errorText(err));
      throw new SwitchboardError('media-failed', `could not answer: ${errorText(err)}`, { callId: this.id, cause: err });
    } finally {
      this.answering = false;
    }
  }

  /** Refuses an incoming call that has not been answered yet. */
  reject(reason: 'busy' | 'declined' = 'declined'): void {
    if (!this.live) return;
    if (this.direction !== 'incoming' || this.state !== 'incoming') {
      throw new SwitchboardError('invalid-state', `cannot reject a call in state ${this.state}`, { callId: this.id });
    }
    this.fireAndForget({ type: 'reject', callId: this.id, reason });
    this.terminate(reason);
  }

  /**
   * Ends the call: cancels an outgoing call that is not answered yet, declines
   * an incoming one, hangs up an answered one. Does nothing once ended.
   */
  hangup(): void {
    if (!this.live) return;
    if (this.state === 'incoming') {
      this.reject('declined');
      return;
    }
    this.hangupAs(this.answeredAt ? 'hangup' : 'cancelled');
  }

  /**
   * Switches the microphone during the call (e.g. `{ deviceId: { exact: id } }` from
   * enumerateDevices): the new track replaces the old one in the peer connection
   * without renegotiation, keeps the mute state, and the old one is stopped if the
   * SDK had opened it.
   */
  async setMicrophone(constraints: MediaTrackConstraints): Promise<void> {
    if (!this.live) throw this.endedError();
    const stream = await getUserMediaStream(constraints, false);
    const [track] = stream.getAudioTracks();
    const sender = this.audioTransceiver()?.sender;
    if (!track || !this.live || !sender) {
      stream.getTracks().forEach((t) => t.stop());
      throw this.live ? new SwitchboardError('media-failed', 'no microphone track to send', { callId: this.id }) : this.endedError();
    }
    track.enabled = !this.muted;
    await sender.replaceTrack(track);
    const previous = this.localStream;
    if (this.ownsLocalStream) previous?.getAudioTracks().forEach((t) => t.stop());
    this.localStream = new MediaStream([track, ...(previous?.getVideoTracks() ?? [])]);
    this.ownsLocalStream = true;
  }

  /** Mutes or unmutes the local audio (the track keeps running; silence is sent). */
  setMuted(muted: boolean): void {
    this.muted = muted;
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = !muted;
  }

  /** Blind transfer: asks the other party to call `to` instead (a SIP party gets a REFER). */
  async transfer(to: string): Promise<void> {
    await this.signaling.request({ type: 'transfer', callId: this.id, to });
  }

  /**
   * Sends DTMF digits (0-9, *, #, A-D): in-band as RFC 4733 events through the
   * audio sender's RTCDTMFSender when it can insert DTMF, otherwise as a `dtmf`
   * frame. Returns which of the two was used.
   */
  sendDtmf(digits: string): 'rtp' | 'signaling' {
    const tones = validDtmfDigits(digits);
    if (this.state !== 'connecting' && this.state !== 'active') {
      throw new SwitchboardError('invalid-state', `cannot send DTMF in state ${this.state}`, { callId: this.id });
    }
    return sendDtmfTones(this.audioTransceiver()?.sender.dtmf, tones, (chunk) =>
      this.fireAndForget({ type: 'dtmf', callId: this.id, digits: chunk }),
    );
  }

  /**
   * Puts the call on hold (audio direction `sendonly`) or resumes it
   * (`sendrecv`) with a re-offer; resolves when the other side answered it.
   */
  async hold(onHold: boolean): Promise<void> {
    if (this.state !== 'connecting' && this.state !== 'active') {
      throw new SwitchboardError('invalid-state', `cannot change hold in state ${this.state}`, { callId: this.id });
    }
    await this.negotiation.renegotiate(() => {
      const transceiver = this.audioTransceiver();
      if (transceiver) transceiver.direction = onHold ? 'sendonly' : 'sendrecv';
    });
    this.onHold = onHold;
  }

  /**
   * Restarts ICE (RFC 8445 section 9) with a re-offer carrying new credentials and candidates;
   * resolves when the other side answered. The SDK does this by itself when ICE stays
   * disconnected, fails, or the network changes; an anchored call gets a new DTLS-SRTP session with
   * the gateway too, a relayed one goes on end to end.
   */
  async restartIce(): Promise<void> {
    if (this.state !== 'active') {
      throw new SwitchboardError('invalid-state', `cannot restart ICE in state ${this.state}`, { callId: this.id });
    }
    this.iceRestarts += 1;
    await this.negotiation.renegotiate(() => this.pc.restartIce());
  }

  /** @internal The network changed (an `online` event) or the signaling came back (`down`: only if ICE is down). */
  networkChanged(onlyIfDown: boolean): void {
    if (onlyIfDown) this.iceRecovery.restartIfDown();
    else this.iceRecovery.restartNow();
  }

  /** The peer connection's statistics. */
  getStats(): Promise<RTCStatsReport> {
    return this.pc.getStats();
  }

  /** Codec, round-trip time, jitter, loss, levels and ICE path, read from `getStats()` now. */
  async quality(): Promise<CallQuality> {
    return callQuality(await this.pc.getStats());
  }

  // ------------------------------------------------------------------ internal: setup by the client

  /** @internal Adds the local media; `owned` streams are stopped when the call ends. */
  attachLocalStream(stream: MediaStream, owned: boolean): void {
    this.localStream = stream;
    this.ownsLocalStream = owned;
    for (const track of stream.getTracks()) {
      if (track.kind === 'audio') track.enabled = !this.muted;
      this.pc.addTrack(track, stream);
    }
  }

  /**
   * @internal Outgoing calls: creates the offer and sends `call`; resolves on
   * the gateway's ack. On failure the call is ended and the error rethrown.
   */
  async start(to: string, transferId?: string): Promise<void> {
    try {
      if (!this.audioTransceiver()) this.pc.addTransceiver('audio', { direction: 'recvonly' });
      let sdp = '';
      await this.negotiation.enqueue(async () => {
        await this.pc.setLocalDescription(await this.pc.createOffer());
        sdp = this.pc.localDescription?.sdp ?? '';
      });
      if (!this.live) throw this.endedError();
      // Candidates follow the ack: a call the gateway refuses (forbidden, offline) never had any.
      await this.signaling.request({ type: 'call', callId: this.id, to, sdp, ...(transferId ? { transferId } : {}) });
      this.candidates.startLocalSignaling();
    } catch (err) {
      const error =
        err instanceof SwitchboardError
          ? err
          : new SwitchboardError('media-failed', `could not create the offer: ${errorText(err)}`, {
              callId: this.id,
              cause: err,
            });
      // The gateway refused the call (or it was never sent): there is nothing to hang up,
      // unless the gateway just did not reply in time. Routing failures come as error
      // frames whose code is an end reason (`offline`, `not-found`, `forbidden`).
      const code = error.code;
      if (code === 'timeout') this.hangupAs('failed', error.message);
      else if (ROUTING_FAILURES.has(code)) this.terminate(code as RoutingFailureCode, error.message);
      else this.terminate('failed', `${error.code}: ${error.message}`);
      throw error;
    }
  }

  /**
   * @internal Incoming calls: applies the offer. Returns false (and ends the
   * call, refusing it at the gateway) when the browser cannot use it.
   */
  async applyInitialOffer(sdp: string): Promise<boolean> {
    try {
      await this.negotiation.enqueue(async () => {
        await this.pc.setRemoteDescription({ type: 'offer', sdp });
        this.candidates.flushRemoteCandidates();
      });
      return this.live;
    } catch (err) {
      if (this.live) this.refuse('incompatible-media', errorText(err));
      return false;
    }
  }

  /** @internal Sends `ringing` for an incoming call. */
  sendRinging(): void {
    this.fireAndForget({ type: 'ringing', callId: this.id });
  }

  /** @internal A gateway frame addressed to this call. Never throws. */
  handleMessage(msg: CallMessage): void {
    if (!this.live) return;
    switch (msg.type) {
      case 'ringing':
        if (this.direction === 'outgoing' && this.state === 'calling') {
          this.setState('ringing');
          this.emit('ringing');
        }
        return;
      case 'progress':
        if (typeof msg.sdp === 'string') this.onFirstAnswer('pranswer', msg.sdp);
        return;
      case 'answered':
        if (msg.media === 'relay' || msg.media === 'anchor') this.mediaPath = msg.media;
        if (typeof msg.sdp === 'string') this.onFirstAnswer('answer', msg.sdp);
        return;
      case 'ended':
        this.terminate(typeof msg.reason === 'string' ? msg.reason : 'failed', typeof msg.detail === 'string' ? msg.detail : undefined);
        return;
      case 'candidate':
        if (msg.candidate === null || (typeof msg.candidate === 'object' && typeof msg.candidate?.candidate === 'string')) {
          this.candidates.onRemoteCandidate(msg.candidate);
        }
        return;
      case 'offer':
        if (typeof msg.sdp === 'string') this.negotiation.onRemoteOffer(msg.sdp);
        return;
      case 'answer':
        if (typeof msg.sdp === 'string') this.negotiation.onRemoteAnswer(msg.sdp);
        return;
      case 'dtmf':
        if (typeof msg.digits === 'string') this.emit('dtmf', msg.digits);
        return;
      case 'transfer':
        if (typeof msg.to === 'string' && typeof msg.transferId === 'string') this.emit('transfer', msg.to, msg.transferId);
        return;
      case 'error':
        this.emit('error', new SwitchboardError(msg.code, msg.message, { callId: this.id }));
        return;
      default:
        return;
    }
  }

  /** @internal Ends the call without telling the gateway (e.g. the WebSocket closed). */
  terminate(reason: ClientEndReason, detail?: string): void {
    if (!this.live) return;
    this.endReason = reason;
    this.endDetail = detail;
    this.endedAt = new Date();
    this.negotiation.abort(this.endedError());
    this.iceRecovery.stop();
    try {
      this.pc.close();
    } catch {
      // already closed
    }
    if (this.ownsLocalStream) this.localStream?.getTracks().forEach((track) => track.stop());
    this.candidates.stop();
    this.signaling.release(this);
    this.setState('ended');
    this.emit('ended', reason, detail);
  }

  // ------------------------------------------------------------------ internal

  /**
   * The callee's answer to our first offer: `pranswer` is early media (a SIP 183:
   * ringback plays before answer), `answer` the final one.
   */
  private onFirstAnswer(type: 'pranswer' | 'answer', sdp: string): void {
    if (this.direction !== 'outgoing' || (this.state !== 'calling' && this.state !== 'ringing')) return;
    this.negotiation
      .enqueue(async () => {
        if (!this.live) return;
        await this.pc.setRemoteDescription({ type, sdp });
        this.candidates.flushRemoteCandidates();
        if (type === 'pranswer') {
          if (this.state === 'calling') this.setState('ringing');
          this.emit('progress');
          return;
        }
        this.answeredAt = new Date();
        this.setState('connecting');
        this.emit('answered');
        this.checkConnected();
      })
      .catch((err) => {
        // The browser refused the description: a failure for the other party too, not a hangup.
        if (this.live) this.hangupAs('media-failed', `the browser refused the answer: ${errorText(err)}`);
      });
  }

  /** Declines an unanswered incoming call for a reason of our own. */
  private refuse(reason: EndReason, detail?: string): void {
    this.fireAndForget({ type: 'reject', callId: this.id, reason: reason === 'incompatible-media' ? reason : 'declined' });
    this.terminate(reason, detail);
  }

  private hangupAs(reason: EndReason, detail?: string): void {
    const failure = reason === 'incompatible-media' || reason === 'media-failed' || reason === 'failed';
    this.fireAndForget({ type: 'hangup', callId: this.id, ...(failure ? { reason, ...(detail ? { detail: detail.slice(0, 300) } : {}) } : {}) });
    this.terminate(reason, detail);
  }

  /** Sends a frame whose failure only matters while the call lives. */
  private fireAndForget(frame: OutgoingFrame): void {
    this.signaling.request(frame).catch((err: unknown) => {
      if (!this.live || !(err instanceof SwitchboardError)) return;
      if (err.code === 'timeout' || err.code === 'connection-closed' || err.code === 'not-connected') return;
      this.emit('error', err);
      this.signaling.report(err);
    });
  }

  private onTrack(track: MediaStreamTrack): void {
    if (!this.live) return;
    if (!this.remoteStream.getTrackById(track.id)) this.remoteStream.addTrack(track);
    this.emit('remotestream', this.remoteStream);
  }

  private onConnectionStateChange(): void {
    if (!this.live) return;
    if (this.pc.connectionState === 'failed') {
      // An answered call tries an ICE restart first (IceRecovery ends it if that does not help).
      if (this.state === 'active') this.iceRecovery.restartNow();
      else this.hangupAs('failed', 'ICE/DTLS connection failed');
      return;
    }
    this.checkConnected();
  }

  private checkConnected(): void {
    if (this.state === 'connecting' && this.pc.connectionState === 'connected') {
      this.connectedAt = new Date();
      this.setState('active');
    }
  }

  private audioTransceiver(): RTCRtpTransceiver | undefined {
    return this.pc
      .getTransceivers()
      .find((t) => t.receiver.track.kind === 'audio' && t.currentDirection !== 'stopped' && t.direction !== 'stopped');
  }

  private setState(state: CallState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('statechange', state);
  }

  private endedError(): SwitchboardError {
    return new SwitchboardError('call-ended', `the call ended (${this.endReason ?? 'ended'})`, { callId: this.id });
  }
}
