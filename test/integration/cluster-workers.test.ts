import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/cluster/gateway-process.js';
import { WebParty } from '../support/cluster/web-party.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { allocatePort } from '../support/sip/ports.js';

// `switchboard --workers 2`: two gateway processes on this machine behind one HTTP port, each a
// node of the Redis directory with its own slice of the media ports. Browsers land on either;
// both anchor calls, and calls between them cross the bus.

let redis: TestRedis;
let client: Redis;
let gateway: GatewayProcess | undefined;
const parties: WebParty[] = [];

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});
afterEach(async () => {
  for (const party of parties.splice(0)) party.close();
  await gateway?.stop();
  gateway = undefined;
});

describe('switchboard --workers 2', () => {
  it('both worker processes take users and anchor calls on the shared port; calls between them carry audio', async () => {
    const httpPort = await allocatePort();
    const rtpBase = (await allocatePort()) & ~1;
    gateway = await startGatewayProcess({
      redisUrl: redis.url,
      keyPrefix: 'workers:',
      nodeId: 'box',
      httpPort,
      workers: 2,
      config: { media: { rtpPortMin: rtpBase, rtpPortMax: rtpBase + 399 } },
    });
    // Connections are handed to the workers in turn: log in until each worker holds someone.
    const byNode = new Map<string, WebParty>();
    for (let i = 0; i < 8 && byNode.size < 2; i++) {
      const party = await WebParty.login(httpPort, `user${i}`);
      parties.push(party);
      const entry = JSON.parse((await client.hget('workers:users', `user${i}`))!) as { nodeId: string };
      if (!byNode.has(entry.nodeId)) byNode.set(entry.nodeId, party);
    }
    expect([...byNode.keys()].sort()).toEqual(['box-w0', 'box-w1']);
    const [first, second] = [byNode.get('box-w0')!, byNode.get('box-w1')!];

    // Each worker anchors its own user's echo call: the tone comes back through it.
    for (const party of [first, second]) {
      const callId = await party.call('service:echo');
      await party.answered(callId);
      await party.connected();
      const echoed = await party.hears(party);
      expect(echoed.received, `${party.name}'s echo`).toBeGreaterThan(15);
      party.client.send({ type: 'hangup', callId });
    }

    // A call from one worker's user to the other's crosses the bus between the processes.
    const callId = await first.call(`web:${second.name}`);
    await second.answer();
    await first.answered(callId);
    await Promise.all([first.connected(), second.connected()]);
    expect((await second.hears(first)).received).toBeGreaterThan(15);
    expect((await first.hears(second)).received).toBeGreaterThan(15);
    first.client.send({ type: 'hangup', callId });
    expect(await second.client.next('ended', (f) => f.callId === callId)).toMatchObject({ reason: 'hangup' });
  }, 60_000);
});
