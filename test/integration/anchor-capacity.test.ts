import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';

// node-datachannel aborts the process when its ICE port range is exhausted;
// the anchor must refuse the call that would need one port too many instead.

let gateway: Gateway | undefined;
const closers: (() => unknown)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await gateway?.stop();
  gateway = undefined;
});

async function offer(name: string): Promise<string> {
  const endpoint = makeWebRtcTestPeer(name, (close) => closers.push(close));
  return endpoint.createOffer([PCMU]);
}

describe('anchor ICE port capacity', () => {
  it('a call beyond media.icePortMin..icePortMax ends with unreachable; the gateway and the first call go on', async () => {
    const port = await allocatePort();
    gateway = await startTestGateway({ media: { icePortMin: port, icePortMax: port } });
    const alice = await WsTestClient.login(gateway.httpPort, 'alice');
    closers.push(() => alice.close());

    alice.send({ type: 'call', callId: 'echo-call-first', to: 'service:echo', sdp: await offer('first') });
    await alice.next('answered', (f) => f.callId === 'echo-call-first');
    expect(gateway.media.webRtcEndpoints).toBe(1);

    alice.send({ type: 'call', callId: 'echo-call-second', to: 'service:echo', sdp: await offer('second') });
    expect(await alice.next('ended', (f) => f.callId === 'echo-call-second')).toMatchObject({ reason: 'unreachable' });
    expect(gateway.calls.get('echo-call-first')?.state).toBe('active');

    alice.send({ type: 'hangup', callId: 'echo-call-first' });
    await expect.poll(() => gateway!.media.webRtcEndpoints).toBe(0);
    alice.send({ type: 'call', callId: 'echo-call-third', to: 'service:echo', sdp: await offer('third') });
    await alice.next('answered', (f) => f.callId === 'echo-call-third');
  }, 20_000);
});
