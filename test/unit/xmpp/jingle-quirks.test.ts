import { describe, expect, it } from 'vitest';
import { jingleExport } from '../../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport } from '../../../adapters/xmpp/jingle/jingle-import.js';
import { directionToSenders, sendersToDirection, type JingleSenders } from '../../../adapters/xmpp/jingle/jingle-senders.js';
import { sdpExport } from '../../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../../adapters/xmpp/jingle/sdp-import.js';
import { SdpParseError } from '../../../adapters/xmpp/jingle/sdp-parse-error.js';
import type { JingleRole, MediaDirection } from '../../../adapters/xmpp/jingle/session-description.js';
import { fixtureText, parseXml } from './jingle-fixtures.js';

// Per-client behaviour from shared/JINGLE.md, one case each.

const MINIMAL = fixtureText('minimal-session-initiate.xml');

function importVariant(search: string, replace: string, author: JingleRole = 'initiator') {
  const text = MINIMAL.replace(search, replace);
  expect(text, `the fixture contains ${search}`).not.toBe(MINIMAL);
  return jingleImport(parseXml(text), { author });
}

describe('senders <-> direction is role-aware (XEP-0166 section 7.1, JINGLE.md section 1.3)', () => {
  it.each<[JingleSenders, JingleRole, MediaDirection]>([
    ['both', 'initiator', 'sendrecv'],
    ['both', 'responder', 'sendrecv'],
    ['none', 'initiator', 'inactive'],
    ['initiator', 'initiator', 'sendonly'],
    ['initiator', 'responder', 'recvonly'],
    ['responder', 'initiator', 'recvonly'],
    ['responder', 'responder', 'sendonly'],
  ])('senders=%s in the %s\'s description is %s', (senders, author, direction) => {
    expect(sendersToDirection(senders, author)).toBe(direction);
    expect(directionToSenders(direction, author)).toBe(senders);
  });

  it('an absent senders means both', () => {
    expect(jingleImport(parseXml(MINIMAL), { author: 'responder' }).contents[0]?.direction).toBe('sendrecv');
  });

  it("senders='initiator' read from a session-accept (author responder) is recvonly", () => {
    expect(importVariant('name="a0"', 'name="a0" senders="initiator"', 'responder').contents[0]?.direction).toBe('recvonly');
  });
});

