import { afterEach, describe, expect, it, vi } from 'vitest';
import { TypedEmitter } from '../../../src/events/typed-emitter.js';
import type { WebRtcState } from '../../../src/media/webrtc-endpoint.js';
import { watchWebRtcTransport, type WebRtcTransport } from '../../../src/media/webrtc-transport-watch.js';

// The states node-datachannel reports for the anchor's PeerConnection, in the
// orders seen from a real Chromium (test/e2e/anchor-media-timeout.test.ts):
// pc.close() gives disconnected then closed within milliseconds (DTLS
// close_notify); a browser that silently stops answering gives failed then
// closed once libjuice's 30 s consent freshness expires.

class FakeTransport extends TypedEmitter<{ statechange: [state: WebRtcState]; listenererror: [event: string, error: unknown] }> implements WebRtcTransport {
  state: WebRtcState = 'connected';
  closed = false;

  set(state: WebRtcState): void {
    this.state = state;
    this.safeEmit('statechange', state);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

function watched(initial: WebRtcState = 'connected', graceMs = 5000) {
  const transport = new FakeTransport();
  transport.state = initial;
  const lost: string[] = [];
  const stop = watchWebRtcTransport(transport, (detail) => lost.push(detail), graceMs);
  return { transport, lost, stop };
}

describe('watchWebRtcTransport', () => {
  it('failed ends at once (ICE consent expired), once', () => {
    const { transport, lost } = watched();
    transport.set('failed');
    transport.set('closed');
    expect(lost).toEqual(['lost its WebRTC connection (ICE consent expired or DTLS failed)']);
  });

  it('disconnected then closed (the browser closed its PeerConnection) ends at closed', () => {
    vi.useFakeTimers();
    const { transport, lost } = watched();
    transport.set('disconnected');
    expect(lost).toEqual([]);
    transport.set('closed');
    expect(lost).toEqual(['closed its WebRTC connection']);
    vi.advanceTimersByTime(10_000);
    expect(lost).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('disconnected that recovers within the grace period ends nothing', () => {
    vi.useFakeTimers();
    const { transport, lost } = watched();
    transport.set('disconnected');
    vi.advanceTimersByTime(4000);
    transport.set('connected');
    vi.advanceTimersByTime(60_000);
    expect(lost).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('disconnected that lasts the grace period ends the call', () => {
    vi.useFakeTimers();
    const { transport, lost } = watched('connected', 3000);
    transport.set('disconnected');
    vi.advanceTimersByTime(2999);
    expect(lost).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(lost).toEqual(['stayed disconnected for 3 s']);
  });

  it('a connection already failed when the call is answered ends it at once', () => {
    const { lost } = watched('failed');
    expect(lost).toHaveLength(1);
  });

  it('the gateway closing its own endpoint is no news, and stop() stops everything', () => {
    vi.useFakeTimers();
    const own = watched();
    own.transport.closed = true;
    own.transport.set('closed');
    expect(own.lost).toEqual([]);

    const stopped = watched();
    stopped.transport.set('disconnected');
    stopped.stop();
    stopped.transport.set('failed');
    vi.advanceTimersByTime(10_000);
    expect(stopped.lost).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
