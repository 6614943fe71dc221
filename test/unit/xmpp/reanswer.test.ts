import { describe, expect, it } from 'vitest';
import { reanswerFromPeer, roleAfter } from '../../../adapters/xmpp/jingle/reanswer.js';
import type { MediaDirection, SessionDescription } from '../../../adapters/xmpp/jingle/session-description.js';
import { fixtureModel } from './jingle-fixtures.js';

// A browser's hold/resume re-offer towards an XMPP party is answered in the party's name from
// what it already said (its Conversations session-initiate here).

const peer = fixtureModel('conversations-session-initiate.json');
const browser = fixtureModel('chromium-offer.json');

function reOffer(direction: MediaDirection): SessionDescription {
  // The browser's re-offer uses the same mids as the session it holds.
  return { groups: peer.groups, contents: peer.contents.map((content, i) => ({ ...(browser.contents[i] ?? browser.contents[0]!), mid: content.mid, kind: content.kind, direction })) };
}

describe('reanswerFromPeer', () => {
  it.each([
    ['sendonly', 'recvonly'],
    ['inactive', 'inactive'],
    ['sendrecv', 'sendrecv'],
    ['recvonly', 'sendonly'],
  ] as const)('answers %s with %s, keeping the peer’s ICE credentials and the DTLS role in force', (offered, answered) => {
    const answer = reanswerFromPeer(reOffer(offered), peer, 'passive');
    expect(answer.contents.map((c) => c.direction)).toEqual(peer.contents.map(() => answered));
    answer.contents.forEach((content, i) => {
      expect(content.ice?.ufrag).toBe(peer.contents[i]!.ice?.ufrag);
      expect(content.dtls).toMatchObject({ fingerprint: peer.contents[i]!.dtls!.fingerprint, setup: 'passive' });
      expect(content.ice?.candidates).toEqual([]);
    });
  });

  it('only answers with codecs the re-offer still lists, and rejects contents the peer never had', () => {
    const offer = reOffer('sendonly');
    const audio = offer.contents[0]!;
    offer.contents[0] = { ...audio, codecs: audio.codecs.filter((codec) => codec.id === peer.contents[0]!.codecs[0]!.id) };
    offer.contents.push({ ...audio, mid: 'new' });
    const answer = reanswerFromPeer(offer, peer, 'active');
    expect(answer.contents[0]!.codecs.map((c) => c.id)).toEqual([peer.contents[0]!.codecs[0]!.id]);
    expect(answer.contents.at(-1)).toMatchObject({ mid: 'new', rejected: true });
  });
});

describe('roleAfter (RFC 4145 section 4)', () => {
  it('the answerer takes the role it said; the offerer (actpass) the other', () => {
    expect(roleAfter('active')).toEqual({ offerer: 'passive', answerer: 'active' });
    expect(roleAfter('passive')).toEqual({ offerer: 'active', answerer: 'passive' });
    expect(roleAfter(undefined)).toEqual({ offerer: 'passive', answerer: 'active' });
  });
});
