import { describe, expect, it } from 'vitest';
import { JingleParseError, type JingleParseErrorCode } from '../../../adapters/xmpp/jingle/jingle-parse-error.js';
import { jingleImport, transportInfoImport } from '../../../adapters/xmpp/jingle/jingle-import.js';
import { fixtureText, parseXml } from './jingle-fixtures.js';

// Bad input yields a typed JingleParseError with a code, never a TypeError from a missing attribute.

const MINIMAL = fixtureText('minimal-session-initiate.xml');

function importVariant(search: string | RegExp, replace: string | ((match: string) => string)) {
  const text = typeof replace === 'string' ? MINIMAL.replace(search, replace) : MINIMAL.replace(search, replace);
  expect(text, `the fixture contains ${String(search)}`).not.toBe(MINIMAL);
  return () => jingleImport(parseXml(text), { author: 'initiator' });
}

function thrown(run: () => unknown): JingleParseError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(JingleParseError);
    return error as JingleParseError;
  }
  throw new Error('expected a JingleParseError');
}

describe('jingleImport() with bad input', () => {
  it('accepts the unbroken minimal session-initiate', () => {
    expect(jingleImport(parseXml(MINIMAL), { author: 'initiator' }).contents).toHaveLength(1);
  });

  it.each<[string, string | RegExp, string, JingleParseErrorCode, string?, string?]>([
    ['content without name', ' name="a0"', '', 'missing-attribute', 'content', 'name'],
    ['content without creator', 'creator="initiator" ', '', 'missing-attribute', 'content', 'creator'],
    ['content with unknown creator', 'creator="initiator"', 'creator="caller"', 'invalid-attribute', 'content', 'creator'],
    ['content with unknown senders', 'name="a0"', 'name="a0" senders="everyone"', 'invalid-attribute', 'content', 'senders'],
    ['content without description', /<description[\s\S]*<\/description>/, '', 'missing-description'],
    ['file-transfer description', 'urn:xmpp:jingle:apps:rtp:1', 'urn:xmpp:jingle:apps:file-transfer:5', 'unsupported-application'],
    ['data description', 'media="audio"', 'media="application"', 'unsupported-application'],
    ['content without transport', /<transport[\s\S]*<\/transport>/, '', 'missing-transport'],
    ['raw-udp transport', 'urn:xmpp:jingle:transports:ice-udp:1', 'urn:xmpp:jingle:transports:raw-udp:1', 'unsupported-transport'],
    ['transport without ufrag', ' ufrag="uF1x"', '', 'missing-attribute', 'transport', 'ufrag'],
    ['transport without pwd', ' pwd="Pw0123456789abcdefghij"', '', 'missing-attribute', 'transport', 'pwd'],
    ['ufrag smuggling an SDP line', 'ufrag="uF1x"', 'ufrag="uF1x&#13;&#10;a=ice-lite"', 'invalid-attribute', 'transport', 'ufrag'],
    ['payload-type without id', 'id="111" ', '', 'missing-attribute', 'payload-type', 'id'],
    ['payload-type with a non-numeric id', 'id="111"', 'id="opus"', 'invalid-attribute', 'payload-type', 'id'],
    ['payload-type id out of range', 'id="111"', 'id="128"', 'invalid-attribute', 'payload-type', 'id'],
    ['dynamic payload-type without name', ' name="opus"', '', 'missing-attribute', 'payload-type', 'name'],
    // Found by test/fuzz/jingle.test.ts (seed -310383759): copies of one id became one SDP codec per copy.
    ['two payload-types with one id', 'id="0" name="PCMU"', 'id="111" name="PCMU"', 'invalid-attribute', 'payload-type', 'id'],
    ['dynamic payload-type without clockrate', ' clockrate="48000"', '', 'missing-attribute', 'payload-type', 'clockrate'],
    ['payload-type name with whitespace', 'name="opus"', 'name="op us"', 'invalid-attribute', 'payload-type', 'name'],
    // Found by test/fuzz/jingle.test.ts (accepted Jingle -> SDP that sdp-transform reads back otherwise):
    ['payload-type name SDP reads as another codec', 'name="opus"', 'name="op+us"', 'invalid-attribute', 'payload-type', 'name'],
    ['rtcp-fb type SDP would cut short', 'type="transport-cc"', 'type="transport:cc"', 'invalid-attribute', 'rtcp-fb', 'type'],
    ['trr-int rtcp-fb without a numeric interval', 'type="transport-cc"', 'type="trr-int" subtype="soon"', 'invalid-attribute', 'rtcp-fb', 'subtype'],
    ['source parameter name SDP would cut short', 'name="cname" value="gw"', 'name="c.name" value="gw"', 'invalid-attribute', 'parameter', 'name'],
    ['ssrc-group semantics SDP would drop', '<rtcp-mux/>', '<ssrc-group xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" semantics="("><source ssrc="1234"/></ssrc-group><rtcp-mux/>', 'invalid-attribute', 'ssrc-group', 'semantics'],
    ['description without payload types', /<payload-type[\s\S]*<payload-type[^>]*\/>/, '', 'unsupported-application', 'description'],
    ['parameter value with a newline', 'value="1"', 'value="1&#10;a=x"', 'invalid-attribute', 'parameter', 'value'],
    ['parameter value with a semicolon', 'value="1"', 'value="1;stereo=1"', 'invalid-attribute', 'parameter', 'name'],
    ['rtcp-fb without type', ' type="transport-cc"', '', 'missing-attribute', 'rtcp-fb', 'type'],
    ['rtp-hdrext without uri', / uri="[^"]*"/, '', 'missing-attribute', 'rtp-hdrext', 'uri'],
    ['rtp-hdrext with id 0', 'id="1" uri', 'id="0" uri', 'invalid-attribute', 'rtp-hdrext', 'id'],
    ['source without ssrc', ' ssrc="1234"', '', 'missing-attribute', 'source', 'ssrc'],
    ['source with a negative ssrc', 'ssrc="1234"', 'ssrc="-1"', 'invalid-attribute', 'source', 'ssrc'],
    ['source parameter without name', '<parameter name="cname" value="gw"/>', '<parameter value="gw"/>', 'missing-attribute', 'parameter', 'name'],
    ['fingerprint without hash', 'hash="sha-256" ', '', 'missing-attribute', 'fingerprint', 'hash'],
    ['fingerprint with unknown setup', 'setup="actpass"', 'setup="server"', 'invalid-attribute', 'fingerprint', 'setup'],
    ['fingerprint without text', 'AB:CD:EF:01', '', 'invalid-attribute', 'fingerprint'],
    ['candidate without port', ' port="5000"', '', 'missing-attribute', 'candidate', 'port'],
    ['candidate without ip', ' ip="192.0.2.1"', '', 'missing-attribute', 'candidate', 'ip'],
    ['candidate with port 70000', 'port="5000"', 'port="70000"', 'invalid-attribute', 'candidate', 'port'],
    ['candidate with unknown type', 'type="host"', 'type="bogus"', 'invalid-attribute', 'candidate', 'type'],
    ['candidate without component', ' component="1"', '', 'missing-attribute', 'candidate', 'component'],
    ['candidate with malformed generation', 'generation="0"', 'generation="zero"', 'invalid-attribute', 'candidate', 'generation'],
  ])('%s → %s', (_name, search, replace, code, element, attribute) => {
    const error = thrown(importVariant(search, replace));
    expect(error.code).toBe(code);
    if (element !== undefined) expect(error.element).toBe(element);
    if (attribute !== undefined) expect(error.attribute).toBe(attribute);
  });

  it('a non-Jingle element → not-jingle', () => {
    expect(thrown(() => jingleImport(parseXml('<iq xmlns="jabber:client" type="set"/>'), { author: 'initiator' })).code).toBe('not-jingle');
  });

  it('a session-initiate without contents → missing-content', () => {
    const empty = parseXml('<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s"/>');
    expect(thrown(() => jingleImport(empty, { author: 'initiator' })).code).toBe('missing-content');
  });

  it('two contents with one name → invalid-attribute (they would become two m-lines with one a=mid)', () => {
    const error = thrown(importVariant(/<content[\s\S]*<\/content>/, (content: string) => content + content));
    expect([error.code, error.element, error.attribute]).toStrictEqual(['invalid-attribute', 'content', 'name']);
  });

  it('a group content without name → missing-attribute', () => {
    const error = thrown(importVariant('</content>', '</content><group xmlns="urn:xmpp:jingle:apps:grouping:0" semantics="BUNDLE"><content/></group>'));
    expect([error.code, error.element, error.attribute]).toStrictEqual(['missing-attribute', 'content', 'name']);
  });

  it('carries the session-terminate reason for the code (XEP-0166 section 7.4)', () => {
    expect(thrown(importVariant('urn:xmpp:jingle:apps:rtp:1', 'urn:xmpp:jingle:apps:file-transfer:5')).reason).toBe('unsupported-applications');
    expect(thrown(importVariant('urn:xmpp:jingle:transports:ice-udp:1', 'urn:xmpp:jingle:transports:s5b:1')).reason).toBe('unsupported-transports');
    expect(thrown(importVariant(' port="5000"', '')).reason).toBe('failed-application');
  });

  it('is an Error with name JingleParseError and a message naming the element', () => {
    const error = thrown(importVariant(' port="5000"', ''));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('JingleParseError');
    expect(error.message).toContain('<candidate/>');
  });
});

describe('transportInfoImport() with bad input', () => {
  it('a transport-info candidate without foundation → missing-attribute', () => {
    const jingle = parseXml(
      '<jingle xmlns="urn:xmpp:jingle:1" action="transport-info" sid="s"><content creator="initiator" name="0">' +
        '<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="a" pwd="b"><candidate component="1" ip="192.0.2.1" port="1" priority="1" protocol="udp" type="host"/></transport>' +
        '</content></jingle>',
    );
    const error = thrown(() => transportInfoImport(jingle, { author: 'initiator' }));
    expect([error.code, error.element, error.attribute]).toStrictEqual(['missing-attribute', 'candidate', 'foundation']);
  });

  it('a transport-info content without transport → missing-transport', () => {
    const jingle = parseXml('<jingle xmlns="urn:xmpp:jingle:1" action="transport-info" sid="s"><content creator="initiator" name="0"/></jingle>');
    expect(thrown(() => transportInfoImport(jingle, { author: 'initiator' })).code).toBe('missing-transport');
  });
});
