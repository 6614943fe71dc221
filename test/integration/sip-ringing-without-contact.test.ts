import { describe, expect, it } from 'vitest';
import { allocatePort } from '../support/sip/ports.js';
import { describeSipp, startSippServer } from '../support/sip/sipp.js';
import { testScope } from '../support/test-scope.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';

// A phone whose 180 Ringing carries a To tag but no Contact (linphone 5.1; RFC 3261 section 12.1.1
// wants one): sip.js drops such a 180, and the web caller used to see nothing until the answer.
// sipp plays that phone; the caller must get `ringing`, then gives up (CANCEL, 487).

const scope = testScope();

describe('a 180 Ringing without Contact', () => {
  it('reaches the web caller as ringing, and the call can still be cancelled', async () => {
    const sipPort = await allocatePort();
    await scope.start({ sip: { enabled: true, port: sipPort } });
    const phone = await startSippServer({ scenario: 'uas-ring-no-contact', calls: 1, timeoutS: 30 });
    scope.defer(() => phone.stop());
    const alice = await WsTestClient.login(scope.gateway!.httpPort, 'alice');
    scope.defer(() => alice.close());
    const browser = makeWebRtcTestPeer('alice-browser', (close) => scope.defer(close));
    alice.send({ type: 'call', id: 'c', callId: 'to-contactless-phone', to: `sip:phone@127.0.0.1:${phone.port}`, sdp: await browser.createOffer([PCMU]) });
    await alice.next('ack', (frame) => frame.id === 'c');
    expect(await alice.next('ringing', (frame) => frame.callId === 'to-contactless-phone', 10_000)).toMatchObject({ callId: 'to-contactless-phone' });
    alice.send({ type: 'hangup', callId: 'to-contactless-phone' });
    const result = await phone.done;
    expect(result.exitCode, describeSipp(result)).toBe(0);
    expect(result.stats.successfulCalls).toBe(1);
  }, 40_000);
});
