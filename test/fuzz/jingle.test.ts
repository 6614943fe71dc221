import { xml } from '@xmpp/client';
import { Parser, type Element } from '@xmpp/xml';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { exportJingleCandidate, importJingleCandidate, jingleCandidateToSdp } from '../../adapters/xmpp/jingle/jingle-candidates.js';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport, transportInfoImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { JingleParseError } from '../../adapters/xmpp/jingle/jingle-parse-error.js';
import * as ns from '../../adapters/xmpp/jingle/namespaces.js';
import { parseSdpCandidate, writeSdpCandidate } from '../../adapters/xmpp/jingle/sdp-candidate.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { SdpParseError } from '../../adapters/xmpp/jingle/sdp-parse-error.js';
import type { CodecParameter, IceCandidate, JingleRole, SessionDescription } from '../../adapters/xmpp/jingle/session-description.js';
import { jmiReason, readJmi } from '../../adapters/xmpp/jmi.js';
import { fixtureJingle, fixtureText, parseXml } from '../unit/xmpp/jingle-fixtures.js';
import { mutatedElement, type ElementDictionary } from './element-mutations.js';
import { fuzzProperty, typedOutcome } from './fuzz-runs.js';
import { SDP_DICTIONARY, WEBRTC_SDP } from './sdp-samples.js';
import { mutatedText } from './text-mutations.js';

// Jingle (XEP-0166/0167/0176/0320) as XMPP peers send it, and the translation both ways between
// Jingle and SDP (JINGLE.md), which the gateway does for every call with an XMPP party.

const JINGLE_SAMPLES = ['dino-session-initiate.xml', 'conversations-session-initiate.xml', 'chromium-offer-jingle.xml', 'minimal-session-initiate.xml', 'conversations-transport-info.xml'];
const samples: Element[] = JINGLE_SAMPLES.map((name) => {
  const root = parseXml(fixtureText(name));
  return root.is('jingle', ns.NS_JINGLE) ? root : fixtureJingle(name);
});

const DICTIONARY: ElementDictionary = {
  names: ['content', 'description', 'transport', 'payload-type', 'parameter', 'rtcp-fb', 'rtcp-fb-trr-int', 'rtp-hdrext', 'extmap-allow-mixed', 'source', 'ssrc-group', 'rtcp-mux', 'bandwidth', 'fingerprint', 'candidate', 'group', 'trickle', 'encryption', 'reason'],
  attributes: ['name', 'creator', 'senders', 'media', 'id', 'clockrate', 'channels', 'ptime', 'maxptime', 'value', 'type', 'subtype', 'uri', 'ssrc', 'semantics', 'ufrag', 'pwd', 'hash', 'setup', 'component', 'foundation', 'generation', 'ip', 'network', 'port', 'priority', 'protocol', 'rel-addr', 'rel-port', 'rel_port', 'tcptype', 'xmlns', 'action', 'sid'],
  values: ['initiator', 'responder', 'both', 'none', 'audio', 'video', 'actpass', 'active', 'passive', 'holdconn', 'host', 'srflx', 'prflx', 'relay', 'udp', 'UDP', 'tcp', 'so', 'opus', 'PCMU', 'telephone-event', 'trr-int', 'nack', 'pli', 'BUNDLE', 'FID', 'sha-256', 'AB:CD:EF', '192.0.2.1', '2001:db8::1', 'msid', 'cname', '0', '1', '2', '8000', '48000', '111'],
  namespaces: Object.values(ns),
};

const jingle = mutatedElement(samples, DICTIONARY);
const author = fc.constantFrom<JingleRole>('initiator', 'responder');

/** fmtp as written; `_` in names reads as `-` (Jingle import undoes Monal's underscores, JINGLE.md section 2.1). */
function fmtp(parameters: readonly CodecParameter[]): string {
  return parameters.map((p) => (p.name === '' ? p.value : `${p.name.replaceAll('_', '-')}=${p.value}`)).join(';');
}

/** What SDP carries of a candidate: no `id`; `rport` only with `raddr` (0 when Jingle left it out). */
function sdpCandidate({ id: _id, relPort, ...candidate }: IceCandidate): IceCandidate {
  return candidate.relAddr === undefined ? candidate : { ...candidate, relPort: relPort ?? 0 };
}

