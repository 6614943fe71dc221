import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../src/events/typed-emitter.js';
import { AnchorLiveness, type LivenessParty } from '../../../src/media/anchor-liveness.js';
import { MediaInactivityWatch } from '../../../src/media/media-inactivity-watch.js';
import type { RtpEndpoint } from '../../../src/media/rtp-endpoint.js';
import type { MediaDirection } from '../../../src/media/sdp-audio.js';
import type { WebRtcEndpoint, WebRtcState } from '../../../src/media/webrtc-endpoint.js';

// The per-call rules on top of the shared sweep, with fake endpoints and a
// fake clock: which parties are judged by packets, what hold means for
// both of them, and that the call is told once, after the sweep.

let now = 0;

class FakeWebRtc extends TypedEmitter<{ statechange: [state: WebRtcState]; listenererror: [event: string, error: unknown] }> {
  state: WebRtcState = 'connected';
  closed = false;
  set(state: WebRtcState): void {
    this.state = state;
    this.safeEmit('statechange', state);
  }
}

function phone(uri = 'sip:phone@127.0.0.1'): LivenessParty & { packets: number; direction: MediaDirection | undefined } {
  const party = {
    uri,
    packets: 0,
    direction: 'sendrecv' as MediaDirection | undefined,
    webrtc: undefined,
    rtp: {
      get packetsReceived() {
        return party.packets;
      },
    } as unknown as RtpEndpoint,
  };
  return party;
}

function browser(uri = 'web:alice'): LivenessParty & { fake: FakeWebRtc; direction: MediaDirection | undefined } {
  const fake = new FakeWebRtc();
  return { uri, fake, direction: 'sendrecv', rtp: undefined, webrtc: fake as unknown as WebRtcEndpoint };
}

function setUp(parties: LivenessParty[], limits = { timeoutMs: 2000, holdTimeoutMs: 0 }) {
  now = 0;
  const inactivity = new MediaInactivityWatch(limits, { clock: () => now });
  const lost: string[] = [];
  const liveness = new AnchorLiveness(parties, inactivity, (detail) => lost.push(detail));
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += 250) {
      now += 250;
      inactivity.sweep();
    }
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { inactivity, liveness, lost, advance };
}

describe('AnchorLiveness', () => {
  it('a silent phone ends the call once, after the sweep, naming the phone', async () => {
    const sip = phone();
    const { lost, advance, inactivity } = setUp([browser(), sip]);
    await advance(1750);
    expect(lost).toEqual([]);
    await advance(250);
    expect(lost).toEqual(['sip:phone@127.0.0.1 sent no RTP or RTCP for 2 s']);
    await advance(10_000);
    expect(lost).toHaveLength(1);
    expect(inactivity.size).toBe(0);
  });

  it('the browser is never judged by packets: only its connection ends the call', async () => {
    const web = browser();
    const sip = phone();
    const { lost, advance } = setUp([web, sip]);
    // The phone talks; the browser sends nothing at all (a sender muted with replaceTrack(null)).
    for (let i = 0; i < 40; i++) {
      sip.packets += 1;
      await advance(250);
    }
    expect(lost).toEqual([]);
    web.fake.set('disconnected');
    web.fake.set('closed');
    await advance(250);
    expect(lost).toEqual(['web:alice closed its WebRTC connection']);
  });

  it('while either party holds, both are held: a phone that only answers what it hears may fall silent', async () => {
    const web = browser();
    const echo = phone('service:echo');
    const { lost, advance } = setUp([web, echo]);
    web.direction = 'inactive'; // the browser holds; the anchor answers it and sends the echo nothing
    await advance(60_000);
    expect(lost).toEqual([]);
    web.direction = 'sendrecv'; // resumed: the echo gets a full period from here
    await advance(1750);
    expect(lost).toEqual([]);
    await advance(500);
    expect(lost).toEqual(['service:echo sent no RTP or RTCP for 2 s']);
  });

  it('a held call uses the hold limit when one is set, and says so', async () => {
    const sip = phone();
    sip.direction = 'sendonly';
    const { lost, advance } = setUp([browser(), sip], { timeoutMs: 2000, holdTimeoutMs: 5000 });
    await advance(4750);
    expect(lost).toEqual([]);
    await advance(500);
    expect(lost).toEqual(['sip:phone@127.0.0.1 sent no RTP or RTCP for 5 s on hold']);
  });

  it('before the answer is processed (no direction yet) nobody is judged; restart() gives a re-offer a full period', async () => {
    const sip = phone();
    sip.direction = undefined;
    const { liveness, lost, advance } = setUp([browser(), sip]);
    await advance(10_000);
    expect(lost).toEqual([]);
    sip.direction = 'sendrecv';
    await advance(1500);
    liveness.restart(); // e.g. a re-INVITE with a new port
    await advance(1750);
    expect(lost).toEqual([]);
    await advance(500);
    expect(lost).toHaveLength(1);
  });

  it('close() stops the sweep entry and the connection watch; nothing is reported after', async () => {
    const web = browser();
    const sip = phone();
    const { liveness, lost, advance, inactivity } = setUp([web, sip]);
    liveness.close();
    expect(inactivity.size).toBe(0);
    web.fake.set('failed');
    await advance(10_000);
    expect(lost).toEqual([]);
  });
});
