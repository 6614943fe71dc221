import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CANDIDATE_HOLD_LIMIT_MS, HeldCandidates } from '../../../src/media/held-candidates.js';
import type { IceCandidate } from '../../../src/protocol/messages.js';

const HOST: IceCandidate = { candidate: 'candidate:1 1 UDP 2114977791 127.0.0.1 30000 typ host', sdpMid: '0', sdpMLineIndex: 0 };

/** The anchor's endpoint as HeldCandidates sees it: whether its ICE is up, and the event when it comes up. */
class FakeEndpoint extends EventEmitter {
  iceConnected = false;
  connect(): void {
    this.iceConnected = true;
    this.emit('iceconnected');
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('HeldCandidates', () => {
  it('sends nothing until the anchor ICE is up, then the candidates and their end, once', () => {
    vi.useFakeTimers();
    const sent: (IceCandidate | null)[] = [];
    const endpoint = new FakeEndpoint();
    const held = new HeldCandidates([HOST], (c) => sent.push(c));
    held.releaseWhenReady(endpoint);
    vi.advanceTimersByTime(CANDIDATE_HOLD_LIMIT_MS - 1);
    expect(sent).toEqual([]);
    endpoint.connect();
    expect(sent).toEqual([HOST, null]);
    vi.advanceTimersByTime(CANDIDATE_HOLD_LIMIT_MS);
    endpoint.emit('iceconnected');
    expect(sent).toEqual([HOST, null]);
    expect(endpoint.listenerCount('iceconnected')).toBe(0);
  });

  it('sends them after the limit when the anchor ICE does not come up (a party only its own checks can open)', () => {
    vi.useFakeTimers();
    const sent: (IceCandidate | null)[] = [];
    new HeldCandidates([HOST], (c) => sent.push(c)).releaseWhenReady(new FakeEndpoint());
    vi.advanceTimersByTime(CANDIDATE_HOLD_LIMIT_MS);
    expect(sent).toEqual([HOST, null]);
  });

  it('with the anchor ICE already up, sends them on the next turn: after the description that is going out', async () => {
    const sent: (IceCandidate | null)[] = [];
    const endpoint = new FakeEndpoint();
    endpoint.iceConnected = true;
    new HeldCandidates([HOST], (c) => sent.push(c)).releaseWhenReady(endpoint);
    expect(sent).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([HOST, null]);
  });

  it('sends nothing once closed (the call ended)', () => {
    vi.useFakeTimers();
    const sent: (IceCandidate | null)[] = [];
    const endpoint = new FakeEndpoint();
    const held = new HeldCandidates([HOST], (c) => sent.push(c));
    held.releaseWhenReady(endpoint);
    held.close();
    endpoint.connect();
    vi.advanceTimersByTime(CANDIDATE_HOLD_LIMIT_MS);
    expect(sent).toEqual([]);
    expect(endpoint.listenerCount('iceconnected')).toBe(0);
  });
});