/** Per content: what a WebRTC stack needs to set up media. RTCP-component candidates go with rtcp-mux. */
function essentials(description: SessionDescription) {
  return description.contents
    .filter((content) => !content.rejected)
    .map((content) => ({
      mid: content.mid,
      kind: content.kind,
      direction: content.direction,
      codecs: content.codecs.map((codec) => ({ id: codec.id, name: codec.name, clockrate: codec.clockrate, channels: codec.channels, fmtp: fmtp(codec.parameters), feedback: codec.feedback })),
      ice: content.ice && { ufrag: content.ice.ufrag, pwd: content.ice.pwd },
      candidates: (content.ice?.candidates ?? []).filter((c) => !content.rtcpMux || c.component === 1).map(sdpCandidate),
      dtls: content.dtls,
    }));
}

/** Through the wire: serialised and parsed again by the XMPP stream parser, as a peer reads it. */
function overTheWire(element: Element): Element {
  const [stanza] = readStanzas(element.toString());
  if (!stanza) throw new Error(`did not parse back: ${element.toString().slice(0, 200)}`);
  return stanza;
}

const STREAM_OPEN = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/** The stanzas @xmpp/xml's stream parser (the one @xmpp/client uses) makes of `text`. */
function readStanzas(text: string): Element[] {
  const parser = new Parser();
  const stanzas: Element[] = [];
  parser.on('element', (element: Element) => stanzas.push(element));
  parser.on('error', () => {});
  try {
    parser.write(STREAM_OPEN);
    parser.write(text);
  } catch {
    // ltx throws out of write() on an undefined entity; that is the connection's business, not Jingle's.
  }
  return stanzas;
}

describe('Jingle import', () => {
  fuzzProperty('throws nothing but JingleParseError, whatever the elements and attributes', 1000, () =>
    fc.property(jingle, author, (element, role) => {
      typedOutcome(() => jingleImport(element, { author: role }), JingleParseError);
      typedOutcome(() => transportInfoImport(element, { author: role }), JingleParseError);
      for (const candidate of element.getChildElements().flatMap((content) => content.getChild('transport')?.getChildren('candidate') ?? [])) {
        typedOutcome(() => jingleCandidateToSdp(candidate), JingleParseError);
      }
    }),
  );

  fuzzProperty('an offer it accepts becomes SDP that reads back with the same codecs, candidates and fingerprint', 800, () =>
    fc.property(jingle, author, (element, role) => {
      const imported = typedOutcome(() => jingleImport(element, { author: role }), JingleParseError);
      if (!('value' in imported)) return;
      const sdp = sdpExport(imported.value);
      const back = sdpImport(sdp);
      expect(essentials(back)).toStrictEqual(essentials(imported.value));
    }),
  );

  fuzzProperty('the SDP it writes for an accepted offer reads back line for line (nothing else is lost)', 800, () =>
    fc.property(jingle, author, (element, role) => {
      const imported = typedOutcome(() => jingleImport(element, { author: role }), JingleParseError);
      if (!('value' in imported)) return;
      const sdp = sdpExport(imported.value);
      const again = sdpExport(sdpImport(sdp));
      // Lines may come in another order or once instead of twice (a=ssrc lines are grouped by SSRC).
      expect(new Set(again.split('\r\n'))).toStrictEqual(new Set(sdp.split('\r\n')));
      expect(sdpExport(sdpImport(again))).toBe(again);
    }),
  );

  const stanzaText = mutatedText(['conversations-session-initiate.xml', 'dino-session-initiate.xml', 'conversations-transport-info.xml'].map(fixtureText), {
    dictionary: ['<', '>', '/>', '</content>', '<content>', '"', "'", '=', ' ', '&amp;', '&lt;', '&#10;', '&#0;', '&bogus;', 'xmlns="urn:xmpp:jingle:1"', '<![CDATA[x]]>', '<!-- c -->', '<?pi x?>', ...DICTIONARY.values],
    maxLength: 60_000,
  });

  fuzzProperty('stanzas parsed from damaged XML text, as the stream parser reads them, fail only with JingleParseError', 800, () =>
    fc.property(stanzaText, author, (text, role) => {
      for (const stanza of readStanzas(text)) {
        const element = stanza.getChild('jingle', ns.NS_JINGLE);
        if (element) {
          typedOutcome(() => jingleImport(element, { author: role }), JingleParseError);
          typedOutcome(() => transportInfoImport(element, { author: role }), JingleParseError);
        }
        const jmi = readJmi(stanza);
        if (jmi) jmiReason(jmi.element);
      }
    }),
  );

  fuzzProperty('deeply nested elements (parsed from text) do not overflow the stack of the readers', 10, () =>
    fc.property(fc.integer({ min: 1_000, max: 60_000 }), fc.constantFrom('content', 'description', 'transport', 'payload-type', 'propose', 'reason'), (depth, where) => {
      const open = `<${where} xmlns='${ns.NS_JINGLE}'>`.repeat(depth);
      const close = `</${where}>`.repeat(depth);
      const text = `<iq type='set' id='1'><jingle xmlns='${ns.NS_JINGLE}' action='session-initiate' sid='s'>${open}${close}</jingle></iq>` +
        `<message from='a@b/c'><propose xmlns='${ns.NS_JMI}' id='x'><reason>${open}${close}</reason></propose></message>`;
      const stanzas = readStanzas(text);
      expect(stanzas).toHaveLength(2);
      typedOutcome(() => jingleImport(stanzas[0]!.getChild('jingle')!, { author: 'initiator' }), JingleParseError);
      typedOutcome(() => transportInfoImport(stanzas[0]!.getChild('jingle')!, { author: 'initiator' }), JingleParseError);
      const jmi = readJmi(stanzas[1]!);
      expect(jmi?.name).toBe('propose');
      jmiReason(jmi!.element);
    }),
  );
});