describe('Jingle import quirks', () => {
  it("normalises Monal's fmtp names, decimal profile_level_id and dtmp_tones (JINGLE.md section 2.1)", () => {
    const content = importVariant(
      '<payload-type id="0" name="PCMU" clockrate="8000"/>',
      '<payload-type id="102" name="H264" clockrate="90000"><parameter name="packetization_mode" value="1"/><parameter name="level_asymmetry_allowed" value="1"/><parameter name="profile_level_id" value="4325407"/></payload-type>' +
        '<payload-type id="101" name="telephone-event" clockrate="8000"><parameter name="dtmp_tones" value="0-16"/></payload-type>',
    ).contents[0]!;
    expect(content.codecs.map((c) => c.parameters)).toStrictEqual([
      [{ name: 'useinbandfec', value: '1' }],
      [
        { name: 'packetization-mode', value: '1' },
        { name: 'level-asymmetry-allowed', value: '1' },
        { name: 'profile-level-id', value: '42001f' },
      ],
      [{ name: '', value: '0-16' }],
    ]);
    const sdp = sdpExport({ groups: [], contents: [content] });
    expect(sdp).toContain('a=fmtp:102 packetization-mode=1;level-asymmetry-allowed=1;profile-level-id=42001f\r\n');
    expect(sdp).toContain('a=fmtp:101 0-16\r\n');
  });

  it("reads lib-jitsi-meet's name='' and the Converse.js PR's nameless parameter as value-only tokens, and never sends them", () => {
    const content = importVariant('<parameter name="useinbandfec" value="1"/>', '<parameter name="" value="0-15"/><parameter value="x"/>').contents[0]!;
    expect(content.codecs[0]?.parameters).toStrictEqual([
      { name: '', value: '0-15' },
      { name: '', value: 'x' },
    ]);
    const exported = jingleExport({ groups: [], contents: [content] }, { author: 'initiator' })[0]!;
    expect(exported.getChild('description')?.getChild('payload-type')?.getChildren('parameter')).toStrictEqual([]);
  });

  it('a static payload-type may omit name and clockrate (XEP-0167 section 4)', () => {
    const codec = importVariant('<payload-type id="0" name="PCMU" clockrate="8000"/>', '<payload-type id="8"/>').contents[0]!.codecs[1];
    expect(codec).toStrictEqual({ id: 8, name: 'PCMA', clockrate: 8000, parameters: [], feedback: [] });
  });

  it('a fingerprint without setup gets actpass from the initiator and active from the responder', () => {
    expect(importVariant(' setup="actpass"', '').contents[0]?.dtls?.setup).toBe('actpass');
    expect(importVariant(' setup="actpass"', '', 'responder').contents[0]?.dtls?.setup).toBe('active');
  });

  it("takes Movim's ptime from <description/> and writes it on every payload-type", () => {
    const content = importVariant('media="audio"', 'media="audio" ptime="20" maxptime="60"').contents[0]!;
    expect([content.ptime, content.maxptime]).toStrictEqual([20, 60]);
    const payloadTypes = jingleExport({ groups: [], contents: [content] }, { author: 'initiator' })[0]?.getChild('description')?.getChildren('payload-type');
    expect(payloadTypes?.map((pt) => [pt.attrs['ptime'], pt.attrs['maxptime']])).toStrictEqual([
      ['20', '60'],
      ['20', '60'],
    ]);
  });

  it('reads rtcp-fb on <description/> as wildcard feedback and trr-int (XEP-0293)', () => {
    const content = importVariant(
      '<rtcp-mux/>',
      '<rtcp-fb xmlns="urn:xmpp:jingle:apps:rtp:rtcp-fb:0" type="nack"/><rtcp-fb-trr-int xmlns="urn:xmpp:jingle:apps:rtp:rtcp-fb:0" value="100"/><rtcp-mux/>',
    ).contents[0]!;
    expect(content.feedback).toStrictEqual([{ type: 'nack' }, { type: 'trr-int', subtype: '100' }]);
    expect(sdpExport({ groups: [], contents: [content] })).toContain('a=rtcp-fb:* nack\r\na=rtcp-fb:* trr-int 100\r\n');
  });

  it('a content without <rtcp-mux/> says so, for the session to refuse (JINGLE.md section 6, pitfall 15)', () => {
    expect(importVariant('<rtcp-mux/>', '').contents[0]?.rtcpMux).toBe(false);
  });
});

const LIBDATACHANNEL_ANSWER = [
  'v=0',
  'o=rtc 2815376541 0 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'a=group:LS 0 1',
  'a=msid-semantic:WMS *',
  'a=ice-options:ice2,trickle',
  'a=fingerprint:sha-256 1d:2f:3a:4b:5c:6d:7e:8f:90:a1:b2:c3:d4:e5:f6:07:18:29:3a:4b:5c:6d:7e:8f:90:a1:b2:c3:d4:e5:f6:07',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=sendrecv',
  'a=ssrc:42 cname:gateway',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=setup:active',
  'a=ice-ufrag:Gw0a',
  'a=ice-pwd:GwPassword0123456789abc',
  'a=candidate:1 1 UDP 2122317823 192.0.2.10 52000 typ host',
  'a=end-of-candidates',
  'm=video 0 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=mid:1',
  'a=inactive',
  'a=rtpmap:96 VP8/90000',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=mid:2',
  'a=sctp-port:5000',
  '',
].join('\r\n');

