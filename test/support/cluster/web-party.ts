import { randomUUID } from 'node:crypto';
import type { WebRtcEndpoint } from '../../../src/media/webrtc-endpoint.js';
import type { IceCandidate } from '../../../src/protocol/messages.js';
import { makeWebRtcTestPeer, PCMU } from '../webrtc-test-peer.js';
import { WsTestClient } from '../ws-test-client.js';
import { measurePcmu, sendTone, waitConnected } from '../xmpp/xmpp-lab.js';

/**
 * A browser stand-in for cluster tests: a protocol client on one node's WebSocket and a
 * node-datachannel peer (ICE on loopback) for its media. `close()` ends both.
 */
export class WebParty {
  endpoint: WebRtcEndpoint | undefined;
  readonly #cleanups: (() => void)[] = [];

  private constructor(
    readonly name: string,
    readonly client: WsTestClient,
  ) {
    // As a browser does: the gateway's trickled candidates (an anchor sends its own after its
    // description) go to the peer; it keeps them until it has the remote description.
    client.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; candidate?: IceCandidate | null };
      if (frame.type === 'candidate' && frame.candidate !== undefined) this.endpoint?.addRemoteCandidate(frame.candidate);
    });
  }

  static async login(httpPort: number, name: string, extra: Record<string, unknown> = {}): Promise<WebParty> {
    const client = await WsTestClient.connect(httpPort);
    client.send({ type: 'login', id: 'login', protocol: 1, name, ...extra });
    const reply = await Promise.race([client.next('welcome', () => true, 10_000), client.next('error', (f) => f.id === 'login', 10_000)]);
    if (reply.type === 'error') {
      client.close();
      throw new Error(`login refused: ${reply.code} ${reply.message}`);
    }
    return new WebParty(name, client);
  }

  /** Places a call with a real offer and waits for the gateway's ack. */
  async call(to: string, callId = randomUUID(), extra: Record<string, unknown> = {}): Promise<string> {
    const endpoint = this.#newEndpoint();
    // The test peer's offer has no candidates (see WebRtcTestPeer): the anchor finds it by its checks.
    const sdp = await endpoint.createOffer([PCMU]);
    this.client.send({ type: 'call', id: `call-${callId}`, callId, to, sdp, ...extra });
    const reply = await Promise.race([this.client.next('ack', (f) => f.id === `call-${callId}`, 10_000), this.client.next('error', (f) => f.id === `call-${callId}`, 10_000)]);
    if (reply.type === 'error') throw new Error(`call refused: ${reply.code} ${reply.message}`);
    return callId;
  }

  /** Waits for the answer to our call and applies it. */
  async answered(callId: string): Promise<void> {
    const answered = await this.client.next('answered', (f) => f.callId === callId, 10_000);
    this.endpoint!.acceptAnswer(answered.sdp);
  }

  /** Takes the next incoming call: rings, answers with a real answer; returns its id. */
  async answer(): Promise<string> {
    const incoming = await this.client.next('incoming', () => true, 10_000);
    this.client.send({ type: 'ringing', callId: incoming.callId });
    const endpoint = this.#newEndpoint();
    const sdp = await endpoint.answerOffer(incoming.sdp, [PCMU]);
    this.client.send({ type: 'accept', id: `accept-${incoming.callId}`, callId: incoming.callId, sdp });
    await this.client.next('ack', (f) => f.id === `accept-${incoming.callId}`);
    return incoming.callId;
  }

  async connected(): Promise<void> {
    try {
      await waitConnected(this.endpoint!);
    } catch (error) {
      // What the gateway said meanwhile (an `ended`, an error) is what explains a peer that never connected.
      const frames = this.client.frames.map((frame) => JSON.stringify(frame).slice(0, 300));
      throw new Error(`${(error as Error).message}; frames not yet taken: ${frames.join(' ')}`);
    }
  }

  /** PCMU packets and RMS this party hears while `other` sends a tone. */
  hears(other: WebParty, packets = 25): Promise<{ received: number; rms: number }> {
    return measurePcmu(this.endpoint!, () => sendTone(other.endpoint!, packets));
  }

  close(): void {
    this.client.close();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }

  #newEndpoint(): WebRtcEndpoint {
    this.endpoint = makeWebRtcTestPeer(`${this.name}-web`, (close) => this.#cleanups.push(close));
    return this.endpoint;
  }
}
