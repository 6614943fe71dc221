import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/auth/access-token.js';
import type { ConfigInput } from '../../src/config/load-config.js';
import type { Gateway } from '../../src/gateway.js';
import { CloseCode } from '../../src/protocol/messages.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startInProcessNodes } from '../support/cluster/in-process-nodes.js';
import { WsTestClient } from '../support/ws-test-client.js';

// The directory on a real Redis, shared by two gateway nodes: who is online where, the rule
// that only a token login replaces a session (atomically, across nodes), presence of every
// node, and a node that leaves.

const SECRET = 'cluster-test-secret-0123456789';
let redis: TestRedis;
const gateways: Gateway[] = [];
const clients: WsTestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const gateway of gateways.splice(0).reverse()) await gateway.stop();
});

async function startNodes(count: number, overrides: ConfigInput = {}): Promise<Gateway[]> {
  const nodes = await startInProcessNodes(redis, count, overrides);
  gateways.push(...nodes);
  return nodes;
}

async function connect(gateway: Gateway): Promise<WsTestClient> {
  const client = await WsTestClient.connect(gateway.httpPort);
  clients.push(client);
  return client;
}

async function loginAs(gateway: Gateway, login: { name: string } | { token: string }): Promise<WsTestClient> {
  const client = await connect(gateway);
  client.send({ type: 'login', id: 'login', protocol: 1, ...login });
  return client;
}

describe('the directory on Redis', () => {
  it('a token login on node B closes the session on node A as replaced (4001), and B holds the user', async () => {
    const [a, b] = await startNodes(2, { auth: { secret: SECRET } });
    const token = await signAccessToken({ secret: SECRET, user: 'alice', ttlSeconds: 300 });
    const first = await loginAs(a!, { token });
    await first.next('welcome');
    const second = await loginAs(b!, { token });
    await second.next('welcome');
    expect(await first.closed).toBe(CloseCode.replaced);
    expect(await a!.directory.lookup('alice')).toMatchObject({ nodeId: 'node-b' });
    // The replaced session's logout does not remove the user from the directory.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await b!.directory.lookup('alice')).toMatchObject({ nodeId: 'node-b' });
    expect(second.closeCode).toBeUndefined();
  });

  it('a guest never takes a name in use on another node: name-taken, and the holder stays', async () => {
    const [a, b] = await startNodes(2);
    const holder = await loginAs(a!, { name: 'bob' });
    await holder.next('welcome');
    const guest = await loginAs(b!, { name: 'bob' });
    expect(await guest.next('error')).toMatchObject({ code: 'name-taken' });
    expect(await b!.directory.lookup('bob')).toMatchObject({ nodeId: 'node-a' });
    expect(holder.closeCode).toBeUndefined();
  });

  it('of many guests picking one name at once on two nodes, exactly one gets it (the rule is one atomic step)', async () => {
    const [a, b] = await startNodes(2);
    const tries = await Promise.all(Array.from({ length: 12 }, (_, i) => connect(i % 2 === 0 ? a! : b!)));
    for (const client of tries) client.send({ type: 'login', id: 'login', protocol: 1, name: 'carol' });
    const outcomes = await Promise.all(
      tries.map((client) => Promise.race([client.next('welcome').then(() => 'welcome'), client.next('error').then((f) => f.code)])),
    );
    expect(outcomes.filter((o) => o === 'welcome')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'name-taken')).toHaveLength(11);
  });

  it('presence subscribers on one node see users of every node come and go', async () => {
    const [a, b] = await startNodes(2);
    const watcher = await loginAs(a!, { name: 'watcher' });
    await watcher.next('welcome');
    const early = await loginAs(b!, { name: 'early' });
    await early.next('welcome');
    watcher.send({ type: 'presence-subscribe', id: 'p' });
    const full = await watcher.next('presence', (f) => f.full);
    expect(full.users.map((u) => u.user).sort()).toEqual(['early', 'watcher']);
    const late = await loginAs(b!, { name: 'late' });
    await late.next('welcome');
    expect(await watcher.next('presence', (f) => f.users[0]?.user === 'late')).toMatchObject({ users: [{ user: 'late', status: 'online' }] });
    late.close();
    expect(await watcher.next('presence', (f) => f.users[0]?.user === 'late')).toMatchObject({ users: [{ user: 'late', status: 'offline' }] });
  });

  it('a node that stops takes its users out of the directory at once, announced offline', async () => {
    const [a, b] = await startNodes(2);
    const watcher = await loginAs(a!, { name: 'watcher' });
    await watcher.next('welcome');
    watcher.send({ type: 'presence-subscribe', id: 'p' });
    await watcher.next('presence', (f) => f.full);
    const dave = await loginAs(b!, { name: 'dave' });
    await dave.next('welcome');
    await watcher.next('presence', (f) => f.users[0]?.user === 'dave');
    await b!.stop();
    gateways.splice(gateways.indexOf(b!), 1);
    expect(await watcher.next('presence', (f) => f.users[0]?.user === 'dave')).toMatchObject({ users: [{ user: 'dave', status: 'offline' }] });
    expect(await a!.directory.lookup('dave')).toBeUndefined();
    expect(await a!.directory.count()).toBe(1);
  });
});
