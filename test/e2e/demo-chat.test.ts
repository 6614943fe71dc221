import { xml } from '@xmpp/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { startTestGateway } from '../support/test-gateway.js';
import { XmppLab } from '../support/xmpp/xmpp-lab.js';

// The demo page's chat panel, driven like a person does (type an address, Enter, type, Enter)
// and checked by what the page shows: between two pages through the gateway, with an XMPP user
// through a real Prosody (the page's alice is gateway@localhost/alice there), and refusals.

const pages = useBrowserPages();
let gateway: Gateway | undefined;
let lab: XmppLab | undefined;

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await lab?.stop();
  lab = undefined;
});

async function loggedInPage(httpPort: number, name: string): Promise<SoftphonePage> {
  const page = await pages.openPage(`http://127.0.0.1:${httpPort}`);
  await page.login(name);
  return page;
}

describe('chat on the demo page', () => {
  it('two pages chat both ways; a message from a third opens its own conversation with an unread count', async () => {
    gateway = await startTestGateway();
    const alice = await loggedInPage(gateway.httpPort, 'alice');
    const bob = await loggedInPage(gateway.httpPort, 'bob');

    await alice.openChat('bob'); // a bare name means web:bob, as in the dial field
    expect(await alice.chatPeer()).toBe('web:bob');
    await alice.sendChat('hi bob');
    await alice.waitForChatMessage('hi bob', { direction: 'out', status: 'sent' });

    // Nothing was open on bob's page: the incoming message opens its conversation.
    const received = await bob.waitForChatMessage('hi bob', { direction: 'in' });
    expect(received.error).toBe('');
    expect(await bob.chatPeer()).toBe('web:alice');
    await bob.sendChat('hello alice');
    await bob.waitForChatMessage('hello alice', { direction: 'out', status: 'sent' });
    await alice.waitForChatMessage('hello alice', { direction: 'in' });
    expect((await alice.chatMessages()).map((m) => `${m.direction} ${m.body}`)).toEqual(['out hi bob', 'in hello alice']);

    // carol writes while alice looks at bob: a second conversation, counted as unread, not mixed in.
    const carol = await loggedInPage(gateway.httpPort, 'carol');
    await carol.openChat('web:alice');
    await carol.sendChat('psst, alice');
    await carol.waitForChatMessage('psst, alice', { status: 'sent' });
    await expect
      .poll(() => alice.conversations())
      .toEqual([
        { address: 'web:bob', unread: 0, current: true },
        { address: 'web:carol', unread: 1, current: false },
      ]);
    expect((await alice.chatMessages()).map((m) => m.body)).toEqual(['hi bob', 'hello alice']);
    await alice.selectConversation('web:carol');
    expect((await alice.chatMessages()).map((m) => `${m.direction} ${m.body}`)).toEqual(['in psst, alice']);
    expect((await alice.conversations()).find((c) => c.address === 'web:carol')?.unread).toBe(0);
  }, 60_000);

  it('a message to a web user who is not online is marked not delivered with the gateway’s reason', async () => {
    gateway = await startTestGateway();
    const alice = await loggedInPage(gateway.httpPort, 'alice');

    await alice.openChat('web:nobody');
    await alice.sendChat('are you there?');
    const failed = await alice.waitForChatMessage('are you there?', { direction: 'out', status: 'failed' });
    expect(failed.meta).toContain('not delivered');
    expect(failed.error).toBe('offline: web:nobody is not online');
  }, 30_000);

  it('the page chats with an XMPP user both ways through Prosody, shows its XMPP identity, and a bounce on the message', async () => {
    lab = await XmppLab.start({ users: { carol: 'carol-secret' } });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const alice = await loggedInPage(lab.gateway.httpPort, 'alice');
    // The gateway binds alice's resource of its service account; the page shows when it is up.
    await expect.poll(() => alice.registrationState('xmpp:gateway@localhost/alice'), { timeout: 10_000 }).toBe('registered');

    await alice.openChat('xmpp:carol@localhost');
    await alice.sendChat('hello from the demo page');
    await alice.waitForChatMessage('hello from the demo page', { status: 'sent' });
    const atCarol = await carol.messageWhere((m) => m.getChildText('body') === 'hello from the demo page', 'the page’s message');
    expect(atCarol.attrs).toMatchObject({ from: 'gateway@localhost/alice', type: 'chat' });

    await carol.send(xml('message', { to: 'gateway@localhost/alice', type: 'chat', id: 'c1' }, xml('body', {}, 'hi alice, from XMPP')));
    await alice.waitForChatMessage('hi alice, from XMPP', { direction: 'in' });
    expect(await alice.chatPeer()).toBe('xmpp:carol@localhost');

    // Prosody bounces a message to an account it does not have (RFC 6121 section 8.5.1): the gateway
    // acked it first, so the failure arrives later as a messageerror and lands on that message.
    await alice.openChat('xmpp:nobody@localhost');
    await alice.sendChat('anyone home?');
    const bounced = await alice.waitForChatMessage('anyone home?', { status: 'failed' });
    expect(bounced.error).toMatch(/^undeliverable: xmpp:nobody@localhost did not take the message/);
    // The conversation with carol is untouched.
    await alice.selectConversation('xmpp:carol@localhost');
    expect((await alice.chatMessages()).map((m) => `${m.direction} ${m.status} ${m.body}`)).toEqual([
      'out sent hello from the demo page',
      'in received hi alice, from XMPP',
    ]);
  }, 60_000);
});
