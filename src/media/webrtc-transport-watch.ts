import type { WebRtcState } from './webrtc-endpoint.js';

/** What the watch needs of a WebRTC endpoint: its connection state and the changes to it. */
export interface WebRtcTransport {
  readonly state: WebRtcState;
  /** True once the gateway itself closed the endpoint (its `closed` state is then no news). */
  readonly closed: boolean;
  on(event: 'statechange', listener: (state: WebRtcState) => void): unknown;
  off(event: 'statechange', listener: (state: WebRtcState) => void): unknown;
}

/**
 * How long `disconnected` may last before the party counts as gone. Browsers
 * leave it by themselves when ICE recovers; libdatachannel (0.24) does not
 * recover, it closes the connection right after, so this is a bound for
 * versions that might.
 */
export const DISCONNECTED_GRACE_MS = 5000;

/**
 * Watches the gateway's WebRTC connection with one party and calls `lost`
 * once, with what the party did (`closed its WebRTC connection`), when it is
 * gone for good:
 * - `failed`: ICE lost the party (libjuice fails the pair when consent
 *   freshness checks, RFC 7675, go unanswered for 30 s: a browser that
 *   vanished without a word) or DTLS failed;
 * - `closed`: the party closed its side (a browser's pc.close() sends a DTLS
 *   close_notify, RFC 5246 section 7.2.1, and libdatachannel closes at once);
 * - `disconnected` that lasts `graceMs`.
 *
 * The packets of a WebRTC party are no sign of life here: a live browser may
 * send no RTP at all (a sender whose track was replaced by null, a common way
 * to mute), and node-datachannel consumes its RTCP before it reaches us. ICE
 * consent is the liveness check WebRTC itself defines.
 *
 * Returns the function that stops watching.
 */
export function watchWebRtcTransport(
  transport: WebRtcTransport,
  lost: (detail: string) => void,
  graceMs: number = DISCONNECTED_GRACE_MS,
): () => void {
  let graceTimer: NodeJS.Timeout | undefined;
  let done = false;
  const stop = (): void => {
    done = true;
    clearTimeout(graceTimer);
    graceTimer = undefined;
    transport.off('statechange', onState);
  };
  const end = (detail: string): void => {
    if (done) return;
    stop();
    lost(detail);
  };
  function onState(state: WebRtcState): void {
    if (done || transport.closed) return;
    if (state === 'failed') return end('lost its WebRTC connection (ICE consent expired or DTLS failed)');
    if (state === 'closed') return end('closed its WebRTC connection');
    if (state !== 'disconnected') {
      clearTimeout(graceTimer);
      graceTimer = undefined;
      return;
    }
    graceTimer ??= setTimeout(() => end(`stayed disconnected for ${seconds(graceMs)}`), graceMs);
    graceTimer.unref();
  }
  transport.on('statechange', onState);
  // The connection may have died before the watch began (during ringing).
  onState(transport.state);
  return stop;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