// Found by test/fuzz/jingle.test.ts: what an accepted Jingle offer becomes in SDP reads back the same.
describe('Jingle whose SDP must read back the same', () => {
  const minimal = fixtureText('minimal-session-initiate.xml');

  it('a BUNDLE group naming a content that is not there keeps the ones that are (browsers refuse a dangling mid)', () => {
    const text = minimal.replace('</content>', '</content><group xmlns="urn:xmpp:jingle:apps:grouping:0" semantics="BUNDLE"><content name="a0"/><content name="gone"/></group>');
    expect(jingleImport(parseXml(text), { author: 'initiator' }).groups).toStrictEqual([{ semantics: 'BUNDLE', mids: ['a0'] }]);
    const dangling = text.replace('<content name="a0"/>', '');
    expect(jingleImport(parseXml(dangling), { author: 'initiator' }).groups).toStrictEqual([]);
  });

  it('an msid source parameter with characters sdp-transform would cut short survives SDP', () => {
    const text = minimal.replace('<parameter name="cname" value="gw"/>', '<parameter name="cname" value="gw"/><parameter name="msid" value="N&amp;+jUlm track.1"/>');
    const model = jingleImport(parseXml(text), { author: 'initiator' });
    expect(model.contents[0]?.msid).toBe('N&+jUlm track.1');
    expect(sdpImport(sdpExport(model)).contents[0]?.msid).toBe('N&+jUlm track.1');
  });
});

