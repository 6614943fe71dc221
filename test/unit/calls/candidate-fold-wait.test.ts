import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseAddress } from '../../../src/calls/address.js';
import type { LegMediaCapabilities } from '../../../src/calls/leg.js';
import { LocalPartyLeg } from '../../../src/calls/local-party-leg.js';
import { CANDIDATE_FOLD_WAIT, RelayMediaSession } from '../../../src/calls/relay-media-session.js';
import type { IceCandidate } from '../../../src/protocol/messages.js';

// Issue #18: a relayed call between a trickling browser and a party that takes complete SDP only
// (a SIP-over-WebSocket softphone) holds the browser's description until its end-of-candidates.
// A browser whose STUN or TURN server never answers ends its gathering only seconds later: the
// hold now ends once the browser went quiet (after a relay candidate when it was given TURN).

class Party extends LocalPartyLeg {
  readonly address;

  constructor(
    readonly id: string,
    readonly capabilities: LegMediaCapabilities,
  ) {
    super();
    this.address = parseAddress(`web:${id}`);
  }

  async deliverCall(): Promise<void> {}
  trickle(candidate: IceCandidate | null): void {
    this.emitEvent('candidate', candidate);
  }
}

const DESCRIPTION = ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=rtpmap:111 opus/48000/2', ''].join('\r\n');
const HOST: IceCandidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 46243 typ host', sdpMid: '0', sdpMLineIndex: 0 };
const RELAY: IceCandidate = { candidate: 'candidate:3 1 udp 41885439 127.0.0.1 50000 typ relay raddr 127.0.0.1 rport 46243', sdpMid: '0', sdpMLineIndex: 0 };

function relayedCall(relayExpected: boolean) {
  const browser = new Party('alice', { webrtc: true, trickle: true });
  const softphone = new Party('bob', { webrtc: true, trickle: false });
  const session = new RelayMediaSession(() => true, { caller: browser, callee: softphone }, relayExpected);
  let forwarded: string | undefined;
  void session.offer(browser, DESCRIPTION).then((outcome) => (forwarded = 'forward' in outcome ? outcome.forward : undefined));
  return { browser, session, forwarded: () => forwarded };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("folding a trickling browser's candidates for a party that takes complete SDP", () => {
  it('without an end-of-candidates, the description goes once the browser was quiet for a while, with what it sent', async () => {
    const call = relayedCall(false);
    await vi.advanceTimersByTimeAsync(5);
    call.browser.trickle(HOST);
    await vi.advanceTimersByTimeAsync(CANDIDATE_FOLD_WAIT.quietMs - 10);
    expect(call.forwarded()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(20);
    expect(call.forwarded()).toContain(`a=${HOST.candidate}`);
    expect(CANDIDATE_FOLD_WAIT.quietMs + 20).toBeLessThan(CANDIDATE_FOLD_WAIT.limitMs);
    call.session.close();
  });

  it('an end-of-candidates sends it at once', async () => {
    const call = relayedCall(false);
    call.browser.trickle(HOST);
    call.browser.trickle(null);
    await vi.advanceTimersByTimeAsync(0);
    expect(call.forwarded()).toContain(`a=${HOST.candidate}`);
    call.session.close();
  });

  it('a browser given TURN is waited for until its relay candidate, then until it is quiet', async () => {
    const call = relayedCall(true);
    call.browser.trickle(HOST);
    await vi.advanceTimersByTimeAsync(1000);
    expect(call.forwarded()).toBeUndefined();
    call.browser.trickle(RELAY);
    await vi.advanceTimersByTimeAsync(CANDIDATE_FOLD_WAIT.quietMs + 1);
    expect(call.forwarded()).toContain(`a=${RELAY.candidate}`);
    call.session.close();
  });

  it('never longer than the limit, even while candidates keep coming or the relay one never does', async () => {
    for (const relayExpected of [false, true]) {
      const call = relayedCall(relayExpected);
      const steps = Math.ceil(CANDIDATE_FOLD_WAIT.limitMs / 100);
      for (let i = 0; i < steps && call.forwarded() === undefined; i++) {
        call.browser.trickle({ ...HOST, candidate: HOST.candidate.replace('46243', String(46000 + i)) });
        await vi.advanceTimersByTimeAsync(100);
      }
      await vi.advanceTimersByTimeAsync(1);
      expect(call.forwarded()).toBeDefined();
      call.session.close();
    }
  });
});