const webrtcSdp = mutatedText(WEBRTC_SDP, { dictionary: SDP_DICTIONARY, maxLength: 70_000 });

describe('SDP import and the Jingle it becomes', () => {
  fuzzProperty('sdpImport throws nothing but SdpParseError on damaged browser SDP', 1000, () =>
    fc.property(webrtcSdp, fc.constantFrom<'offer' | 'answer'>('offer', 'answer'), (sdp, type) => {
      typedOutcome(() => sdpImport(sdp, { type }), SdpParseError);
    }),
  );

  fuzzProperty('what it reads becomes Jingle that our own import reads back with the same codecs, candidates and fingerprint', 800, () =>
    fc.property(webrtcSdp, author, (sdp, role) => {
      const imported = typedOutcome(() => sdpImport(sdp), SdpParseError);
      if (!('value' in imported)) return;
      // Jingle needs ICE credentials (XEP-0176); without them there is nothing to compare.
      const usable = imported.value.contents.filter((content) => !content.rejected);
      if (usable.length === 0 || usable.some((content) => !content.ice)) return;
      const stanza = xml('jingle', { xmlns: ns.NS_JINGLE, action: 'session-initiate', sid: 's' }, ...jingleExport(imported.value, { author: role }));
      // XML 1.0 text only: a control character would make the server close the gateway's stream.
      expect(stanza.toString()).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/);
      const back = jingleImport(overTheWire(stanza), { author: role });
      // Jingle carries no TCP candidates and no value-only fmtp tokens (JINGLE.md section 2.1).
      const jingleable = (description: SessionDescription) =>
        essentials({
          ...description,
          contents: description.contents.map((content) => ({
            ...content,
            codecs: content.codecs.map((codec) => ({ ...codec, parameters: codec.parameters.filter((p) => p.name !== '') })),
            ...(content.ice && { ice: { ...content.ice, candidates: content.ice.candidates.filter((c) => c.protocol === 'udp').map(({ generation: _g, network: _n, ...c }) => c) } }),
          })),
        });
      expect(jingleable(back)).toStrictEqual(jingleable(imported.value));
    }),
  );
});

const candidateLine = mutatedText(
  WEBRTC_SDP.flatMap((sdp) => sdp.split('\r\n').filter((line) => line.startsWith('a=candidate:'))),
  { dictionary: [' ', '  ', '\t', 'typ', ' raddr ', ' rport ', ' tcptype ', ' generation ', ' network-id ', ' ufrag ', 'host', 'relay', 'udp', 'tcp', '0', '65536', '4294967296', '\r\n', ''], maxLength: 2000 },
);

describe('ICE candidates between SDP and Jingle', () => {
  fuzzProperty('parseSdpCandidate throws only SdpParseError; what it reads is written and read back the same, in SDP and in Jingle', 1500, () =>
    fc.property(candidateLine, (line) => {
      const parsed = typedOutcome(() => parseSdpCandidate(line), SdpParseError);
      if (!('value' in parsed)) return;
      const written = writeSdpCandidate(parsed.value);
      expect(writeSdpCandidate(parseSdpCandidate(written))).toBe(written);
      // Trickled towards Jingle (sendCandidate) and back (transport-info): the same candidate.
      const element = exportJingleCandidate(parsed.value);
      const back = importJingleCandidate(overTheWire(xml('iq', {}, element)).getChildElements()[0]!);
      expect(sdpCandidate(back)).toStrictEqual(sdpCandidate({ ...parsed.value, generation: parsed.value.generation ?? 0, network: parsed.value.network ?? 0 }));
    }),
  );
});