describe('SDP import quirks', () => {
  const answer = sdpImport(LIBDATACHANNEL_ANSWER, { type: 'answer' });

  it('copies libdatachannel\'s session-level fingerprint and ice-options into each content', () => {
    expect(answer.contents[0]?.dtls).toStrictEqual({ hash: 'sha-256', fingerprint: '1D:2F:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07', setup: 'active' });
    expect(answer.contents[0]?.ice?.options).toStrictEqual(['ice2', 'trickle']);
    expect(answer.contents[0]?.ice?.endOfCandidates).toBe(true);
    expect(answer.contents[0]?.ice?.candidates[0]?.protocol).toBe('udp');
  });

  it('drops the data m-line and its mid from the groups (JINGLE.md section 5)', () => {
    expect(answer.contents.map((c) => c.mid)).toStrictEqual(['0', '1']);
    expect(answer.groups).toStrictEqual([
      { semantics: 'BUNDLE', mids: ['0', '1'] },
      { semantics: 'LS', mids: ['0', '1'] },
    ]);
  });

  it('jingleExport() as responder omits the rejected content, LS and ice2, and answers with setup=active', () => {
    const [content, group, ...rest] = jingleExport(answer, { author: 'responder' });
    expect(rest).toStrictEqual([]);
    expect(content?.attrs['name']).toBe('0');
    expect(content?.getChild('transport')?.getChildElements().map((el) => el.getName())).toStrictEqual(['trickle', 'fingerprint', 'candidate']);
    expect(content?.getChild('transport')?.getChild('fingerprint')?.attrs['setup']).toBe('active');
    expect(group?.attrs['semantics']).toBe('BUNDLE');
    expect(group?.getChildren('content').map((c) => c.attrs['name'])).toStrictEqual(['0']);
  });

  it('sdpExport() writes a rejected content with port 0', () => {
    expect(sdpExport(answer)).toContain('m=video 0 UDP/TLS/RTP/SAVPF 96\r\n');
  });

  it("reads Firefox's braced msid ids, which sdp-transform's grammar does not", () => {
    const sdp = LIBDATACHANNEL_ANSWER.replace('a=sendrecv', 'a=sendrecv\r\na=msid:{8a2c31d0-4e5f-4a6b-9c7d-0e1f2a3b4c5d} {bd1e2f30-4a5b-4c6d-8e7f-901a2b3c4d5e}');
    expect(sdpImport(sdp).contents[0]?.msid).toBe('{8a2c31d0-4e5f-4a6b-9c7d-0e1f2a3b4c5d} {bd1e2f30-4a5b-4c6d-8e7f-901a2b3c4d5e}');
  });

  it('a fingerprint without a=setup is actpass in an offer and active in an answer', () => {
    const sdp = LIBDATACHANNEL_ANSWER.replace('a=setup:active\r\n', '');
    expect(sdpImport(sdp).contents[0]?.dtls?.setup).toBe('actpass');
    expect(sdpImport(sdp, { type: 'answer' }).contents[0]?.dtls?.setup).toBe('active');
  });

  it('static payload types need no rtpmap; a dynamic one without rtpmap is an SdpParseError', () => {
    const sip = ['v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 0 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', ''].join('\r\n');
    const content = sdpImport(sip).contents[0]!;
    expect(content.codecs.map((c) => `${c.id} ${c.name}/${c.clockrate}`)).toStrictEqual(['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000']);
    expect(content.ice).toBeUndefined();
    expect(content.dtls).toBeUndefined();
    expect(() => sdpImport(sip.replace('a=rtpmap:101 telephone-event/8000\r\n', ''))).toThrow(SdpParseError);
  });

  // Found by test/fuzz/jingle.test.ts (browser SDP -> Jingle that our own import refused):
  // sdp-transform reads most values as \S*, so sdpImport checks them against the Jingle readers.
  it.each([
    ['a NUL in ice-pwd, which XML cannot carry: the server would close the whole XMPP stream', 'a=ice-pwd:GwPassword0123456789abc', 'a=ice-pwd:GwPass\u0000word'],
    ['a U+FFFF in an fmtp value', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=fmtp:111 minptime=10;x=\uffff'],
    ['an fmtp parameter name with a space', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=fmtp:111 min ptime=10'],
    ['channels that are not a number', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:111 opus/48000/two'],
    ['clock rate 0', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:111 opus/0/2'],
    ['an empty mid', 'a=mid:0', 'a=mid:'],
    ['two m-lines with one mid', 'a=mid:1', 'a=mid:0'],
    ['an m-line without formats', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'm=audio 9 UDP/TLS/RTP/SAVPF'],
  ])('%s is an SdpParseError', (_name, line, replacement) => {
    const sdp = LIBDATACHANNEL_ANSWER.replace(line, replacement);
    expect(sdp).not.toBe(LIBDATACHANNEL_ANSWER);
    expect(() => sdpImport(sdp)).toThrow(expect.objectContaining({ name: 'SdpParseError', code: 'invalid-sdp' }));
  });

  // Found by test/fuzz/jingle.test.ts: `111 0111` passed the repeat check and made two codecs 111.
  it('a format that is not a payload type number 0-127 is an SdpParseError', () => {
    for (const formats of ['111 0111', '111 1e2', '111 128', '111 x']) {
      expect(() => sdpImport(LIBDATACHANNEL_ANSWER.replace('m=audio 9 UDP/TLS/RTP/SAVPF 111', `m=audio 9 UDP/TLS/RTP/SAVPF ${formats}`))).toThrow(SdpParseError);
    }
    expect(sdpImport(LIBDATACHANNEL_ANSWER.replace('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 0')).contents[0]?.codecs.map((c) => c.id)).toStrictEqual([111, 0]);
  });

  // Found by the SDP fuzz catalog (test/fuzz/jingle.test.ts): sdp-transform keeps `a=12` as an invalid line with a numeric value.
  it('an attribute line that is only a number is ignored, not a TypeError', () => {
    const sdp = LIBDATACHANNEL_ANSWER.replace('a=mid:0\r\n', 'a=mid:0\r\na=12\r\n');
    expect(sdpImport(sdp).contents[0]?.mid).toBe('0');
  });

  // Found by test/fuzz/jingle.test.ts (seed -310383759): each listed copy of a payload type took
  // every a=rtcp-fb line of its number, so a 56 KB browser offer made 8 million feedback entries.
  it('a payload type listed twice on an m-line is an SdpParseError, not one codec per copy', () => {
    const offer = (copies: number, feedback: number) =>
      ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', `m=audio 9 UDP/TLS/RTP/SAVPF${' 111'.repeat(copies)}`, 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=rtpmap:111 opus/48000/2', ...Array<string>(feedback).fill('a=rtcp-fb:111 nack'), ''].join('\r\n');
    expect(sdpImport(offer(1, 2)).contents[0]?.codecs[0]?.feedback).toStrictEqual([{ type: 'nack' }, { type: 'nack' }]);
    for (const [copies, feedback] of [[2, 1], [4000, 2000]] as const) {
      let thrown: unknown;
      try {
        sdpImport(offer(copies, feedback));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SdpParseError);
      expect((thrown as SdpParseError).code).toBe('invalid-sdp');
    }
  });
});
