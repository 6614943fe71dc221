import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { jingleExport } from '../../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport } from '../../../adapters/xmpp/jingle/jingle-import.js';
import { NS_JINGLE } from '../../../adapters/xmpp/jingle/namespaces.js';
import { sdpExport } from '../../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../../adapters/xmpp/jingle/sdp-import.js';
import type { JingleRole, MediaDirection, SessionDescription } from '../../../adapters/xmpp/jingle/session-description.js';
import { canonical, fixtureJingle, fixtureModel, fixtureText, parseXml } from './jingle-fixtures.js';

// Golden files in both directions with toStrictEqual (stanza's test/jingle/sdp idea), and the
// round-trip property SDP → model → Jingle → model → SDP.

function wrap(children: Element[], action = 'session-initiate'): Element {
  return xml('jingle', { xmlns: NS_JINGLE, action, sid: 'a73f0c2e-5b19-4d8e-9f64-1c2b3a4d5e6f' }, ...children);
}

/** Jingle → Element → Jingle as a peer would see it: serialised and parsed again. */
function overTheWire(jingle: Element): Element {
  return parseXml(jingle.toString());
}

/**
 * The model as it survives a trip through Jingle, i.e. what Jingle cannot carry removed
 * (JINGLE.md section 2.1): value-only fmtp tokens, TCP candidates, rtcp-rsize, end-of-candidates,
 * rejected contents; and what Jingle export adds: candidate generation/network/id.
 */
function throughJingle(model: SessionDescription): SessionDescription {
  const contents = model.contents.filter((c) => !c.rejected);
  return {
    groups: model.groups
      .filter((g) => g.semantics === 'BUNDLE')
      .map((g) => ({ ...g, mids: g.mids.filter((mid) => contents.some((c) => c.mid === mid)) })),
    contents: contents.map((c) => ({
      ...c,
      codecs: c.codecs.map((codec) => ({ ...codec, parameters: codec.parameters.filter((p) => p.name !== '') })),
      rtcpReducedSize: false,
      ...(c.ice && {
        ice: {
          ...c.ice,
          options: c.ice.options.filter((o) => o === 'trickle'),
          endOfCandidates: false,
          candidates: c.ice.candidates
            .filter((cand) => cand.protocol === 'udp')
            .map((cand) => ({ ...cand, generation: cand.generation ?? 0, network: cand.network ?? 0, id: cand.id ?? `${cand.foundation}-${cand.component}-${cand.protocol}-${cand.ip}-${cand.port}` })),
        },
      }),
    })),
  };
}

function attributeLines(sdp: string): string[] {
  return sdp
    .split('\r\n')
    .filter((line) => line.startsWith('a='))
    .map((line) => line.replace(/ network-cost \d+$/, ''));
}

describe('Chromium offer (golden)', () => {
  const sdp = fixtureText('chromium-offer.sdp');
  const model = fixtureModel('chromium-offer.json');

  it('sdpImport() reads the offer into the golden model', () => {
    expect(sdpImport(sdp)).toStrictEqual(model);
  });

  it('sdpImport() copies session-level extmap-allow-mixed into every content', () => {
    expect(model.contents.map((c) => c.extmapAllowMixed)).toStrictEqual([true, true]);
  });

  it('jingleExport() as initiator gives the golden session-initiate', () => {
    const golden = parseXml(fixtureText('chromium-offer-jingle.xml'));
    expect(canonical(wrap(jingleExport(model, { author: 'initiator' })))).toStrictEqual(canonical(golden));
  });

  it('jingleImport() of the golden Jingle gives the model minus what Jingle cannot carry', () => {
    const golden = parseXml(fixtureText('chromium-offer-jingle.xml'));
    expect(jingleImport(golden, { author: 'initiator' })).toStrictEqual(throughJingle(model));
  });

  it('sdpExport() keeps every attribute line of the offer except the msid-semantic token', () => {
    const exported = attributeLines(sdpExport(model));
    const missing = attributeLines(sdp).filter((line) => !exported.includes(line));
    expect(missing).toStrictEqual(['a=msid-semantic: WMS 9f3c1b52-6a2e-4a8e-9c1d-3b7f0e5a2d41']);
  });

  it('sdpImport(sdpExport(model)) is the model', () => {
    expect(sdpImport(sdpExport(model))).toStrictEqual(model);
  });
});

