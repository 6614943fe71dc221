import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { afterEach, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport, transportInfoImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { writeSdpCandidate } from '../../adapters/xmpp/jingle/sdp-candidate.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import type { MediaContent, SessionDescription } from '../../adapters/xmpp/jingle/session-description.js';
import type { WebRtcEndpoint } from '../../src/media/webrtc-endpoint.js';
import { useBrowserPages } from '../support/browser-pages.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';
import { measurePcmu, sendTone, XmppLab } from '../support/xmpp/xmpp-lab.js';
import type { XmppTestClient } from '../support/xmpp/xmpp-test-client.js';

// Web user alice (the demo page in headless Chromium: the SDK offers with max-bundle) calls an
// XMPP client that answers exactly as Dino 0.4.2 does, through a real Prosody. Dino has no
// XEP-0338: its session-accept never has a <group/> (dino/dino 45723ac
// xmpp-vala/src/module/xep/0166_jingle/session.vala:328-343), carries only the agreed payload type
// and <rtcp-mux/> (0167_jingle_rtp/content_parameters.vala:190-212), one transport per content
// with its own ufrag/pwd (plugins/ice/src/transport_parameters.vala:98-117) and setup='active'
// (same file, 74-75); Dino never sends JMI <ringing/> (JINGLE.md section 1.2). Chromium refused
// the gateway's first translation of that answer ("Answer cannot remove m= section with mid='0'
// from already-established BUNDLE group"). The Dino side's media is node-datachannel on loopback.

const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_JINGLE = 'urn:xmpp:jingle:1';
const ALICE = 'gateway@localhost/alice';

const pages = useBrowserPages({ loopbackSocketsOnly: true });
let lab: XmppLab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

async function setUp(): Promise<{ lab: XmppLab; page: SoftphonePage; dino: XmppTestClient }> {
  lab = await XmppLab.start({ users: { dino: 'dino-secret' } });
  const page = await pages.openPage(`http://127.0.0.1:${lab.gateway.httpPort}`);
  await page.login('alice');
  await expect.poll(() => page.registrationState(`xmpp:${ALICE}`), { timeout: 10_000 }).toBe('registered');
  const dino = await lab.xmppClient('dino', 'dino-secret', 'dino.8c1e5b27');
  return { lab, page, dino };
}

/** Dino's side of JMI: it proceeds (and never rings) and gets the session-initiate. */
async function proceedAndInitiate(dino: XmppTestClient): Promise<{ sid: string; initiate: Element }> {
  const propose = (await dino.message('propose', NS_JMI)).getChild('propose', NS_JMI)!;
  const sid = String(propose.attrs.id);
  await dino.send(xml('message', { to: ALICE, type: 'chat' }, xml('proceed', { xmlns: NS_JMI, id: sid })));
  return { sid, initiate: await dino.jingle('session-initiate') };
}

/** A content as Dino answers it: the one agreed payload type, no header extensions, no sources. */
function dinoContent(content: MediaContent): MediaContent {
  const { msid: _msid, ...rest } = content;
  return { ...rest, codecs: content.codecs.slice(0, 1), headerExtensions: [], extmapAllowMixed: false, sources: [], sourceGroups: [], feedback: [] };
}

function sessionAccept(sid: string, dino: XmppTestClient, answer: SessionDescription): Element {
  // Dino's accept has no <group/> whatever the offer had.
  const contents = jingleExport({ groups: [], contents: answer.contents }, { author: 'responder' });
  return xml('iq', { type: 'set', to: ALICE }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-accept', sid, responder: dino.jid }, ...contents));
}

/** The browser's candidates, trickled to Dino as transport-info, go to Dino's ICE agent. */
function feedCandidates(dino: XmppTestClient, media: WebRtcEndpoint): () => void {
  let running = true;
  void (async () => {
    while (running) {
      const info = await dino.jingle('transport-info', 1000).catch(() => undefined);
      if (!info) continue;
      for (const update of transportInfoImport(info, { author: 'initiator' })) {
        for (const candidate of update.candidates) media.addRemoteCandidate({ candidate: writeSdpCandidate(candidate), sdpMid: update.mid });
      }
    }
  })();
  return () => {
    running = false;
  };
}

describe('a web user calls a client that answers as Dino does (no BUNDLE, via Prosody)', () => {
  it("Dino's group-less session-accept for content 0 is a BUNDLE answer for the browser: the call connects, audio both ways", async () => {
    const { lab, page, dino } = await setUp();
    await page.dial('xmpp:dino@localhost');
    const { sid, initiate } = await proceedAndInitiate(dino);
    const offer = jingleImport(initiate, { author: 'initiator' });
    expect(offer.groups).toEqual([{ semantics: 'BUNDLE', mids: ['0'] }]);

    const media = lab.webrtcPeer('dino');
    const stopFeeding = feedCandidates(dino, media);
    try {
      const answer = sdpImport(await media.answerOffer(sdpExport(offer), [PCMU, TELEPHONE_EVENT_8K]), { type: 'answer' });
      const accept = sessionAccept(sid, dino, { groups: [], contents: answer.contents.map(dinoContent) });
      expect(accept.getChild('jingle')!.getChild('group')).toBeUndefined();
      await dino.request(accept);

      await page.waitForState('active');
      // 20 ms PCMU packets each way: Dino hears Chromium's fake microphone, Chromium plays Dino's tone.
      const dinoHeard = await measurePcmu(media, () => new Promise((resolve) => setTimeout(resolve, 1500)));
      const [pageHeard] = await Promise.all([page.inboundAudio(1500), sendTone(media, 75)]);
      const context = JSON.stringify({ dinoHeard, pageHeard });
      expect(dinoHeard.received, context).toBeGreaterThan(50);
      expect(dinoHeard.rms, context).toBeGreaterThan(0);
      expect(pageHeard.packetsReceived, context).toBeGreaterThan(50);
      expect(pageHeard.totalAudioEnergy, context).toBeGreaterThan(0);
    } finally {
      stopFeeding();
    }

    await page.hangup();
    const terminate = await dino.jingle('session-terminate');
    expect(terminate.getChild('reason')?.getChild('success')).toBeDefined();
    await expect.poll(() => lab.gateway.calls.size).toBe(0);
  }, 90_000);

  it("an answer the browser refuses ends as a failure on both sides: failed-application to the party, media-failed on the page", async () => {
    const { lab, page, dino } = await setUp();
    await page.dial('xmpp:dino@localhost');
    const { sid, initiate } = await proceedAndInitiate(dino);
    const offer = jingleImport(initiate, { author: 'initiator' });
    const media = lab.webrtcPeer('dino');
    const answer = sdpImport(await media.answerOffer(sdpExport(offer), [PCMU, TELEPHONE_EVENT_8K]), { type: 'answer' });
    // A broken party: setup='actpass' in an answer, which RFC 5763 section 5 forbids and Chromium refuses.
    const contents = answer.contents.map((content) => dinoContent({ ...content, dtls: { ...content.dtls!, setup: 'actpass' } }));
    await dino.request(sessionAccept(sid, dino, { groups: [], contents }));

    await page.waitForState('ended');
    expect(await page.endReason()).toBe('media-failed');
    const terminate = await dino.jingle('session-terminate');
    expect(terminate.getChild('reason')?.getChild('failed-application'), terminate.toString()).toBeDefined();
    expect(terminate.getChild('reason')?.getChild('success')).toBeUndefined();
    const finish = await dino.message('finish', NS_JMI);
    expect(finish.getChild('finish', NS_JMI)!.getChild('reason', NS_JINGLE)?.getChild('failed-application')).toBeDefined();
    await expect.poll(() => lab.gateway.calls.size).toBe(0);
  }, 90_000);

  it('audio + video on two transports (Dino without BUNDLE) cannot be bundled: the call fails clearly on both sides', async () => {
    const { lab, page, dino } = await setUp();
    await page.page.evaluate(async () => {
      const sb = (window as unknown as { switchboard: { client: { call(to: string, o: object): Promise<{ on(e: string, f: (...a: unknown[]) => void): void }> } } }).switchboard;
      const call = await sb.client.call('xmpp:dino@localhost', { video: true });
      call.on('ended', (reason, detail) => ((window as unknown as { ended: unknown }).ended = { reason, detail }));
    });
    const { sid, initiate } = await proceedAndInitiate(dino);
    const offer = jingleImport(initiate, { author: 'initiator' });
    expect(offer.contents.map((c) => c.kind)).toEqual(['audio', 'video']);
    expect(offer.groups[0]).toEqual({ semantics: 'BUNDLE', mids: ['0', '1'] });

    // Dino's answer: each content its own ICE agent stream, its own credentials (one DTLS certificate).
    const contents = offer.contents.map((content, i) =>
      dinoContent({
        ...content,
        direction: 'sendrecv',
        ice: { ufrag: `dn${i}x`, pwd: `dinoPasswordForContent${i}xx`, options: [], candidates: [], endOfCandidates: false },
        dtls: { hash: 'sha-256', fingerprint: content.dtls!.fingerprint, setup: 'active' },
      }),
    );
    await dino.request(sessionAccept(sid, dino, { groups: [], contents }));

    const terminate = await dino.jingle('session-terminate');
    expect(terminate.getChild('reason')?.getChild('incompatible-parameters'), terminate.toString()).toBeDefined();
    const finish = await dino.message('finish', NS_JMI);
    expect(finish.getChild('finish', NS_JMI)!.getChild('reason', NS_JINGLE)?.getChild('incompatible-parameters')).toBeDefined();
    await expect.poll(() => page.page.evaluate(() => (window as unknown as { ended?: { reason: string; detail?: string } }).ended)).toMatchObject({
      reason: 'incompatible-media',
      detail: expect.stringMatching(/does not bundle/),
    });
    await expect.poll(() => lab.gateway.calls.size).toBe(0);
  }, 90_000);
});
