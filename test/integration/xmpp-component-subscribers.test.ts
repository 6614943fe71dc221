import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/load-config.js';
import type { Gateway } from '../../src/gateway.js';
import { FAST_CLUSTER } from '../support/cluster/in-process-nodes.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { startProsody, type RunningProsody } from '../support/xmpp/prosody.js';
import { XmppTestClient } from '../support/xmpp/xmpp-test-client.js';

// Component mode (XEP-0114) with a real Prosody: a component has no roster on its server, so the
// gateway keeps who subscribed to its users' presence. Contacts stay logged in across a gateway
// restart and still see web user alice come online afterwards: her subscribers were kept in a
// file, or in Redis when the cluster directory is there.

const DOMAIN = 'gw.localhost';
const ALICE = `alice@${DOMAIN}`;
const ALICE_FULL = `${ALICE}/switchboard`;

let prosody: RunningProsody | undefined;
let redis: TestRedis | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await redis?.stop();
  redis = undefined;
  await prosody?.stop();
  prosody = undefined;
});

async function startGateway(component: Record<string, unknown>, config: ConfigInput = {}): Promise<Gateway> {
  const gateway = await startTestGateway({
    ...config,
    xmpp: {
      enabled: true,
      server: prosody!.service,
      component: { domain: DOMAIN, password: 'component-secret', server: prosody!.componentService!, ...component },
      outbound: { guests: true },
    },
  });
  cleanups.push(() => gateway.stop());
  return gateway;
}

async function xmppUser(name: string): Promise<XmppTestClient> {
  const client = await XmppTestClient.login(prosody!.service, 'localhost', name, `${name}-secret`);
  cleanups.push(() => client.stop());
  // Prosody routes subscription traffic to resources that fetched the roster (PEERS.md).
  await client.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
  return client;
}

async function webUser(gateway: Gateway, name: string): Promise<WsTestClient> {
  const client = await WsTestClient.connect(gateway.httpPort);
  cleanups.push(() => client.close());
  client.send({ type: 'login', id: 'login', protocol: 1, name });
  await client.next('welcome');
  await client.next('registration', (r) => r.state === 'registered', 10_000);
  return client;
}

function presenceOf(type: string | undefined): (p: Element) => boolean {
  return (p) => p.attrs.from === ALICE_FULL && p.attrs.type === type;
}

async function subscribe(contact: XmppTestClient): Promise<void> {
  await contact.send(xml('presence', { to: ALICE, type: 'subscribe' }));
  await contact.presence((p) => p.attrs.from === ALICE && p.attrs.type === 'subscribed');
}

/** carol subscribes, sees alice come and go; the gateway stops; a new one starts on the same store; alice logs in: carol sees her. */
async function restartKeepsSubscribers(first: () => Promise<Gateway>, second: () => Promise<Gateway>): Promise<XmppTestClient> {
  const gateway = await first();
  const carol = await xmppUser('carol');
  await subscribe(carol);
  const alice = await webUser(gateway, 'alice');
  await carol.presence(presenceOf(undefined));
  alice.close();
  await carol.presence(presenceOf('unavailable'));
  await gateway.stop();

  const again = await second();
  await webUser(again, 'alice');
  // carol did not log in again nor re-subscribe: the new gateway knew she is a subscriber.
  const online = await carol.presence(presenceOf(undefined));
  expect(online.getChild('c', 'http://jabber.org/protocol/caps')).toBeDefined();
  return carol;
}

describe('the XMPP component keeps its subscribers across restarts', () => {
  it('in xmpp.component.subscribersFile: the contact sees alice available after a restart without logging in again', async () => {
    prosody = await startProsody({ users: { carol: 'carol-secret' }, component: { domain: DOMAIN, secret: 'component-secret' } });
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-subscribers-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const subscribersFile = join(dir, 'subscribers.json');
    await restartKeepsSubscribers(
      () => startGateway({ subscribersFile }),
      () => startGateway({ subscribersFile }),
    );
    expect(JSON.parse(await readFile(subscribersFile, 'utf8'))).toEqual({ version: 1, subscriptions: { alice: ['carol@localhost'] } });
    // Readable by the gateway's user only: it lists who talks to whom.
    expect(statSync(subscribersFile).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('in Redis when the cluster directory is there: the next gateway (or node) reads what the last one kept', async () => {
    prosody = await startProsody({ users: { carol: 'carol-secret' }, component: { domain: DOMAIN, secret: 'component-secret' } });
    redis = await startRedis();
    const cluster = (nodeId: string): ConfigInput => ({ directory: { kind: 'redis', redis: { url: redis!.url, keyPrefix: 'subs:' } }, cluster: { nodeId, ...FAST_CLUSTER } });
    await restartKeepsSubscribers(
      () => startGateway({}, cluster('node-a')),
      () => startGateway({}, cluster('node-b')),
    );
    const inspect = new Redis(redis.url);
    cleanups.push(() => inspect.quit());
    expect(await inspect.smembers(`subs:xmpp-subscribers:${DOMAIN}`)).toEqual([JSON.stringify(['alice', 'carol@localhost'])]);
  }, 60_000);

  it('subscriptions are capped (xmpp.component.maxSubscriptions): past the cap a contact is refused with unsubscribed and nothing is kept', async () => {
    prosody = await startProsody({ users: { carol: 'carol-secret', dave: 'dave-secret' }, component: { domain: DOMAIN, secret: 'component-secret' } });
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-subscribers-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const subscribersFile = join(dir, 'subscribers.json');
    await startGateway({ subscribersFile, maxSubscriptions: 1 });
    await subscribe(await xmppUser('carol'));
    const dave = await xmppUser('dave');
    await dave.send(xml('presence', { to: ALICE, type: 'subscribe' }));
    await dave.presence((p) => p.attrs.from === ALICE && p.attrs.type === 'unsubscribed');
    expect(JSON.parse(await readFile(subscribersFile, 'utf8'))).toEqual({ version: 1, subscriptions: { alice: ['carol@localhost'] } });
  }, 60_000);
});
