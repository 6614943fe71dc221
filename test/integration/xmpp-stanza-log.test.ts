import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { xml } from '@xmpp/client';
import { afterEach, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { signAccessToken } from '../../src/auth/access-token.js';
import type { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logging/logger.js';
import { startTestGateway } from '../support/test-gateway.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { startProsody, type RunningProsody } from '../support/xmpp/prosody.js';
import { XmppTestClient } from '../support/xmpp/xmpp-test-client.js';

// With log.level debug the gateway logs the Jingle and JMI stanzas it exchanges (service account
// and component, through a real Prosody), and never a secret: not the account's SASL password,
// not the component secret, not an ICE password, not a browser's login token.

const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_JINGLE = 'urn:xmpp:jingle:1';
const SERVICE_PASSWORD = 'service-Pa55word-never-logged';
const COMPONENT_SECRET = 'component-Secret-never-logged';
const AUTH_SECRET = 'signing-secret-never-logged';

let prosody: RunningProsody | undefined;
let gateway: Gateway | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await gateway?.stop();
  gateway = undefined;
  await prosody?.stop();
  prosody = undefined;
});

interface LogLine {
  msg: string;
  account?: string;
  direction?: string;
  stanza?: string;
}

describe('log.level debug: the XMPP stanzas, redacted', () => {
  it('a web → XMPP call logs its JMI and Jingle stanzas both ways; no password, secret or ICE pwd reaches the log', async () => {
    prosody = await startProsody({ users: { gateway: SERVICE_PASSWORD, carol: 'carol-secret' }, component: { domain: 'gw.localhost', secret: COMPONENT_SECRET } });
    const raw: string[] = [];
    const destination = new PassThrough();
    destination.on('data', (chunk: Buffer) => raw.push(chunk.toString('utf8')));
    gateway = await startTestGateway(
      {
        log: { level: 'debug' },
        auth: { secret: AUTH_SECRET },
        xmpp: {
          enabled: true,
          server: prosody.service,
          service: { jid: 'gateway@localhost', password: SERVICE_PASSWORD },
          component: { domain: 'gw.localhost', password: COMPONENT_SECRET, server: prosody.componentService! },
          outbound: { guests: true },
        },
      },
      { logger: createLogger({ level: 'debug', destination }) },
    );
    const carol = await XmppTestClient.login(prosody.service, 'localhost', 'carol', 'carol-secret');
    cleanups.push(() => carol.stop());
    const alice = await WsTestClient.connect(gateway.httpPort);
    cleanups.push(() => alice.close());
    const token = await signAccessToken({ secret: AUTH_SECRET, user: 'alice', ttlSeconds: 60 });
    alice.send({ type: 'login', id: 'login', protocol: 1, token });
    await alice.next('welcome');
    await alice.next('registration', (r) => r.state === 'registered', 10_000);

    const aliceMedia = makeWebRtcTestPeer('alice', (close) => cleanups.push(close));
    const callId = randomUUID();
    alice.send({ type: 'call', id: 'dial', callId, to: 'xmpp:carol@localhost', sdp: await aliceMedia.createOffer([PCMU]) });
    const propose = await carol.message('propose', NS_JMI);
    const sid = String(propose.getChild('propose', NS_JMI)!.attrs.id);
    await carol.send(xml('message', { to: String(propose.attrs.from), type: 'chat' }, xml('proceed', { xmlns: NS_JMI, id: sid })));
    const initiate = await carol.jingle('session-initiate');
    const carolMedia = makeWebRtcTestPeer('carol', (close) => cleanups.push(close));
    const answer = sdpImport(await carolMedia.answerOffer(sdpExport(jingleImport(initiate, { author: 'initiator' })), [PCMU]), { type: 'answer' });
    const accept = xml('jingle', { xmlns: NS_JINGLE, action: 'session-accept', sid, responder: carol.jid }, ...jingleExport(answer, { author: 'responder' }));
    await carol.request(xml('iq', { type: 'set', to: String(propose.attrs.from) }, accept));
    await alice.next('answered', (f) => f.callId === callId, 10_000);
    alice.send({ type: 'hangup', callId });
    await carol.jingle('session-terminate');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const text = raw.join('');
    const stanzas = text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as LogLine).filter((line) => line.msg === 'xmpp stanza');
    const logged = (direction: string, needle: string) => stanzas.some((line) => line.direction === direction && line.stanza!.includes(needle));
    expect(logged('out', `<propose xmlns="${NS_JMI}" id="${sid}"`)).toBe(true);
    // Prosody re-serializes what it routes, attributes in its own (Lua table) order.
    expect(stanzas.some((line) => line.direction === 'in' && /<proceed\s/.test(line.stanza!) && line.stanza!.includes(`xmlns="${NS_JMI}"`) && line.stanza!.includes(`id="${sid}"`))).toBe(true);
    expect(logged('out', 'action="session-initiate"')).toBe(true);
    expect(logged('in', 'action="session-accept"')).toBe(true);
    expect(logged('out', 'action="session-terminate"')).toBe(true);
    // The authentication exchanges are there, without their content.
    expect(stanzas.some((line) => line.account === 'gateway@localhost' && /<auth [^>]*mechanism="[^"]+"[^>]*>\[redacted\]<\/auth>/.test(line.stanza!))).toBe(true);
    expect(stanzas.some((line) => line.account === 'gw.localhost' && line.stanza === '<handshake>[redacted]</handshake>')).toBe(true);
    expect(logged('out', 'pwd="[redacted]"')).toBe(true);

    const icePasswords = [...jingleImport(initiate, { author: 'initiator' }).contents, ...answer.contents].map((content) => content.ice!.pwd);
    const secrets = [SERVICE_PASSWORD, COMPONENT_SECRET, AUTH_SECRET, token, 'carol-secret', ...icePasswords];
    const base64 = (s: string) => Buffer.from(s).toString('base64');
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(base64(`\u0000gateway\u0000${secret}`));
    }
    expect(text).not.toContain(base64(`\u0000gateway\u0000${SERVICE_PASSWORD}`).slice(0, 20));
  }, 60_000);
});
