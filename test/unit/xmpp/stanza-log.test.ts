import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { redactedStanza } from '../../../adapters/xmpp/stanza-log.js';
import { fixtureJingle } from './jingle-fixtures.js';

// The debug log of stanzas keeps their shape and drops their secrets.

describe('redactedStanza', () => {
  it('hides SASL PLAIN (the password in base64), SASL2 and the component handshake', () => {
    const plain = Buffer.from('\u0000gateway\u0000hunter2').toString('base64');
    expect(redactedStanza(xml('auth', { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl', mechanism: 'PLAIN' }, plain)).toString()).toBe(
      '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">[redacted]</auth>',
    );
    const sasl2 = xml('authenticate', { xmlns: 'urn:xmpp:sasl:2', mechanism: 'PLAIN' }, xml('initial-response', {}, plain));
    expect(redactedStanza(sasl2).toString()).not.toContain(plain);
    expect(redactedStanza(xml('handshake', {}, 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3')).toString()).toBe('<handshake>[redacted]</handshake>');
  });

  it('hides ICE passwords, SDES keys, XEP-0215 TURN passwords and XEP-0077 passwords, and keeps everything else', () => {
    const dino = fixtureJingle('dino-session-initiate.xml');
    const text = redactedStanza(xml('iq', { type: 'set', to: 'alice@gw.example/web' }, dino)).toString();
    expect(text).toContain('action="session-initiate"');
    expect(text).toContain('ufrag="Wd1X"');
    expect(text).not.toContain('JmR5kTq0sNbV8cYzE2pLhG');
    expect(text).not.toContain('inline:');
    expect(text).toContain('pwd="[redacted]"');
    const services = xml('services', { xmlns: 'urn:xmpp:extdisco:2' }, xml('service', { type: 'turn', host: 'turn.example', username: '1700000000:alice', password: 'hmac-secret' }));
    expect(redactedStanza(xml('iq', { type: 'result' }, services)).toString()).not.toContain('hmac-secret');
    const register = xml('query', { xmlns: 'jabber:iq:register' }, xml('username', {}, 'alice'), xml('password', {}, 'hunter2'));
    const registered = redactedStanza(xml('iq', { type: 'set' }, register)).toString();
    expect(registered).toContain('<username>alice</username>');
    expect(registered).not.toContain('hunter2');
  });
});
