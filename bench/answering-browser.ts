/**
 * The call-setup benchmark's called "browser": a web user logged in over the
 * WebSocket protocol that answers each `incoming` call at once with a raw
 * node-datachannel PeerConnection. Unlike the gateway's own WebRtcEndpoint it
 * keeps node-datachannel's default DTLS role, `active`, as Chrome and Firefox
 * answer an `actpass` offer: it starts DTLS as soon as its ICE is up, maybe
 * before the gateway has its answer. So `tel:` -> web set-ups measure the
 * anchor as the offerer, the SIP -> web path.
 */
import { performance } from 'node:perf_hooks';
import nodeDataChannel, { type PeerConnection, type Track } from 'node-datachannel';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '../src/protocol/messages.js';
import { withTimeout } from './gateway-process.js';
import { newRtpStream, timestampedRtp, type Pacer } from './media-load.js';

const { PeerConnection: NativePeerConnection, Audio, RtcpReceivingSession } = nodeDataChannel;

/** Above Linux's ephemeral range, like the calling browsers' (bench/browser-peer.ts). */
const ICE_PORTS = { portRangeBegin: 61_000, portRangeEnd: 65_535 };
const STEP_TIMEOUT_MS = 15_000;

/** performance.now() of each milestone of one answered call. */
export interface AnsweredCall {
  callId: string;
  incomingAt: number;
  acceptAt: number;
  iceConnectedAt: number;
  connectedAt: number;
  /** The phone's first packet came out of the track. */
  firstRtpAt: number;
}

export class AnsweringBrowser {
  /** Every connection ever made, until releaseNative() (see BrowserCall.releaseNative). */
  static readonly #all: { pc: PeerConnection; track: Track }[] = [];
  readonly #ws: WebSocket;
  /** The one call this user is waiting for (it takes one at a time). */
  #waiter: { resolve: (call: AnsweredCall) => void; reject: (error: Error) => void } | undefined;
  readonly #open = new Map<string, { pc: PeerConnection; track: Track; unpace?: () => void }>();

  private constructor(
    readonly name: string,
    ws: WebSocket,
    private readonly pacer: Pacer,
  ) {
    this.#ws = ws;
  }

  static releaseNative(): void {
    for (const { pc, track } of AnsweringBrowser.#all) {
      try {
        track.close();
        pc.close();
      } catch {
        // closed already
      }
    }
    nodeDataChannel.cleanup();
    AnsweringBrowser.#all.length = 0;
  }

