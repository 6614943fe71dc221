import { describe, expect, it } from 'vitest';
import { restoreAnswerBundle, UnbundledAnswerError } from '../../../adapters/xmpp/jingle/answer-bundle.js';
import { jingleImport } from '../../../adapters/xmpp/jingle/jingle-import.js';
import { sdpExport } from '../../../adapters/xmpp/jingle/sdp-export.js';
import type { SessionDescription } from '../../../adapters/xmpp/jingle/session-description.js';
import { fixtureJingle, fixtureModel } from './jingle-fixtures.js';

// A browser's BUNDLE offer (Chromium, max-bundle) answered by a party without XEP-0338: Dino's
// session-accept for content "0" has no <group/>, and Chromium refuses an answer that drops the
// group it offered. The converter restores the group where it describes what the party does.

const chromiumOffer = fixtureModel('chromium-offer.json');
/** The browser's audio-only offer: its audio m-line alone in the BUNDLE group. */
const audioOffer: SessionDescription = { groups: [{ semantics: 'BUNDLE', mids: ['0'] }], contents: [chromiumOffer.contents[0]!] };
const dinoAccept = jingleImport(fixtureJingle('dino-session-accept.xml'), { author: 'responder' });

describe('restoreAnswerBundle', () => {
  it("puts the offered BUNDLE group back over Dino's one accepted content, and the SDP says so", () => {
    expect(dinoAccept.groups).toEqual([]);
    const answer = restoreAnswerBundle(audioOffer, dinoAccept);
    expect(answer.groups).toEqual([{ semantics: 'BUNDLE', mids: ['0'] }]);
    expect(answer.contents).toBe(dinoAccept.contents);
    expect(sdpExport(answer)).toMatch(/\r\na=group:BUNDLE 0\r\n/);
  });

  it('groups only the accepted contents when the party accepts one of several offered (a group of one)', () => {
    // The browser offered audio + video bundled; the party accepted audio and rejected video.
    const video = { ...dinoAccept.contents[0]!, mid: '1', kind: 'video' as const, rejected: true as const };
    const answer = restoreAnswerBundle(chromiumOffer, { groups: [], contents: [dinoAccept.contents[0]!, video] });
    expect(answer.groups).toEqual([{ semantics: 'BUNDLE', mids: ['0'] }]);
  });

  it('groups several accepted contents that share one ICE/DTLS transport, in the offer’s order', () => {
    const audio = dinoAccept.contents[0]!;
    const video = { ...audio, mid: '1', kind: 'video' as const };
    const answer = restoreAnswerBundle(chromiumOffer, { groups: [], contents: [video, audio] });
    expect(answer.groups).toEqual([{ semantics: 'BUNDLE', mids: ['0', '1'] }]);
  });

  it('refuses contents on separate transports (Dino’s audio + video): no BUNDLE group can describe them', () => {
    const audio = dinoAccept.contents[0]!;
    const video = { ...audio, mid: '1', kind: 'video' as const, ice: { ...audio.ice!, ufrag: 'Zt4q', pwd: 'Vb8nM1cX6kP3rW9sQ2hJ5a' } };
    expect(() => restoreAnswerBundle(chromiumOffer, { groups: [], contents: [audio, video] })).toThrow(UnbundledAnswerError);
    const otherCertificate = { ...audio, mid: '1', kind: 'video' as const, dtls: { ...audio.dtls!, fingerprint: audio.dtls!.fingerprint.replace(/^7E/, '7F') } };
    expect(() => restoreAnswerBundle(chromiumOffer, { groups: [], contents: [audio, otherCertificate] })).toThrow(/separate ICE\/DTLS transports/);
  });

  it('leaves answers alone when the offer did not bundle or the party grouped itself', () => {
    expect(restoreAnswerBundle({ ...audioOffer, groups: [] }, dinoAccept)).toBe(dinoAccept);
    const grouped = { ...dinoAccept, groups: [{ semantics: 'BUNDLE', mids: ['0'] }] };
    expect(restoreAnswerBundle(audioOffer, grouped)).toBe(grouped);
  });
});
