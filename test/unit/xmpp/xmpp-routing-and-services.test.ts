import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { iceServerUrl, readExternalServices } from '../../../adapters/xmpp/external-services.js';
import { xmppCallerAllowed, xmppInboundTarget } from '../../../adapters/xmpp/inbound-routing.js';
import { unescapeJidLocal } from '../../../adapters/xmpp/jid-escaping.js';
import { AddressError, parseAddress } from '../../../src/calls/address.js';

const NS_EXTDISCO = 'urn:xmpp:extdisco:2';

describe('xmppInboundTarget (resource of the service account → address)', () => {
  const config = { rules: [{ match: '^\\+(\\d+)$', target: 'tel:+$1' }, { match: '^pbx-(\\w+)$', target: 'sip:$1@pbx.example.com' }], defaultTarget: 'web:operator' };
  it.each([
    ['+15551234', 'tel:+15551234'],
    ['pbx-200', 'sip:200@pbx.example.com'],
    ['alice', 'web:alice'],
    [undefined, 'web:operator'],
    ['switchboard', 'web:operator'],
  ])('%s → %s', (resource, uri) => {
    expect(xmppInboundTarget(resource, 'switchboard', config)?.uri).toBe(uri);
  });
  it('declines what has no valid target', () => {
    expect(xmppInboundTarget(undefined, 'switchboard', { rules: [] })).toBeUndefined();
    expect(xmppInboundTarget('not a user!', 'switchboard', { rules: [] })).toBeUndefined();
    expect(xmppInboundTarget('+1', 'switchboard', { rules: [{ match: '^\\+(\\d+)$', target: 'bogus:$1' }] })).toBeUndefined();
  });
});

describe('xmppCallerAllowed (who may call through the service account)', () => {
  const web = parseAddress('web:alice');
  const phone = parseAddress('tel:+15551234');
  it('lets anyone reach web users when no list is set, and nobody reach phones', () => {
    expect(xmppCallerAllowed('carol@example.org', web)).toBe(true);
    expect(xmppCallerAllowed('carol@example.org', phone)).toBe(false);
  });
  it('with a list, only listed JIDs and domains reach anything', () => {
    const list = ['carol@example.org', '*@corp.example.com'];
    expect(xmppCallerAllowed('carol@example.org', phone, list)).toBe(true);
    expect(xmppCallerAllowed('dan@corp.example.com', phone, list)).toBe(true);
    expect(xmppCallerAllowed('dan@evilcorp.example.com', phone, list)).toBe(false);
    expect(xmppCallerAllowed('eve@example.org', web, list)).toBe(false);
    expect(xmppCallerAllowed('x@notcorp.example.com', phone, list)).toBe(false);
  });
});

describe('unescapeJidLocal (XEP-0106)', () => {
  it.each([
    ['bob\\40pbx.example.com', 'bob@pbx.example.com'],
    ['d\\27artagnan', "d'artagnan"],
    ['space\\20cadet', 'space cadet'],
    ['c\\3a\\5cnet', 'c:\\net'],
    ['+15551234', '+15551234'],
    ['not\\escaped\\zz', 'not\\escaped\\zz'],
  ])('%s → %s', (escaped, plain) => {
    expect(unescapeJidLocal(escaped)).toBe(plain);
  });
});

describe('xmpp addresses with a resource', () => {
  it('keeps the resource for calls to one device', () => {
    expect(parseAddress('xmpp:carol@Example.org/Conversations.a1B2')).toEqual({ scheme: 'xmpp', user: 'carol', host: 'example.org', resource: 'Conversations.a1B2', uri: 'xmpp:carol@example.org/Conversations.a1B2' });
    expect(parseAddress('xmpp:carol@example.org')).toEqual({ scheme: 'xmpp', user: 'carol', host: 'example.org', uri: 'xmpp:carol@example.org' });
  });
  it('refuses markup and whitespace in a resource', () => {
    expect(() => parseAddress('xmpp:carol@example.org/a<b')).toThrow(AddressError);
    expect(() => parseAddress('xmpp:carol@example.org/a b')).toThrow(AddressError);
    expect(() => parseAddress('xmpp:carol@example.org/')).toThrow(AddressError);
  });
});

describe('XEP-0215 external services', () => {
  it('reads STUN and TURN entries (section 3.2 example shape) and writes node-datachannel URLs', () => {
    const services = xml(
      'services',
      { xmlns: NS_EXTDISCO },
      xml('service', { host: 'stun.shakespeare.lit', port: '9998', transport: 'udp', type: 'stun' }),
      xml('service', { host: 'turn.shakespeare.lit', port: '3478', transport: 'udp', type: 'turn', username: '1700000000:gw', password: 'p/w+=', expires: '2026-12-03T00:00:00Z', restricted: '1' }),
      xml('service', { host: 'turn.shakespeare.lit', type: 'turn' }), // no credentials: cannot allocate
      xml('service', { host: 'ftp.shakespeare.lit', port: '20', transport: 'tcp', type: 'ftp' }),
      xml('service', { host: 'bad host', port: '1', type: 'stun' }),
      xml('service', { host: 'stun.example.org', type: 'stun' }), // default port, UDP
    );
    const read = readExternalServices(services);
    expect(read.map(iceServerUrl)).toEqual([
      'stun:stun.shakespeare.lit:9998',
      'turn:1700000000%3Agw:p%2Fw%2B%3D@turn.shakespeare.lit:3478?transport=udp',
      'stun:stun.example.org:3478',
    ]);
  });
  it('ignores a result in another namespace', () => {
    expect(readExternalServices(xml('services', { xmlns: 'urn:xmpp:extdisco:1' }, xml('service', { host: 'a', type: 'stun' })))).toEqual([]);
    expect(readExternalServices(undefined)).toEqual([]);
  });
});
