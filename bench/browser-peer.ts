/**
 * The benchmark's "browser": a node-datachannel PeerConnection (ICE +
 * DTLS-SRTP, like Chrome's) with one audio track offering PCMU/0 and
 * telephone-event/101, signalling over the gateway's WebSocket protocol
 * exactly as the SDK does: `login`, then `call` with the complete offer
 * (gathering finished, no trickle), then the `answered` SDP is applied.
 *
 * Media: timestamped G.711 RTP at 50 packets/s from the shared pacer, sent
 * with track.sendMessageBinary (node-datachannel encrypts it); what arrives
 * on the track is decrypted RTP from the phone, via the gateway, for the meter.
 */
import { performance } from 'node:perf_hooks';
import nodeDataChannel, { type PeerConnection, type Track } from 'node-datachannel';
import WebSocket from 'ws';
import { sdpWithoutCandidates } from '../src/ice/sdp-without-candidates.js';
import { PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '../src/protocol/messages.js';
import { withTimeout } from './gateway-process.js';
import { newRtpStream, timestampedRtp, type LoadMeter, type Pacer } from './media-load.js';

const { PeerConnection: NativePeerConnection, Audio, RtcpReceivingSession } = nodeDataChannel;

/** The browsers' ICE ports: above Linux's ephemeral range, so they collide with nothing else here. */
const BROWSER_ICE_PORTS = { portRangeBegin: 61_000, portRangeEnd: 65_535 };
const STEP_TIMEOUT_MS = 15_000;

/** Milliseconds from sending `call` to each milestone. */
export interface SetupTimes {
  /** The gateway's `answered` frame (the phone's answer, translated) arrived. */
  answeredMs: number;
  /** ICE with the gateway's anchor is up (the ICE state is `connected` or `completed`). */
  iceConnectedMs: number;
  /** ICE and DTLS with the gateway's anchor are up: the PeerConnection is `connected`. */
  connectedMs: number;
  /** The first RTP packet from the phone came out of the track: media flows end to end. */
  firstRtpMs: number;
}

export interface PlaceOptions {
  /** Send the offer's candidates as `candidate` frames after the answer (default: in the offer). */
  candidatesAfterAnswer?: boolean;
}

export class BrowserCall {
  readonly #ws: WebSocket;
  readonly #pc: PeerConnection;
  readonly #track: Track;
  readonly #stream = newRtpStream(0);
  #unpace: (() => void) | undefined;
  #closed = false;
  times: SetupTimes | undefined;
  /** performance.now() when `call` was sent: the clock the phone's first packet is measured on. */
  startedAt: number | undefined;
  /**
   * Every call's sends, for the driver's own cost: time in sendMessageBinary (which encrypts and
   * sends synchronously) and packets node-datachannel refused (a cause of loss on the way up).
   */
  static readonly sends = { count: 0, totalMs: 0, maxMs: 0, refused: 0 };

  /**
   * Every call ever made, closed or not, until releaseNative(): node-datachannel 0.33 can crash in
   * cleanup() when V8 has already collected a track's or connection's wrapper (see
   * test/integration/stun-server.test.ts), so the wrappers stay reachable until then.
   */
  static readonly #all: BrowserCall[] = [];

  /** Closes every call and ends node-datachannel's threads; the last thing the benchmark does with it. */
  static releaseNative(): void {
    for (const call of BrowserCall.#all) call.close();
    nodeDataChannel.cleanup();
    BrowserCall.#all.length = 0;
  }

  private constructor(
    readonly callId: string,
    ws: WebSocket,
    private readonly meter: LoadMeter,
  ) {
    BrowserCall.#all.push(this);
    this.#ws = ws;
    this.#pc = new NativePeerConnection(callId, { iceServers: [], bindAddress: '127.0.0.1', ...BROWSER_ICE_PORTS });
    const audio = new Audio('0', 'SendRecv');
    audio.addAudioCodec(0, 'PCMU/8000');
    audio.addAudioCodec(101, 'telephone-event/8000', '0-16');
    audio.addSSRC(this.#stream.ssrc, `bench-${callId}`, 'bench', 'audio');
    this.#track = this.#pc.addTrack(audio);
    // Receiver reports back to the gateway, as a browser sends them.
    this.#track.setMediaHandler(new RtcpReceivingSession());
  }

  /**
   * Logs in as `name`, calls `to`, and resolves once media flows both ways
   * (the first packet from the phone arrived). On failure everything is closed.
   */
  static async place(url: string, name: string, to: string, meter: LoadMeter, pacer: Pacer, options: PlaceOptions = {}): Promise<BrowserCall> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const call = new BrowserCall(`bench-call-${name}`, ws, meter); // call ids are 8-64 characters
    try {
      await call.#run(name, to, pacer, options.candidatesAfterAnswer ?? false);
      return call;
    } catch (error) {
      call.close();
      throw error;
    }
  }

  async #run(name: string, to: string, pacer: Pacer, candidatesAfterAnswer: boolean): Promise<void> {
    const frames = this.#frames();
    await withTimeout(new Promise((resolve, reject) => {
      this.#ws.once('open', resolve);
      this.#ws.once('error', reject);
    }), `${name}: connect`, STEP_TIMEOUT_MS);
    this.#send({ type: 'login', protocol: PROTOCOL_VERSION, name });
    await withTimeout(frames.next('welcome'), `${name}: welcome`, STEP_TIMEOUT_MS);

    // Gathering on loopback takes a few ms. The complete offer is what the gateway gets from Chromium
    // too (its host candidates trickle right after the offer); `candidatesAfterAnswer` sends them
    // after the answer instead: no set-up is lost to libdatachannel's DTLS-client race (~3 % with
    // the complete offer, see test/support/webrtc-test-peer.ts), but the anchor's checks start one
    // signaling hop later and libjuice paces a check it did not start at once (~50 ms more).
    const gathered = new Promise<void>((resolve) => this.#pc.onGatheringStateChange((s) => s === 'complete' && resolve()));
    const connected = new Promise<void>((resolve, reject) =>
      this.#pc.onStateChange((s) => (s === 'connected' ? resolve() : s === 'failed' && reject(new Error(`${name}: ICE/DTLS failed`)))),
    );
    connected.catch(() => {}); // awaited below, or never if an earlier step fails
    let iceConnectedAt: number | undefined;
    this.#pc.onIceStateChange((s) => {
      if ((s === 'connected' || s === 'completed') && iceConnectedAt === undefined) iceConnectedAt = performance.now();
    });
    const firstRtp = new Promise<void>((resolve) =>
      this.#track.onMessage((packet) => {
        this.meter.received('down', packet);
        resolve();
      }),
    );
    this.#pc.setLocalDescription();
    await withTimeout(gathered, `${name}: ICE gathering`, STEP_TIMEOUT_MS);
    const offer = this.#pc.localDescription()?.sdp;
    if (!offer) throw new Error(`${name}: no local description`);

    const start = performance.now();
    // The gateway trickles its candidates after its answer (anchor-media-session.ts): add them as the SDK does.
    const trickled: string[] = [];
    let answerSet = false;
    this.#ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerMessage;
      if (frame.type !== 'candidate' || !frame.candidate) return;
      if (answerSet) this.#addCandidate(frame.candidate.candidate);
      else trickled.push(frame.candidate.candidate);
    });
    const held = candidatesAfterAnswer ? sdpWithoutCandidates(offer) : { sdp: offer, candidates: [] };
    this.#send({ type: 'call', id: 'call', callId: this.callId, to, sdp: held.sdp });
    const answered = await withTimeout(frames.next('answered'), `${name}: answered`, STEP_TIMEOUT_MS);
    const answeredMs = performance.now() - start;
    this.#pc.setRemoteDescription(answered.sdp, 'answer');
    answerSet = true;
    for (const candidate of trickled.splice(0)) this.#addCandidate(candidate);
    if (candidatesAfterAnswer) {
      for (const candidate of held.candidates) this.#send({ type: 'candidate', callId: this.callId, candidate });
      this.#send({ type: 'candidate', callId: this.callId, candidate: null });
    }
    await withTimeout(connected, `${name}: connected`, STEP_TIMEOUT_MS);
    const connectedAt = performance.now();
    // The first packet at once, as a browser sends when its transport comes up; then the pacer's schedule.
    this.#sendOne();
    this.#unpace = pacer.add(() => this.#sendOne());
    await withTimeout(firstRtp, `${name}: first RTP`, STEP_TIMEOUT_MS);
    const iceConnectedMs = (iceConnectedAt ?? connectedAt) - start;
    this.times = { answeredMs, iceConnectedMs, connectedMs: connectedAt - start, firstRtpMs: performance.now() - start };
    this.startedAt = start;
  }

  /** Waits for frames by type; an `error` or `ended` frame fails every wait. */
  #frames(): { next: <T extends ServerMessage['type']>(type: T) => Promise<Extract<ServerMessage, { type: T }>> } {
    const waiters = new Map<string, { resolve: (frame: ServerMessage) => void; reject: (error: Error) => void }>();
    let failure: Error | undefined;
    const fail = (error: Error): void => {
      failure ??= error;
      for (const waiter of waiters.values()) waiter.reject(error);
      waiters.clear();
    };
    this.#ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerMessage;
      if (frame.type === 'error' || frame.type === 'ended') return fail(new Error(`${this.callId}: ${String(data)}`));
      waiters.get(frame.type)?.resolve(frame);
      waiters.delete(frame.type);
    });
    this.#ws.on('error', (error) => fail(error));
    this.#ws.on('close', (code) => fail(new Error(`${this.callId}: WebSocket closed (${code})`)));
    return {
      next: (type) =>
        new Promise((resolve, reject) => {
          if (failure) return reject(failure);
          waiters.set(type, { resolve: resolve as (frame: ServerMessage) => void, reject });
        }),
    };
  }

  #addCandidate(candidate: string): void {
    try {
      this.#pc.addRemoteCandidate(candidate, '0');
    } catch {
      // a candidate the agent cannot use, or a connection closed meanwhile
    }
  }

  #send(frame: ClientMessage): void {
    this.#ws.send(JSON.stringify(frame));
  }

  #sendOne(): void {
    if (this.#closed) return;
    const now = performance.now();
    // Counted as sent either way: a packet the stack refuses (buffer full) is a lost packet.
    this.meter.sent('up', now);
    const packet = timestampedRtp(this.#stream, now);
    const before = performance.now();
    try {
      if (!this.#track.sendMessageBinary(packet)) BrowserCall.sends.refused += 1;
    } catch {
      BrowserCall.sends.refused += 1;
    }
    // Encryption and the UDP send happen inside this call, on this thread, under libjuice's locks.
    const took = performance.now() - before;
    BrowserCall.sends.count += 1;
    BrowserCall.sends.totalMs += took;
    BrowserCall.sends.maxMs = Math.max(BrowserCall.sends.maxMs, took);
  }

  /** Ends the call by closing the connection, the way a tab closes; the gateway hangs up the phone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unpace?.();
    try {
      this.#track.close();
      this.#pc.close();
    } catch {
      // already closed by the native side
    }
    this.#ws.terminate();
  }
}
