import type { MediaInactivityWatch, StreamWatch } from './media-inactivity-watch.js';
import type { RtpEndpoint } from './rtp-endpoint.js';
import type { MediaDirection } from './sdp-audio.js';
import type { WebRtcEndpoint } from './webrtc-endpoint.js';
import { watchWebRtcTransport } from './webrtc-transport-watch.js';

/** What the liveness watch reads of one party of an anchored call. */
export interface LivenessParty {
  /** The party's address (`sip:…`, `web:…`), for the reason detail. */
  readonly uri: string;
  readonly rtp: RtpEndpoint | undefined;
  readonly webrtc: WebRtcEndpoint | undefined;
  /** The direction of the party's own last description; undefined until it sent one. */
  readonly direction: MediaDirection | undefined;
}

/**
 * Tells when a party of an answered anchored call is gone, for `lost` to end
 * the call with `media-timeout`:
 * - a plain-RTP party by its packets: no RTP and no RTCP for the inactivity
 *   limit (MediaInactivityWatch, shared by every call);
 * - a WebRTC party by its connection: ICE consent, DTLS close
 *   (watchWebRtcTransport).
 *
 * Hold: the anchor answers a party's hold itself and the other party is
 * never told, it simply gets no more media. A plain-RTP party that only
 * answers what it hears (service:echo, an echo test, some IVRs) then falls
 * silent through no fault of its own, and a held party may send nothing at
 * all. So while either party's direction is anything but sendrecv, both
 * streams are held and judged by the hold limit (none by default).
 */
export class AnchorLiveness {
  readonly #streams: StreamWatch[] = [];
  readonly #transports = new Map<LivenessParty, () => void>();
  #done = false;

  constructor(
    parties: readonly LivenessParty[],
    inactivity: MediaInactivityWatch,
    private readonly lost: (detail: string) => void,
  ) {
    const held = (): boolean => parties.some((party) => party.direction !== 'sendrecv');
    for (const party of parties) {
      const { rtp, webrtc } = party;
      if (rtp) {
        this.#streams.push(
          inactivity.watch({
            packetsReceived: () => rtp.packetsReceived,
            held,
            silent: (idleMs, onHold) =>
              this.#lose(`${party.uri} sent no RTP or RTCP for ${Math.round(idleMs / 1000)} s${onHold ? ' on hold' : ''}`),
          }),
        );
      }
      if (webrtc) this.#watchTransport(party, webrtc);
    }
  }

  /** `party` has another WebRTC endpoint now (an ICE restart): its old one is no news any more. */
  rewatch(party: LivenessParty): void {
    if (this.#done) return;
    this.#transports.get(party)?.();
    this.#transports.delete(party);
    if (party.webrtc) this.#watchTransport(party, party.webrtc);
  }

  #watchTransport(party: LivenessParty, webrtc: WebRtcEndpoint): void {
    this.#transports.set(party, watchWebRtcTransport(webrtc, (what) => this.#lose(`${party.uri} ${what}`)));
  }

  /** A party re-offered (hold, resume, a new address or port): its stream gets a full period to show up. */
  restart(): void {
    for (const stream of this.#streams) stream.restart();
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    for (const stream of this.#streams) stream.stop();
    for (const stop of this.#transports.values()) stop();
  }

  #lose(detail: string): void {
    if (this.#done) return;
    this.close();
    // Out of the sweep and out of node-datachannel's callback: ending the call closes the very
    // PeerConnection that reported the state.
    setImmediate(() => this.lost(detail));
  }
}
