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
 */

import type {
  ClientMessage,
  EndReason,
  ErrorCode,
  ErrorMessage,
  IceCandidate,
  ServerMessage,
} from '../protocol/messages.js';
import { TypedEmitter } from './typed-events.js';

export type CallState = 'calling' | 'ringing' | 'incoming' | 'connecting' | 'active' | 'ended';
export type CallDirection = 'outgoing' | 'incoming';

/** Error codes raised by the SDK itself rather than by the gateway. */
export type ClientErrorCode =
  | 'not-connected' // the WebSocket is not open
  | 'connection-closed' // the WebSocket closed while the request was pending
  | 'timeout' // no reply to a request in time
  | 'call-ended' // the call ended while the operation was in progress
  | 'media-failed'; // getUserMedia or WebRTC refused

/**
 * The gateway refuses a `call` to a destination that does not exist, is offline
 * or is forbidden with an `error` frame whose code is that end reason.
 */
export type RoutingFailureCode = Extract<EndReason, 'not-found' | 'offline' | 'forbidden'>;

export type SwitchboardErrorCode = ErrorCode | RoutingFailureCode | ClientErrorCode;

/** Error of a request the gateway refused (`error` frame), or of the SDK itself. */
export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError';
  readonly code: SwitchboardErrorCode;
  /** Call the error concerns, when known. */
  readonly callId: string | undefined;

  constructor(code: SwitchboardErrorCode, message: string, options: { callId?: string; cause?: unknown } = {}) {
    super(message);
    this.code = code;
    this.callId = options.callId;
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

export interface CallEvents {
  statechange: [state: CallState];
  /** The callee's device is ringing (outgoing calls). */
  ringing: [];
  /** Early media from the callee (ringback, announcements) is playing, before answer. */
  progress: [];
  /** The call was answered: by the remote party (outgoing) or by `answer()` (incoming). */
  answered: [];
  ended: [reason: EndReason, detail: string | undefined];
  /** A remote track was added to `remoteStream` (the same object every time). */
  remotestream: [stream: MediaStream];
  /** DTMF digits the other party sent as a `dtmf` frame (e.g. SIP INFO). */
  dtmf: [digits: string];
  /**
   * The other party transferred this user to `to` (e.g. a SIP REFER). Follow it with
   * `client.call(to, { transferId })` and hang this call up; the demo page does so.
   */
  transfer: [to: string, transferId: string];
  /** The gateway reported an error about this call. */
  error: [error: SwitchboardError];
}

export interface AnswerOptions {
  /** Media to send; the SDK does not stop its tracks. Default: a new getUserMedia stream. */
  stream?: MediaStream;
  /** Ask getUserMedia for audio (default true). Ignored with `stream`. */
  audio?: boolean;
  /** Ask getUserMedia for video (default false). Ignored with `stream`. */
  video?: boolean;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A client frame without its request id: the client assigns it. */
export type OutgoingFrame = DistributiveOmit<ClientMessage, 'id'>;

/** What a call needs from the client. Internal. */
export interface CallSignaling {
  /** Sends a frame with a fresh `id`; resolves on `ack`, rejects with a SwitchboardError. */
  request(frame: OutgoingFrame): Promise<unknown>;
  /** Called once when the call ends, so the client forgets it. */
  release(call: Call): void;
  /** Reports an error nobody awaits (the client's `error` event). */
  report(error: SwitchboardError): void;
}

/** Internal constructor options. */
export interface CallInit {
  id: string;
  direction: CallDirection;
  remote: string;
  remoteName?: string;
  local?: string;
  rtcConfig: RTCConfiguration;
  signaling: CallSignaling;
}

/** Messages addressed to a call. */
export type CallMessage = Extract<ServerMessage, { callId: string }> | ErrorMessage;

interface PendingOffer {
  prepare: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

const DTMF_DIGITS = /^[0-9A-D*#]+$/;
/** `call` errors whose code is really an end reason: the destination does not exist, is offline or is refused. */
const ROUTING_FAILURES: ReadonlySet<string> = new Set<RoutingFailureCode>(['not-found', 'offline', 'forbidden']);
const RENEGOTIATION_TIMEOUT_MS = 15_000;

/** getUserMedia wrapped so failures become SwitchboardErrors. */
export async function getUserMediaStream(audio: boolean, video: boolean): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new SwitchboardError('media-failed', 'getUserMedia is not available (is the page served over https?)');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ audio, video });
  } catch (err) {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new SwitchboardError('media-failed', `could not get the microphone/camera (${detail})`, { cause: err });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toIceCandidate(candidate: RTCIceCandidate): IceCandidate {
  const json = candidate.toJSON();
  return {
    candidate: json.candidate ?? candidate.candidate,
    sdpMid: json.sdpMid ?? null,
    sdpMLineIndex: json.sdpMLineIndex ?? null,
    usernameFragment: json.usernameFragment ?? null,
  };
}

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

  state: CallState;
  endReason: EndReason | undefined;
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
  /** Local candidates wait until the `call`/`accept` frame has been sent. */
  private localSignalingStarted = false;
  private readonly localCandidates: (IceCandidate | null)[] = [];
  /** Remote candidates wait until a remote description is set. */
  private readonly remoteCandidates: (IceCandidate | null)[] = [];
  /** Serializes every offer/answer operation on the peer connection. */
  private chain: Promise<void> = Promise.resolve();
  /** Serializes our own re-offers (hold/resume). */
  private offerChain: Promise<void> = Promise.resolve();
  private pendingOffer: PendingOffer | undefined;
  private answering = false;

  /** @internal Calls are created by SwitchboardClient. */
  constructor(init: CallInit) {
    super();
    this.id = init.id;
    this.direction = init.direction;
    this.remote = init.remote;
    this.remoteName = init.remoteName;
    this.local = init.local;
    this.signaling = init.signaling;
    this.state = init.direction === 'outgoing' ? 'calling' : 'incoming';
    this.remoteStream = new MediaStream();
    this.pc = new RTCPeerConnection(init.rtcConfig);
    this.pc.addEventListener('icecandidate', (event) => this.onLocalCandidate(event.candidate));
    this.pc.addEventListener('track', (event) => this.onTrack(event.track));
    this.pc.addEventListener('connectionstatechange', () => this.onConnectionStateChange());
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
      await this.enqueue(async () => {
        if (!this.live) return;
        await this.pc.setLocalDescription(await this.pc.createAnswer());
        sdp = this.pc.localDescription?.sdp ?? '';
      });
      if (!this.live) throw this.endedError();
      const ack = this.signaling.request({ type: 'accept', callId: this.id, sdp });
      this.startLocalSignaling();
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

  /** Mutes or unmutes the local audio (the track keeps running; silence is sent). */
  setMuted(muted: boolean): void {
    this.muted = muted;
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = !muted;
  }

  /**
   * Sends DTMF digits (0-9, *, #, A-D): in-band as RFC 4733 events through the
   * audio sender's RTCDTMFSender when it can insert DTMF, otherwise as a `dtmf`
   * frame. Returns which of the two was used.
   */
  /** Blind transfer: asks the other party to call `to` instead (a SIP party gets a REFER). */
  async transfer(to: string): Promise<void> {
    await this.signaling.request({ type: 'transfer', callId: this.id, to });
  }

  sendDtmf(digits: string): 'rtp' | 'signaling' {
    const tones = String(digits).toUpperCase();
    if (!DTMF_DIGITS.test(tones)) throw new TypeError(`invalid DTMF digits ${JSON.stringify(digits)}: use 0-9, *, #, A-D`);
    if (this.state !== 'connecting' && this.state !== 'active') {
      throw new SwitchboardError('invalid-state', `cannot send DTMF in state ${this.state}`, { callId: this.id });
    }
    const dtmf = this.audioTransceiver()?.sender.dtmf;
    if (dtmf?.canInsertDTMF) {
      dtmf.insertDTMF(dtmf.toneBuffer + tones);
      return 'rtp';
    }
    // The gateway takes at most 32 digits per frame.
    for (let i = 0; i < tones.length; i += 32) {
      this.fireAndForget({ type: 'dtmf', callId: this.id, digits: tones.slice(i, i + 32) });
    }
    return 'signaling';
  }

  /**
   * Puts the call on hold (audio direction `sendonly`) or resumes it
   * (`sendrecv`) with a re-offer; resolves when the other side answered it.
   */
  async hold(onHold: boolean): Promise<void> {
    if (this.state !== 'connecting' && this.state !== 'active') {
      throw new SwitchboardError('invalid-state', `cannot change hold in state ${this.state}`, { callId: this.id });
    }
    await this.renegotiate(() => {
      const transceiver = this.audioTransceiver();
      if (transceiver) transceiver.direction = onHold ? 'sendonly' : 'sendrecv';
    });
    this.onHold = onHold;
  }

  /** The peer connection's statistics. */
  getStats(): Promise<RTCStatsReport> {
    return this.pc.getStats();
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
      await this.enqueue(async () => {
        await this.pc.setLocalDescription(await this.pc.createOffer());
        sdp = this.pc.localDescription?.sdp ?? '';
      });
      if (!this.live) throw this.endedError();
      const ack = this.signaling.request({ type: 'call', callId: this.id, to, sdp, ...(transferId ? { transferId } : {}) });
      this.startLocalSignaling();
      await ack;
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
      await this.enqueue(async () => {
        await this.pc.setRemoteDescription({ type: 'offer', sdp });
        this.flushRemoteCandidates();
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
        if (typeof msg.sdp === 'string') this.onEarlyMedia(msg.sdp);
        return;
      case 'answered':
        if (typeof msg.sdp === 'string') this.onAnswered(msg.sdp);
        return;
      case 'ended':
        this.terminate(typeof msg.reason === 'string' ? msg.reason : 'failed', typeof msg.detail === 'string' ? msg.detail : undefined);
        return;
      case 'candidate':
        if (msg.candidate === null || (typeof msg.candidate === 'object' && typeof msg.candidate?.candidate === 'string')) {
          this.onRemoteCandidate(msg.candidate);
        }
        return;
      case 'offer':
        if (typeof msg.sdp === 'string') this.onRemoteOffer(msg.sdp);
        return;
      case 'answer':
        if (typeof msg.sdp === 'string') this.onRemoteAnswer(msg.sdp);
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
  terminate(reason: EndReason, detail?: string): void {
    if (!this.live) return;
    this.endReason = reason;
    this.endDetail = detail;
    this.endedAt = new Date();
    const pending = this.pendingOffer;
    this.pendingOffer = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(this.endedError());
    }
    try {
      this.pc.close();
    } catch {
      // already closed
    }
    if (this.ownsLocalStream) this.localStream?.getTracks().forEach((track) => track.stop());
    this.localCandidates.length = 0;
    this.remoteCandidates.length = 0;
    this.signaling.release(this);
    this.setState('ended');
    this.emit('ended', reason, detail);
  }

  // ------------------------------------------------------------------ internal: signaling

  /** Early media: the callee's answer as a provisional one (pranswer), so ringback plays before answer. */
  private onEarlyMedia(sdp: string): void {
    if (this.direction !== 'outgoing' || (this.state !== 'calling' && this.state !== 'ringing')) return;
    this.enqueue(async () => {
      if (!this.live) return;
      await this.pc.setRemoteDescription({ type: 'pranswer', sdp });
      this.flushRemoteCandidates();
      if (this.state === 'calling') this.setState('ringing');
      this.emit('progress');
    }).catch((err) => {
      if (this.live) this.hangupAs('incompatible-media', errorText(err));
    });
  }

  private onAnswered(sdp: string): void {
    if (this.direction !== 'outgoing' || (this.state !== 'calling' && this.state !== 'ringing')) return;
    this.enqueue(async () => {
      if (!this.live) return;
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      this.flushRemoteCandidates();
      this.answeredAt = new Date();
      this.setState('connecting');
      this.emit('answered');
      this.checkConnected();
    }).catch((err) => {
      if (this.live) this.hangupAs('incompatible-media', errorText(err));
    });
  }

  private onRemoteOffer(sdp: string): void {
    this.enqueue(async () => {
      if (!this.live) return;
      if (this.state === 'incoming') {
        // Not answered yet: the new offer replaces the first; `accept` answers it.
        await this.pc.setRemoteDescription({ type: 'offer', sdp });
        this.flushRemoteCandidates();
        return;
      }
      if (this.state === 'calling' || this.state === 'ringing') return; // our offer is unanswered
      let rolledBack = false;
      if (this.pc.signalingState === 'have-local-offer') {
        // Glare: the callee side yields (rolls back its re-offer and sends it again afterwards).
        if (this.direction === 'outgoing') return;
        await this.pc.setLocalDescription({ type: 'rollback' });
        rolledBack = true;
      }
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      this.flushRemoteCandidates();
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      this.fireAndForget({ type: 'answer', callId: this.id, sdp: this.pc.localDescription?.sdp ?? '' });
      if (rolledBack && this.pendingOffer) this.sendPendingOffer();
    }).catch((err) => {
      if (!this.live) return;
      this.signaling.report(new SwitchboardError('media-failed', `could not apply the re-offer: ${errorText(err)}`, { callId: this.id }));
    });
  }

  private onRemoteAnswer(sdp: string): void {
    this.enqueue(async () => {
      const pending = this.pendingOffer;
      if (!this.live || this.pc.signalingState !== 'have-local-offer' || !pending) return;
      clearTimeout(pending.timer);
      this.pendingOffer = undefined;
      try {
        await this.pc.setRemoteDescription({ type: 'answer', sdp });
      } catch (err) {
        await this.rollback();
        pending.reject(
          new SwitchboardError('media-failed', `could not apply the answer: ${errorText(err)}`, { callId: this.id, cause: err }),
        );
        return;
      }
      this.flushRemoteCandidates();
      pending.resolve();
    }).catch(() => undefined);
  }

  /** Runs `prepare` then re-offers; resolves when the answer is applied. Re-offers run one at a time. */
  private renegotiate(prepare: () => void): Promise<void> {
    const run = () =>
      new Promise<void>((resolve, reject) => {
        if (!this.live) {
          reject(this.endedError());
          return;
        }
        const timer = setTimeout(() => {
          if (this.pendingOffer?.timer !== timer) return;
          this.pendingOffer = undefined;
          void this.enqueue(() => this.rollback());
          reject(new SwitchboardError('timeout', 'the other side did not answer the re-offer', { callId: this.id }));
        }, RENEGOTIATION_TIMEOUT_MS);
        this.pendingOffer = { prepare, resolve, reject, timer };
        this.sendPendingOffer();
      });
    const result = this.offerChain.then(run, run);
    this.offerChain = result.catch(() => undefined);
    return result;
  }

  private sendPendingOffer(): void {
    const pending = this.pendingOffer;
    if (!pending) return;
    this.enqueue(async () => {
      if (!this.live || this.pendingOffer !== pending) return;
      pending.prepare();
      await this.pc.setLocalDescription(await this.pc.createOffer());
      const sdp = this.pc.localDescription?.sdp ?? '';
      this.signaling.request({ type: 'offer', callId: this.id, sdp }).catch((err: unknown) => {
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
      pending.reject(new SwitchboardError('media-failed', `could not create the re-offer: ${errorText(err)}`, { callId: this.id }));
    });
  }

  private async rollback(): Promise<void> {
    if (this.live && this.pc.signalingState === 'have-local-offer') {
      try {
        await this.pc.setLocalDescription({ type: 'rollback' });
      } catch {
        // nothing more to do
      }
    }
  }

  /** Runs `op` after every earlier offer/answer operation. */
  private enqueue(op: () => Promise<void>): Promise<void> {
    const result = this.chain.then(op);
    this.chain = result.catch(() => undefined);
    return result;
  }

  /** Declines an unanswered incoming call for a reason of our own. */
  private refuse(reason: EndReason, detail?: string): void {
    this.fireAndForget({ type: 'reject', callId: this.id, reason: reason === 'incompatible-media' ? reason : 'declined' });
    this.terminate(reason, detail);
  }

  private hangupAs(reason: EndReason, detail?: string): void {
    this.fireAndForget({ type: 'hangup', callId: this.id });
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

  // ------------------------------------------------------------------ internal: ICE and media

  private startLocalSignaling(): void {
    this.localSignalingStarted = true;
    for (const candidate of this.localCandidates.splice(0)) this.sendCandidate(candidate);
  }

  private onLocalCandidate(candidate: RTCIceCandidate | null): void {
    if (!this.live) return;
    // Some browsers mark the end of a generation with an empty candidate; the null one follows.
    if (candidate && !candidate.candidate) return;
    const frame = candidate ? toIceCandidate(candidate) : null;
    if (this.localSignalingStarted) this.sendCandidate(frame);
    else this.localCandidates.push(frame);
  }

  private sendCandidate(candidate: IceCandidate | null): void {
    this.fireAndForget({ type: 'candidate', callId: this.id, candidate });
  }

  private onRemoteCandidate(candidate: IceCandidate | null): void {
    if (!this.pc.remoteDescription) {
      this.remoteCandidates.push(candidate);
      return;
    }
    this.addRemoteCandidate(candidate);
  }

  private flushRemoteCandidates(): void {
    for (const candidate of this.remoteCandidates.splice(0)) this.addRemoteCandidate(candidate);
  }

  private addRemoteCandidate(candidate: IceCandidate | null): void {
    // A candidate the browser cannot use (other network, unknown m-line) is not fatal.
    const added = candidate ? this.pc.addIceCandidate(candidate) : this.pc.addIceCandidate();
    added.catch((err: unknown) => {
      if (this.live && candidate) console.debug('switchboard: ignored remote candidate', candidate.candidate, err);
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
      this.hangupAs('failed', 'ICE/DTLS connection failed');
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
