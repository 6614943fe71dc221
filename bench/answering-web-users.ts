/**
 * The SIP benchmark's called parties: web users logged in over the gateway's
 * WebSocket protocol that answer every `incoming` call at once, the way the
 * SDK's auto-answer would: `ringing`, then `accept` with a real WebRTC answer
 * from a node-datachannel endpoint (the gateway's own WebRtcEndpoint, ICE on
 * loopback), so each call's media is anchored and ICE + DTLS run for real.
 * The endpoint closes when the call ends.
 */
import nodeDataChannel from 'node-datachannel';
import WebSocket from 'ws';
import type { Codec } from '../src/media/codecs.js';
import { WebRtcEndpoint } from '../src/media/webrtc-endpoint.js';
import { createSilentLogger } from '../src/logging/logger.js';
import { PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '../src/protocol/messages.js';
import { withTimeout } from './gateway-process.js';

const PCMU: Codec = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };

/** The driver's ICE ports: above Linux's ephemeral range, as the media benchmark's browsers. */
const DRIVER_ICE_PORTS = { portRangeBegin: 61_000, portRangeEnd: 65_535 };

export interface AnsweringCounters {
  incoming: number;
  answered: number;
  /** An answer could not be made (the endpoint failed); the call is rejected. */
  answerFailures: number;
  /** Endpoints whose ICE + DTLS with the anchor reached `connected`. */
  connected: number;
  ended: number;
}

export class AnsweringWebUsers {
  readonly counters: AnsweringCounters = { incoming: 0, answered: 0, answerFailures: 0, connected: 0, ended: 0 };
  readonly #sockets: WebSocket[] = [];
  readonly #endpoints = new Map<string, WebRtcEndpoint>();
  /**
   * Every endpoint ever made, closed or not, until releaseNative(): node-datachannel can crash in
   * cleanup() once V8 has collected a closed connection's wrapper (see bench/browser-peer.ts).
   */
  readonly #all: WebRtcEndpoint[] = [];
  readonly #logger = createSilentLogger();

  private constructor(readonly names: string[]) {}

  /** Logs in `count` users named `<prefix><i>`, `concurrency` logins at a time. */
  static async login(httpPort: number, count: number, prefix = 'sipbench'): Promise<AnsweringWebUsers> {
    const users = new AnsweringWebUsers(Array.from({ length: count }, (_, i) => `${prefix}${i}`));
    const pending = [...users.names];
    const worker = async (): Promise<void> => {
      for (let name = pending.shift(); name !== undefined; name = pending.shift()) await users.#loginOne(httpPort, name);
    };
    try {
      await Promise.all(Array.from({ length: 20 }, worker));
    } catch (error) {
      users.close();
      throw error;
    }
    return users;
  }

  /** Endpoints of calls still in progress. */
  get openEndpoints(): number {
    return this.#endpoints.size;
  }

  /** Closes everything and ends node-datachannel's threads; the last thing the benchmark does with it. */
  releaseNative(): void {
    this.close();
    nodeDataChannel.cleanup();
    this.#all.length = 0;
  }

  close(): void {
    for (const endpoint of this.#endpoints.values()) endpoint.close();
    this.#endpoints.clear();
    for (const socket of this.#sockets) socket.terminate();
    this.#sockets.length = 0;
  }

  async #loginOne(httpPort: number, name: string): Promise<void> {
    const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`, { perMessageDeflate: false });
    this.#sockets.push(socket);
    const welcome = new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as ServerMessage;
        if (frame.type === 'welcome') resolve();
        else if (frame.type === 'error' && frame.id === 'login') reject(new Error(`${name}: ${frame.message}`));
        else this.#onFrame(socket, frame);
      });
    });
    await withTimeout(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), `${name}: connect`, 15_000);
    send(socket, { type: 'login', id: 'login', protocol: PROTOCOL_VERSION, name });
    await withTimeout(welcome, `${name}: welcome`, 15_000);
  }

  #onFrame(socket: WebSocket, frame: ServerMessage): void {
    if (frame.type === 'incoming') void this.#answer(socket, frame.callId, frame.sdp);
    else if (frame.type === 'ended') {
      this.counters.ended += 1;
      this.#endpoints.get(frame.callId)?.close();
      this.#endpoints.delete(frame.callId);
    }
  }

  async #answer(socket: WebSocket, callId: string, offer: string): Promise<void> {
    this.counters.incoming += 1;
    send(socket, { type: 'ringing', callId });
    const endpoint = new WebRtcEndpoint({
      name: `answer-${callId}`,
      ice: { bindAddress: '127.0.0.1', iceServers: [], gatherTimeoutMs: 2000, ...DRIVER_ICE_PORTS },
      logger: this.#logger,
    });
    this.#endpoints.set(callId, endpoint);
    this.#all.push(endpoint);
    endpoint.on('statechange', (state) => {
      if (state === 'connected') this.counters.connected += 1;
    });
    try {
      const answer = await endpoint.answerOffer(offer, [PCMU]);
      send(socket, { type: 'accept', callId, sdp: answer });
      this.counters.answered += 1;
    } catch {
      this.counters.answerFailures += 1;
      endpoint.close();
      this.#endpoints.delete(callId);
      // The protocol's reject reasons name the callee's choice; none says "could not answer".
      send(socket, { type: 'reject', callId, reason: 'declined' });
    }
  }
}

function send(socket: WebSocket, frame: ClientMessage): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}
