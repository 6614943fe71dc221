import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import { afterEach, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { PCMU } from '../support/webrtc-test-peer.js';
import { XmppLab } from '../support/xmpp/xmpp-lab.js';

// One-to-one chat between web users and XMPP users through a real Prosody, in both identity
// modes: a web user's resource of the service account, and per-user login with the user's own JID.

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';

let lab: XmppLab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

describe('presence of web users', () => {
  it("approves a subscription and subscribes back; a web user's resource is available with caps only while the user is online", async () => {
    lab = await XmppLab.start({ users: { carol: 'carol-secret' } });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    // RFC 6121 section 3.1.3: subscription stanzas reach only resources that asked for the roster.
    await carol.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    await carol.send(xml('presence', { to: 'gateway@localhost', type: 'subscribe' }));
    await carol.presence((p) => p.attrs.from === 'gateway@localhost' && p.attrs.type === 'subscribed');
    await carol.presence((p) => p.attrs.from === 'gateway@localhost' && p.attrs.type === 'subscribe');

    const alice = await lab.webUser('alice');
    const online = await carol.presence((p) => p.attrs.from === 'gateway@localhost/alice' && p.attrs.type === undefined);
    // XEP-0115: the caps that make clients show a call button.
    expect(online.getChild('c', 'http://jabber.org/protocol/caps')?.attrs.hash).toBe('sha-1');
    alice.close();
    await carol.presence((p) => p.attrs.from === 'gateway@localhost/alice' && p.attrs.type === 'unavailable');
  }, 30_000);
});

describe('chat between web users and XMPP users', () => {
  it('carries messages both ways through the web user’s resource of the service account', async () => {
    lab = await XmppLab.start({ users: { carol: 'carol-secret' } });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const alice = await lab.webUser('alice');

    alice.send({ type: 'message', id: 'm1', to: 'xmpp:carol@localhost', body: 'hello from the web' });
    await alice.next('ack', (f) => f.id === 'm1');
    const received = await carol.message('body', 'jabber:client');
    expect(received.attrs).toMatchObject({ from: 'gateway@localhost/alice', type: 'chat' });
    expect(received.getChildText('body')).toBe('hello from the web');

    await carol.send(xml('message', { to: 'gateway@localhost/alice', type: 'chat', id: 'c1' }, xml('body', {}, 'hello from XMPP')));
    expect(await alice.next('message', () => true, 10_000)).toMatchObject({ from: 'xmpp:carol@localhost', body: 'hello from XMPP' });
  }, 30_000);

  it('bounces a message to a web user who is offline with recipient-unavailable, and reports an undeliverable one to the web sender', async () => {
    lab = await XmppLab.start({ users: { carol: 'carol-secret' } });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const alice = await lab.webUser('alice');

    await carol.send(xml('message', { to: 'gateway@localhost/bob', type: 'chat', id: 'to-bob' }, xml('body', {}, 'anyone?')));
    const bounce = await carol.message('error', 'jabber:client');
    expect(bounce.attrs).toMatchObject({ type: 'error', id: 'to-bob' });
    expect(bounce.getChild('error')?.getChild('recipient-unavailable', NS_STANZAS)).toBeDefined();

    // Prosody bounces messages to a local account that does not exist (RFC 6121 section 8.5.1).
    alice.send({ type: 'message', id: 'm2', to: 'xmpp:nobody@localhost', body: 'are you there?' });
    await alice.next('ack', (f) => f.id === 'm2');
    expect(await alice.next('message-error', () => true, 10_000)).toMatchObject({ id: 'm2', to: 'xmpp:nobody@localhost', code: 'undeliverable' });

    // Chat to an address that takes none, and between web users.
    alice.send({ type: 'message', id: 'm3', to: 'service:echo', body: 'x' });
    expect(await alice.next('error', (f) => f.id === 'm3')).toMatchObject({ code: 'not-found' });
    const bob = await lab.webUser('bob');
    alice.send({ type: 'message', id: 'm4', to: 'web:bob', body: 'hi bob' });
    await alice.next('ack', (f) => f.id === 'm4');
    expect(await bob.next('message')).toMatchObject({ from: 'web:alice', body: 'hi bob' });
    alice.send({ type: 'message', id: 'm5', to: 'web:nobody', body: 'x' });
    expect(await alice.next('error', (f) => f.id === 'm5')).toMatchObject({ code: 'offline' });
  }, 30_000);

  it('per-user login: a web user logged in with their own JID chats and is called as that account', async () => {
    lab = await XmppLab.start({ users: { carol: 'carol-secret', dave: 'dave-secret' }, xmpp: { perUser: { enabled: true } } });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const dave = await lab.webUser('dave', { login: { xmpp: { jid: 'dave@localhost', password: 'dave-secret' } } });

    await carol.send(xml('message', { to: 'dave@localhost', type: 'chat', id: 'c2' }, xml('body', {}, 'hi dave')));
    expect(await dave.next('message', () => true, 10_000)).toMatchObject({ from: 'xmpp:carol@localhost', body: 'hi dave' });
    dave.send({ type: 'message', id: 'd1', to: 'xmpp:carol@localhost', body: 'hi carol' });
    await dave.next('ack', (f) => f.id === 'd1');
    const received = await carol.message('body', 'jabber:client');
    expect(String(received.attrs.from)).toMatch(/^dave@localhost\/switchboard-/);

    // carol calls dave's bare JID as Conversations would: the gateway's session of dave proceeds and rings web:dave.
    const sid = randomUUID();
    await carol.send(xml('message', { to: 'dave@localhost', type: 'chat' }, xml('propose', { xmlns: NS_JMI, id: sid }, xml('description', { xmlns: NS_RTP, media: 'audio' }))));
    const proceed = await carol.message('proceed', NS_JMI);
    expect(String(proceed.attrs.from)).toBe(String(received.attrs.from));
    const offer = jingleExport(sdpImport(await lab.webrtcPeer('carol').createOffer([PCMU]), { type: 'offer' }), { author: 'initiator' });
    await carol.request(xml('iq', { type: 'set', to: String(proceed.attrs.from) }, xml('jingle', { xmlns: 'urn:xmpp:jingle:1', action: 'session-initiate', sid, initiator: carol.jid }, ...offer)));
    expect(await dave.next('incoming', () => true, 10_000)).toMatchObject({ from: 'xmpp:carol@localhost' });
  }, 30_000);

  it('per-user login with a wrong password is reported as a failed registration', async () => {
    lab = await XmppLab.start({ users: { dave: 'dave-secret' }, xmpp: { perUser: { enabled: true } } });
    const dave = await lab.webUser('dave', { waitForXmpp: false, login: { xmpp: { jid: 'dave@localhost', password: 'wrong' } } });
    expect(await dave.next('registration', (r) => r.state === 'failed', 10_000)).toMatchObject({ aor: 'xmpp:dave@localhost' });
  }, 30_000);
});

describe('what guests may do over XMPP (xmpp.outbound.guests)', () => {
  it('by default a guest can neither message nor call an XMPP address through the gateway’s identity; XMPP users still reach the guest', async () => {
    lab = await XmppLab.start({ users: { carol: 'carol-secret' }, xmpp: { outbound: { guests: false } } });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const alice = await lab.webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: 'xmpp:carol@localhost', body: 'spam' });
    expect(await alice.next('error', (f) => f.id === 'm1')).toMatchObject({ code: 'forbidden' });
    const peer = lab.webrtcPeer('alice-web');
    alice.send({ type: 'call', id: 'c1', callId: 'guest-calls-xmpp', to: 'xmpp:carol@localhost', sdp: await peer.createOffer([PCMU]) });
    expect(await alice.next('error', (f) => f.id === 'c1')).toMatchObject({ code: 'forbidden' });
    // Nothing reached carol; the other way still works.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(carol.messages.some((message) => message.getChildText('body') === 'spam')).toBe(false);
    await carol.send(xml('message', { to: 'gateway@localhost/alice', type: 'chat', id: 'c2' }, xml('body', {}, 'hello guest')));
    expect(await alice.next('message', () => true, 10_000)).toMatchObject({ from: 'xmpp:carol@localhost', body: 'hello guest' });
  }, 30_000);
});
