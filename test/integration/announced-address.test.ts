import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'sdp-transform';
import type { Gateway } from '../../src/gateway.js';
import { RtpTonePeer } from '../../src/testing/rtp-tone-peer.js';
import { RtpPeerLeg } from '../support/rtp-peer-leg.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';

// The announced (public) address must be what parties see in the gateway's SDP
// and candidates. Only the SDP text is inspected: no party ever sends media to
// the documentation address used here.
const ANNOUNCED = '198.51.100.7';

let gateway: Gateway | undefined;
const closers: (() => unknown)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await gateway?.stop();
  gateway = undefined;
});

describe('media.announcedAddress', () => {
  it('appears in the candidates trickled after the WebRTC answer, and in the RTP/AVP offer to a phone', async () => {
    gateway = await startTestGateway({ media: { announcedAddress: ANNOUNCED } });
    let phoneLeg: RtpPeerLeg | undefined;
    gateway.router.register(['tel'], {
      createLeg: async ({ callId, target }) => {
        // Only the offer matters here: the phone refuses the call, so no media is ever sent.
        phoneLeg = new RtpPeerLeg(callId, target, await RtpTonePeer.create(), {
          answerSdp: () => {
            throw new Error('not answering');
          },
        });
        closers.push(() => phoneLeg!.peer.close());
        return phoneLeg;
      },
    });
    // A WebRTC party made with the gateway's own endpoint class, on loopback.
    const browserSide = makeWebRtcTestPeer('test-browser', (close) => closers.push(close));
    const offer = await browserSide.createOffer([PCMU]);
    const client = await WsTestClient.login(gateway.httpPort, 'alice');
    closers.push(() => client.close());

    client.send({ type: 'call', id: 'echo', callId: 'call-announce-echo', to: 'service:echo', sdp: offer });
    const answered = await client.next('answered');
    // The anchor's candidates follow its answer as trickle frames (held until the party can take
    // DTLS, see HeldCandidates), ended by a null candidate; none may be in the answer itself.
    expect(parse(answered.sdp).media[0]!.candidates ?? []).toEqual([]);
    expect(answered.sdp).not.toContain('127.0.0.1 ');
    const trickled: string[] = [];
    for (;;) {
      const frame = await client.next('candidate', (f) => f.callId === 'call-announce-echo');
      if (!frame.candidate) break;
      trickled.push(frame.candidate.candidate);
    }
    expect(trickled.length).toBeGreaterThan(0);
    for (const line of trickled) expect(line.split(' ')[4], line).toBe(ANNOUNCED);
    client.send({ type: 'hangup', callId: 'call-announce-echo' });
    await expect.poll(() => gateway!.calls.size).toBe(0);

    client.send({ type: 'call', id: 'phone', callId: 'call-announce-tel', to: 'tel:100', sdp: offer });
    await expect.poll(() => phoneLeg?.receivedOffer).toBeDefined();
    const phoneOffer = parse(phoneLeg!.receivedOffer!);
    expect(phoneOffer.connection?.ip).toBe(ANNOUNCED);
    expect(phoneOffer.media[0]?.protocol).toBe('RTP/AVP');
  }, 20_000);
});
