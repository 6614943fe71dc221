import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { PCMU } from '../support/webrtc-test-peer.js';
import { jingleIq, sendToneBetween, waitConnected, XmppLab } from '../support/xmpp/xmpp-lab.js';

// Issue #13 item 3: the gateway's XMPP stream (web user alice's resource of the service account)
// is cut at TCP level by a relay between the gateway and a real Prosody with mod_smacks. A resumed
// stream (XEP-0198) keeps carol's Jingle call with alice, audio and signalling included; a failed
// resumption ends it with a reason both sides hear.

const ALICE = 'gateway@localhost/alice';

let lab: XmppLab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

/** carol (an XMPP client with a node-datachannel media peer) calls web user alice; audio flows both ways. */
async function callInProgress(resumeSeconds: number) {
  lab = await XmppLab.start({ users: { carol: 'carol-secret' }, throughCutProxy: true, prosody: { streamManagement: true, resumeSeconds } });
  const carol = await lab.xmppClient('carol', 'carol-secret');
  const alice = await lab.webUser('alice');
  const sid = randomUUID();
  const carolMedia = lab.webrtcPeer('carol');
  const offer = jingleExport(sdpImport(await carolMedia.createOffer([PCMU]), { type: 'offer' }), { author: 'initiator' });
  await carol.request(jingleIq(ALICE, 'session-initiate', sid, offer, { initiator: carol.jid }));
  const incoming = await alice.next('incoming', () => true, 10_000);
  const aliceMedia = lab.webrtcPeer('alice');
  alice.send({ type: 'accept', callId: incoming.callId, sdp: await aliceMedia.answerOffer(incoming.sdp, [PCMU]) });
  const accept = await carol.jingle('session-accept');
  carolMedia.acceptAnswer(sdpExport(jingleImport(accept, { author: 'responder' })));
  await Promise.all([waitConnected(carolMedia), waitConnected(aliceMedia)]);
  expect((await sendToneBetween(carolMedia, aliceMedia)).received).toBeGreaterThanOrEqual(20);
  expect((await sendToneBetween(aliceMedia, carolMedia)).received).toBeGreaterThanOrEqual(20);
  return { lab, carol, alice, callId: String(incoming.callId), carolMedia, aliceMedia };
}

async function resumptions(outcome: string): Promise<number> {
  const metric = await lab!.gateway.metrics.xmppStreamResumptions.get();
  return metric.values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
}

describe('XMPP stream resumption (XEP-0198) keeps calls', () => {
  it('a cut stream resumes: the call stays up with audio both ways, and a hang-up still reaches carol', async () => {
    const { lab, carol, alice, callId, carolMedia, aliceMedia } = await callInProgress(600);
    alice.frames.splice(0);

    const cutAt = Date.now();
    lab.cutProxy!.cut();
    expect(await alice.next('registration', (r) => r.state === 'registering', 10_000)).toBeDefined();
    // Media does not go over XMPP: it flows while the stream is down.
    expect((await sendToneBetween(carolMedia, aliceMedia, 10, 25)).received).toBeGreaterThanOrEqual(8);
    expect(await alice.next('registration', (r) => r.state === 'registered', 20_000)).toBeDefined();
    console.log(`xmpp stream resumed ${Date.now() - cutAt} ms after the cut`);
    expect(await resumptions('resumed')).toBeGreaterThanOrEqual(1);
    expect(await resumptions('failed')).toBe(0);

    expect(alice.frames.some((frame) => frame.type === 'ended')).toBe(false);
    expect(lab.gateway.calls.size).toBe(1);
    const toAlice = await sendToneBetween(carolMedia, aliceMedia, 25, 35);
    const toCarol = await sendToneBetween(aliceMedia, carolMedia, 25, 25);
    expect(toAlice.received).toBeGreaterThanOrEqual(20);
    expect(toCarol.received).toBeGreaterThanOrEqual(20);
    expect(toAlice.rms).toBeGreaterThan(1000);
    expect(toCarol.rms).toBeGreaterThan(1000);

    // Jingle signalling goes on over the resumed stream.
    alice.send({ type: 'hangup', callId });
    expect((await carol.jingle('session-terminate')).getChild('reason')?.getChild('success')).toBeDefined();
  }, 60_000);

  it('a stream that cannot resume (down past the server’s hibernation time) ends the call with connectivity-error / connection-lost', async () => {
    const { lab, carol, alice, callId } = await callInProgress(1);
    alice.frames.splice(0);

    // Down 4 s, Prosody keeps the session 1 s: the reconnect's <resume/> gets <failed/>.
    lab.cutProxy!.cutFor(4_000);
    const ended = await alice.next('ended', (f) => f.callId === callId, 30_000);
    expect(ended).toMatchObject({ reason: 'connection-lost' });
    // The new session tells carol why (XEP-0166 connectivity-error), from the same bare JID.
    const terminate = await carol.jingle('session-terminate', 10_000);
    expect(terminate.getChild('reason')?.getChild('connectivity-error')).toBeDefined();
    expect(await resumptions('failed')).toBeGreaterThanOrEqual(1);
    expect(lab.gateway.calls.size).toBe(0);
  }, 60_000);
});
