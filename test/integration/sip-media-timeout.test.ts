import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTone } from '../../src/media/audio-analysis.js';
import { encodePcmu } from '../../src/media/g711.js';
import { allocatePort } from '../support/sip/ports.js';
import { runSipp, type SippResult } from '../support/sip/sipp.js';
import { testScope } from '../support/test-scope.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';

// A SIP party (sipp over UDP) calls a web user through the media anchor,
// plays a few seconds of real RTP, then vanishes without BYE and without
// session timers. The gateway must notice the silence and end the call:
// `ended` with `media-timeout` to the browser, BYE with a Reason header to
// the SIP party. A held party sending nothing must not be taken for dead.
// The web user is a protocol client with a real node-datachannel endpoint.

/** Short enough for a test; production defaults to 60 s. */
const INACTIVITY_TIMEOUT_MS = 2000;

const scope = testScope();

async function sipGateway(): Promise<number> {
  const sipPort = await allocatePort();
  await scope.start({ sip: { enabled: true, port: sipPort }, media: { inactivityTimeoutMs: INACTIVITY_TIMEOUT_MS } });
  return sipPort;
}

async function webUser(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(scope.gateway!.httpPort, name);
  scope.defer(() => client.close());
  return client;
}

/** Answers the next incoming call with a real ICE/DTLS endpoint, like a browser. */
async function answerNextCall(client: WsTestClient): Promise<string> {
  const incoming = await client.next('incoming', () => true, 10_000);
  const endpoint = makeWebRtcTestPeer(`web-${incoming.callId}`, (close) => scope.defer(close));
  client.send({ type: 'ringing', callId: incoming.callId });
  client.send({ type: 'accept', callId: incoming.callId, sdp: await endpoint.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]) });
  return incoming.callId;
}

/** A raw PCMU file (what sipp's rtp_stream plays: 160 bytes per 20 ms packet), as sipp's -key value "FILE,1,0". */
function pcmuAudio(seconds: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-media-timeout-'));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tone.pcmu');
  writeFileSync(file, encodePcmu(makeTone({ frequency: 440, sampleRate: 8000, amplitude: 0.3 })(8000 * seconds)));
  return `${file},1,0`;
}

/** RTP packets the anchor accepted from the SIP party so far (its plain-RTP side). */
function rtpFromSipParty(): number {
  const call = scope.gateway!.calls.list()[0];
  if (!call) return 0;
  const stats = (call.media as unknown as { stats(): Record<string, { rtp?: { packetsIn: number } }> }).stats();
  return (stats.a?.rtp?.packetsIn ?? 0) + (stats.b?.rtp?.packetsIn ?? 0);
}

function expectSuccess(result: SippResult): void {
  expect(result.exitCode, `sipp failed:\n${result.errors}\n${result.stderr.slice(-2000)}\n${result.messages.slice(-6000)}`).toBe(0);
  expect(result.stats.successfulCalls).toBe(1);
}

describe('anchored SIP party that goes silent', () => {
  it('a SIP caller that vanishes after ACK is hung up: media-timeout to the browser, BYE with Reason to the SIP party', async () => {
    const sipPort = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({
      scenario: 'uac-media-stops',
      remote: `127.0.0.1:${sipPort}`,
      service: 'alice',
      variables: { rtp_audio: pcmuAudio(2) },
      traceMessages: true,
      timeoutS: 30,
    });
    const callId = await answerNextCall(alice);
    // Real media first: the call is judged on a stream that existed, then stopped.
    await expect.poll(rtpFromSipParty, { timeout: 10_000 }).toBeGreaterThan(20);

    const ended = await alice.next('ended', (frame) => frame.callId === callId, 20_000);
    expect(ended).toMatchObject({ callId, reason: 'media-timeout' });
    expect(ended.detail).toMatch(/^sip:sipp@127\.0\.0\.1\S* sent no RTP or RTCP for \d+ s$/);

    // sipp's scenario accepts only a BYE whose Reason header carries cause=408.
    const result = await sipp;
    expectSuccess(result);
    expect(result.messages).toMatch(/^BYE sip:[\s\S]*?^Reason: SIP ;cause=408 ;text="Media Timeout"/m);
    expect(scope.gateway!.calls.size).toBe(0);
    expect(scope.gateway!.media.ports.inUse).toBe(0);
  }, 60_000);

  for (const holdDirection of ['sendonly', 'inactive'] as const) {
    it(`a party on hold (a=${holdDirection}, no RTP) lives through several timeouts; once resumed, silence ends it`, async () => {
      const sipPort = await sipGateway();
      const alice = await webUser('bob');
      const sipp = runSipp({
        scenario: 'uac-hold-silent',
        remote: `127.0.0.1:${sipPort}`,
        service: 'bob',
        variables: { rtp_audio: pcmuAudio(1), hold_direction: holdDirection },
        // The hold lasts four inactivity timeouts. A BYE from the gateway during it is a message
        // sipp does not expect there: the call fails and sipp exits 1.
        pauseMs: 4 * INACTIVITY_TIMEOUT_MS,
        traceMessages: true,
        timeoutS: 40,
      });
      const callId = await answerNextCall(alice);
      await expect.poll(rtpFromSipParty, { timeout: 10_000 }).toBeGreaterThan(10);

      const ended = await alice.next('ended', (frame) => frame.callId === callId, 30_000);
      expect(ended).toMatchObject({ callId, reason: 'media-timeout' });
      const result = await sipp;
      expectSuccess(result);
      // The BYE came after the resume: the trace has both re-INVITEs before it.
      const trace = result.messages;
      const resume = trace.indexOf('CSeq: 3 INVITE');
      const bye = trace.search(/^BYE sip:/m);
      expect(resume).toBeGreaterThan(0);
      expect(bye).toBeGreaterThan(resume);
    }, 60_000);
  }
});