describe('Conversations session-initiate (golden)', () => {
  const model = fixtureModel('conversations-session-initiate.json');

  it('jingleImport() gives the golden model (BUNDLE, ICE options, msid from the sources, trimmed)', () => {
    expect(jingleImport(fixtureJingle('conversations-session-initiate.xml'), { author: 'initiator' })).toStrictEqual(model);
  });

  it('sdpExport() gives the golden offer', () => {
    expect(sdpExport(model)).toBe(fixtureText('conversations-session-initiate.sdp'));
  });

  it('sdpImport() of the golden offer gives the model back', () => {
    expect(sdpImport(fixtureText('conversations-session-initiate.sdp'))).toStrictEqual(model);
  });

  it('jingleExport() writes what Conversations requires: actpass, fingerprint, rtcp-mux, one BUNDLE group first', () => {
    const jingle = wrap(jingleExport(model, { author: 'initiator' }));
    const contents = jingle.getChildren('content', NS_JINGLE);
    expect(contents.map((c) => c.attrs['creator'])).toStrictEqual(['initiator', 'initiator']);
    for (const content of contents) {
      const fingerprint = content.getChild('transport')?.getChild('fingerprint');
      expect(fingerprint?.attrs).toMatchObject({ hash: 'sha-256', setup: 'actpass' });
      expect(content.getChild('description')?.getChild('rtcp-mux')).toBeDefined();
      expect(content.attrs['senders']).toBeUndefined();
    }
    const groups = jingle.getChildElements().filter((el) => el.getName() === 'group');
    expect(groups.map((g) => canonical(g).children.length)).toStrictEqual([2]);
  });

  it('renomination is read but not announced back (libjuice does not do it)', () => {
    const again = jingleImport(overTheWire(wrap(jingleExport(model, { author: 'initiator' }))), { author: 'initiator' });
    expect(again.contents.map((c) => c.ice?.options)).toStrictEqual([['trickle'], ['trickle']]);
  });
});

describe('Dino session-initiate, two contents without BUNDLE (golden)', () => {
  const model = fixtureModel('dino-session-initiate.json');

  it('jingleImport() gives the golden model: no groups, own ICE per content, SDES ignored', () => {
    expect(jingleImport(fixtureJingle('dino-session-initiate.xml'), { author: 'initiator' })).toStrictEqual(model);
  });

  it('sdpExport() gives the golden offer: no group, per-m-line ufrag, no RTCP-component candidates', () => {
    const sdp = sdpExport(model);
    expect(sdp).toBe(fixtureText('dino-session-initiate.sdp'));
    expect(sdp).not.toContain('a=group:');
    expect(sdp.match(/^a=ice-ufrag:.*$/gm)).toStrictEqual(['a=ice-ufrag:Wd1X', 'a=ice-ufrag:p8Kc']);
    expect(sdp.match(/^a=candidate:\S+ 2 /gm)).toBeNull();
  });

  it('jingleExport() of a description without groups writes no <group/>', () => {
    const children = jingleExport(model, { author: 'responder' });
    expect(children.map((el) => el.getName())).toStrictEqual(['content', 'content']);
  });
});

describe('round trip SDP → model → Jingle → model → SDP', () => {
  const sdp = fixtureText('chromium-offer.sdp');

  it.each<JingleRole>(['initiator', 'responder'])('keeps every attribute a browser needs (author %s)', (author) => {
    const model = sdpImport(sdp);
    const back = jingleImport(overTheWire(wrap(jingleExport(model, { author }))), { author });
    expect(back).toStrictEqual(throughJingle(model));

    const lost = ['a=fmtp:63 111/111', 'a=rtcp-rsize'];
    const needed = attributeLines(sdp).filter(
      (line) => !line.startsWith('a=msid-semantic') && !lost.includes(line) && !/^a=candidate:\S+ 1 tcp /.test(line),
    );
    const final = attributeLines(sdpExport(back));
    expect(needed.filter((line) => !final.includes(line))).toStrictEqual([]);
    for (const prefix of ['a=rtpmap:', 'a=fmtp:', 'a=rtcp-fb:', 'a=extmap:', 'a=ssrc:', 'a=ssrc-group:', 'a=msid:', 'a=group:', 'a=mid:', 'a=ice-', 'a=fingerprint:', 'a=setup:', 'a=candidate:']) {
      expect(final.some((line) => line.startsWith(prefix)), prefix).toBe(true);
    }
  });

  it.each<[JingleRole, MediaDirection]>([
    ['initiator', 'sendonly'],
    ['initiator', 'recvonly'],
    ['responder', 'sendonly'],
    ['responder', 'recvonly'],
    ['initiator', 'inactive'],
  ])('keeps direction (author %s, %s) for content and header extensions', (author, direction) => {
    const model = sdpImport(sdp);
    const audio = model.contents[0]!;
    audio.direction = direction;
    audio.headerExtensions[0]!.direction = direction;
    const back = jingleImport(overTheWire(wrap(jingleExport(model, { author }))), { author });
    expect(back.contents[0]?.direction).toBe(direction);
    expect(back.contents[0]?.headerExtensions[0]?.direction).toBe(direction);
    expect(sdpExport(back)).toContain(`a=${direction}\r\n`);
    expect(sdpExport(back)).toContain(`a=extmap:1/${direction} urn:ietf:params:rtp-hdrext:ssrc-audio-level`);
  });
});
