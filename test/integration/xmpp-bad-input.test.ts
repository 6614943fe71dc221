import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { afterEach, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { PCMU } from '../support/webrtc-test-peer.js';
import { jingleIq, stanzaErrorOf, XmppLab } from '../support/xmpp/xmpp-lab.js';

// Hostile and malformed stanzas from a real XMPP client through Prosody get the XEP-0166 /
// RFC 6120 error they deserve, while a call in progress on the same gateway goes on.

const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';
const NS_JINGLE_ERRORS = 'urn:xmpp:jingle:errors:1';
const ALICE = 'gateway@localhost/alice';

let lab: XmppLab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

/** Also returns the Jingle-specific condition (`out-of-order`, `unknown-session`) of an error reply. */
async function jingleErrorOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    const element = (error as { element?: Element }).element;
    const specific = element?.getChildElements().find((child) => child.attrs.xmlns === NS_JINGLE_ERRORS)?.name;
    return `${(error as { condition?: string }).condition}${specific ? `/${specific}` : ''}`;
  }
}

function nested(depth: number): Element {
  let element = xml('leaf', {});
  for (let i = 0; i < depth; i += 1) element = xml('n', { xmlns: 'urn:example:unknown' }, element);
  return element;
}

describe('XMPP bad input', () => {
  it('answers hostile Jingle with the right errors and keeps the call in progress', async () => {
    lab = await XmppLab.start({ users: { carol: 'carol-secret', mallory: 'mallory-secret' } });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const mallory = await lab.xmppClient('mallory', 'mallory-secret');
    const alice = await lab.webUser('alice');

    // A call in progress: carol → alice, direct session-initiate to alice's resource.
    const sid = randomUUID();
    const offer = jingleExport(sdpImport(await lab.webrtcPeer('carol').createOffer([PCMU]), { type: 'offer' }), { author: 'initiator' });
    await carol.request(jingleIq(ALICE, 'session-initiate', sid, offer, { initiator: carol.jid }));
    const incoming = await alice.next('incoming', () => true, 10_000);
    alice.send({ type: 'ringing', callId: incoming.callId });

    // XEP-0166 section 6.x errors.
    expect(await jingleErrorOf(carol.request(jingleIq(ALICE, 'session-initiate', sid, offer)))).toBe('unexpected-request/out-of-order');
    expect(await jingleErrorOf(carol.request(jingleIq(ALICE, 'session-accept', sid, offer)))).toBe('unexpected-request/out-of-order');
    expect(await jingleErrorOf(carol.request(jingleIq(ALICE, 'content-add', sid, offer)))).toBe('feature-not-implemented');
    expect(await jingleErrorOf(carol.request(jingleIq(ALICE, 'no-such-action', sid)))).toBe('bad-request');
    // Somebody else may not touch carol's session.
    expect(await jingleErrorOf(mallory.request(jingleIq(ALICE, 'session-terminate', sid, [xml('reason', {}, xml('success'))])))).toBe('item-not-found/unknown-session');
    expect(await jingleErrorOf(mallory.request(jingleIq(ALICE, 'transport-info', sid)))).toBe('item-not-found/unknown-session');
    // Contents we cannot satisfy: no RTP description, a video-only description with no codecs.
    const noTransport = xml('content', { creator: 'initiator', name: 'x' }, xml('description', { xmlns: NS_RTP, media: 'audio' }));
    expect(await jingleErrorOf(mallory.request(jingleIq(ALICE, 'session-initiate', randomUUID(), [noTransport])))).toBe('bad-request');
    expect(await jingleErrorOf(mallory.request(jingleIq(ALICE, 'session-initiate', randomUUID(), [])))).toBe('bad-request');
    // Deep nesting and unknown namespaces, in Jingle and in an IQ nobody handles.
    expect(await stanzaErrorOf(mallory.request(jingleIq(ALICE, 'session-initiate', randomUUID(), [nested(400)])))).toBe('bad-request');
    expect(await stanzaErrorOf(mallory.request(xml('iq', { type: 'set', to: ALICE }, xml('query', { xmlns: 'urn:example:unknown' }, nested(50)))))).toBe('service-unavailable');
    // A large stanza: 2,000 payload types in one content.
    const many = Array.from({ length: 2000 }, (_, i) => xml('payload-type', { id: String(i % 128), name: `codec${i}`, clockrate: '8000' }));
    const big = xml('content', { creator: 'initiator', name: '0' }, xml('description', { xmlns: NS_RTP, media: 'audio' }, ...many));
    expect(await stanzaErrorOf(mallory.request(jingleIq(ALICE, 'session-initiate', randomUUID(), [big])))).toBe('bad-request');
    // JMI garbage: a propose without an id, a proceed for nothing.
    await mallory.send(xml('message', { to: ALICE, type: 'chat' }, xml('propose', { xmlns: NS_JMI }, xml('description', { xmlns: NS_RTP, media: 'audio' }))));
    await mallory.send(xml('message', { to: ALICE, type: 'chat' }, xml('proceed', { xmlns: NS_JMI, id: 'nothing' })));

    // The call is still there and ends normally.
    expect(lab.gateway.calls.size).toBe(1);
    await carol.request(jingleIq(ALICE, 'session-terminate', sid, [xml('reason', {}, xml('cancel'))]));
    expect(await alice.next('ended', (f) => f.callId === incoming.callId, 10_000)).toMatchObject({ reason: 'cancelled' });
  }, 45_000);

  // Prosody relays stanzas of up to 25,000 elements. Nested 5,000 deep, an IQ could not be
  // answered: the error reply carries the request's child and ltx writes it recursively.
  it('answers an IQ nested thousands of levels deep with bad-request', async () => {
    lab = await XmppLab.start({ users: { mallory: 'mallory-secret' } });
    const mallory = await lab.xmppClient('mallory', 'mallory-secret');
    await lab.webUser('alice');
    const reply = new Promise<Element>((resolve) => {
      mallory.xmpp.on('stanza', (stanza: Element) => {
        if (stanza.is('iq') && stanza.attrs.id === 'deep') resolve(stanza);
      });
    });
    // Written as text: the test's own client cannot serialise such a stanza either.
    const depth = 5_000;
    const write = (mallory.xmpp as unknown as { write(text: string): Promise<void> }).write.bind(mallory.xmpp);
    await write(`<iq type='set' to='${ALICE}' id='deep'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='x'>${'<n>'.repeat(depth)}${'</n>'.repeat(depth)}</jingle></iq>`);
    const answer = await Promise.race([reply, new Promise<undefined>((resolve) => setTimeout(resolve, 10_000))]);
    expect(answer?.attrs.type).toBe('error');
    expect(answer?.getChild('error')?.getChild('bad-request')).toBeDefined();
  }, 45_000);

  // XML 1.0 cannot carry C0 controls: Prosody closes a stream that sends one (not-well-formed).
  // Before, one web user's chat message, address or SDP with a NUL cut the gateway's XMPP stream.
  it('refuses control characters from the web (chat body, JID resource, SDP) and keeps the XMPP stream', async () => {
    lab = await XmppLab.start({ users: { carol: 'carol-secret' } });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const alice = await lab.webUser('alice');
    alice.frames.splice(0);

    alice.send({ type: 'message', id: 'body', to: 'xmpp:carol@localhost', body: 'hi \u0001 there' });
    expect(await alice.next('error', (f) => f.id === 'body', 10_000)).toMatchObject({ code: 'bad-message' });
    alice.send({ type: 'message', id: 'resource', to: 'xmpp:carol@localhost/ph\u0001one', body: 'hi' });
    expect(await alice.next('error', (f) => f.id === 'resource', 10_000)).toMatchObject({ code: 'bad-message' });
    const offer = (await lab.webrtcPeer('alice').createOffer([PCMU])).replace(/^a=ice-pwd:(\S+)/m, 'a=ice-pwd:$1\u0000');
    const callId = randomUUID();
    alice.send({ type: 'call', id: 'dial', callId, to: 'xmpp:carol@localhost', sdp: offer });
    expect(await alice.next('ended', (f) => f.callId === callId, 10_000)).toMatchObject({ reason: 'incompatible-media' });

    alice.send({ type: 'message', id: 'after', to: 'xmpp:carol@localhost', body: 'still here' });
    await alice.next('ack', (f) => f.id === 'after');
    expect((await carol.message('body', 'jabber:client')).getChildText('body')).toBe('still here');
    // Alice's resource never went back to registering (the "connection lost" of a closed stream).
    expect(alice.frames.filter((frame) => frame.type === 'registration')).toStrictEqual([]);
  }, 45_000);

  it('ends calls with connection-lost when the XMPP connection is cut, and logs in again', async () => {
    // The gateway reaches Prosody through a relay the test can cut, as a server crash or a network loss would.
    lab = await XmppLab.start({ users: { carol: 'carol-secret' }, throughCutProxy: true });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const alice = await lab.webUser('alice');
    const sid = randomUUID();
    const offer = jingleExport(sdpImport(await lab.webrtcPeer('carol').createOffer([PCMU]), { type: 'offer' }), { author: 'initiator' });
    await carol.request(jingleIq(ALICE, 'session-initiate', sid, offer, { initiator: carol.jid }));
    const incoming = await alice.next('incoming', () => true, 10_000);

    lab.cutProxy!.cut();
    expect(await alice.next('ended', (f) => f.callId === incoming.callId, 10_000)).toMatchObject({ reason: 'connection-lost' });
    // Alice's resource comes back by itself (doubling reconnect delay starting at 1 s).
    expect(await alice.next('registration', (r) => r.state === 'registered', 20_000)).toBeDefined();
  }, 45_000);
});