  static async login(url: string, name: string, pacer: Pacer): Promise<AnsweringBrowser> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const browser = new AnsweringBrowser(name, ws, pacer);
    const welcome = new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as ServerMessage;
        if (frame.type === 'welcome') resolve();
        else if (frame.type === 'error' && frame.id === 'login') reject(new Error(`${name}: ${frame.message}`));
        else browser.#onFrame(frame);
      });
      ws.once('error', reject);
    });
    await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), `${name}: connect`, STEP_TIMEOUT_MS);
    browser.#send({ type: 'login', id: 'login', protocol: PROTOCOL_VERSION, name });
    await withTimeout(welcome, `${name}: welcome`, STEP_TIMEOUT_MS);
    return browser;
  }

  /** The next call this user answers, once media from the phone came out of its track. */
  nextCall(): Promise<AnsweredCall> {
    const call = new Promise<AnsweredCall>((resolve, reject) => (this.#waiter = { resolve, reject }));
    return withTimeout(call, `${this.name}: answered call`, STEP_TIMEOUT_MS).finally(() => (this.#waiter = undefined));
  }

  hangup(callId: string): void {
    this.#send({ type: 'hangup', callId });
    this.#closeCall(callId);
  }

  close(): void {
    for (const callId of [...this.#open.keys()]) this.#closeCall(callId);
    this.#ws.terminate();
  }

  #onFrame(frame: ServerMessage): void {
    if (frame.type === 'incoming') {
      try {
        this.#answer(frame.callId, frame.sdp);
      } catch (error) {
        this.#fail(error instanceof Error ? error : new Error(String(error)));
      }
    } else if (frame.type === 'candidate' && frame.candidate) {
      // The anchor trickles its candidates once it has the answer (anchor-media-session.ts).
      const entry = this.#open.get(frame.callId);
      try {
        entry?.pc.addRemoteCandidate(frame.candidate.candidate, frame.candidate.sdpMid ?? '0');
      } catch {
        // a candidate the agent cannot use
      }
    } else if (frame.type === 'ended' && this.#open.has(frame.callId)) {
      this.#closeCall(frame.callId);
      this.#fail(new Error(`${this.name}: call ${frame.callId} ended (${frame.reason})`));
    }
  }

  #answer(callId: string, offer: string): void {
    const incomingAt = performance.now();
    const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? '0';
    const pc = new NativePeerConnection(`answer-${callId}`, { iceServers: [], bindAddress: '127.0.0.1', ...ICE_PORTS });
    const audio = new Audio(mid, 'SendRecv');
    audio.addAudioCodec(0, 'PCMU/8000');
    audio.addAudioCodec(101, 'telephone-event/8000', '0-16');
    const stream = newRtpStream(0);
    audio.addSSRC(stream.ssrc, `bench-${callId}`, 'bench', 'audio');
    const track = pc.addTrack(audio);
    track.setMediaHandler(new RtcpReceivingSession());
    const entry: { pc: PeerConnection; track: Track; unpace?: () => void } = { pc, track };
    this.#open.set(callId, entry);
    AnsweringBrowser.#all.push({ pc, track });

    const times: Partial<AnsweredCall> = { callId, incomingAt };
    const done = (): void => {
      if (times.firstRtpAt === undefined || times.connectedAt === undefined || times.acceptAt === undefined) return;
      this.#waiter?.resolve({ ...(times as AnsweredCall), iceConnectedAt: times.iceConnectedAt ?? times.connectedAt });
    };
    const sendOne = (): void => {
      try {
        track.sendMessageBinary(timestampedRtp(stream, performance.now()));
      } catch {
        // closed meanwhile
      }
    };
    pc.onIceStateChange((state) => {
      if ((state === 'connected' || state === 'completed') && times.iceConnectedAt === undefined) times.iceConnectedAt = performance.now();
    });
    pc.onStateChange((state) => {
      if (state === 'connected' && times.connectedAt === undefined) {
        times.connectedAt = performance.now();
        sendOne();
        entry.unpace = this.pacer.add(sendOne);
        done();
      } else if (state === 'failed') this.#fail(new Error(`${this.name}: ICE/DTLS failed`));
    });
    track.onMessage(() => {
      if (times.firstRtpAt !== undefined) return;
      times.firstRtpAt = performance.now();
      done();
    });
    pc.onGatheringStateChange((state) => {
      if (state !== 'complete' || times.acceptAt !== undefined) return;
      const answer = pc.localDescription()?.sdp;
      if (!answer) return this.#fail(new Error(`${this.name}: no local description`));
      this.#send({ type: 'accept', callId, sdp: answer });
      times.acceptAt = performance.now();
      done();
    });
    this.#send({ type: 'ringing', callId });
    // Candidates after the description, as the gateway's own endpoint does (webrtc-endpoint.ts).
    const lines = offer.split(/\r?\n/);
    pc.setRemoteDescription(lines.filter((line) => !line.startsWith('a=candidate:')).join('\r\n'), 'offer');
    for (const line of lines.filter((l) => l.startsWith('a=candidate:'))) pc.addRemoteCandidate(line.slice(2), mid);
  }

  #closeCall(callId: string): void {
    const entry = this.#open.get(callId);
    if (!entry) return;
    this.#open.delete(callId);
    entry.unpace?.();
    try {
      entry.track.close();
      entry.pc.close();
    } catch {
      // closed already
    }
  }

  #fail(error: Error): void {
    this.#waiter?.reject(error);
  }

  #send(frame: ClientMessage): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(frame));
  }
}
