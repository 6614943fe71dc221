import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load-config.js';
import { Gateway } from '../../src/gateway.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { startProcess, type RunningProcess } from '../support/child-process.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';

const OFFER = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2', ''].join('\r\n');
const ADMIN_TOKEN = 'admin-token-for-tests-0123';

let gateway: Gateway | undefined;
let process_: RunningProcess | undefined;
const clients: WsTestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await gateway?.stop();
  gateway = undefined;
  await process_?.stop();
  process_ = undefined;
});

async function activeCall(port: number, callId: string): Promise<{ alice: WsTestClient; bob: WsTestClient }> {
  const alice = await WsTestClient.login(port, 'alice');
  const bob = await WsTestClient.login(port, 'bob');
  clients.push(alice, bob);
  alice.send({ type: 'call', id: 'c', callId, to: 'web:bob', sdp: OFFER });
  await bob.next('incoming');
  bob.send({ type: 'accept', callId, sdp: OFFER });
  await alice.next('answered');
  return { alice, bob };
}

describe('graceful shutdown of the switchboard process', () => {
  it('on SIGTERM a call goes on until the drain time, new calls and users are refused, then it exits 0', async () => {
    process_ = startProcess(process.execPath, ['bin/switchboard.js'], {
      env: {
        PATH: process.env.PATH,
        SWITCHBOARD_SERVER__HOST: '127.0.0.1',
        SWITCHBOARD_SERVER__PORT: '0',
        SWITCHBOARD_SERVER__DRAIN_TIMEOUT_MS: '3000',
        SWITCHBOARD_STUN__HOST: '127.0.0.1',
        SWITCHBOARD_STUN__PORT: '0',
        SWITCHBOARD_SIP__HOST: '127.0.0.1',
        SWITCHBOARD_SIP__PORT: '0',
      },
    });
    const listening = await process_.waitFor(/"httpPort":\d+/);
    const port = Number(listening.split(':')[1]);
    const base = `http://127.0.0.1:${port}`;
    const { alice, bob } = await activeCall(port, 'call-survives-sigterm');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const signalledAt = Date.now();
    process.kill(process_.child.pid!, 'SIGTERM');
    await process_.waitFor(/draining/);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining', calls: 1 });

    // New calls are refused with a clear reason; the call in progress still carries signaling.
    alice.send({ type: 'call', id: 'late', callId: 'call-after-sigterm', to: 'web:bob', sdp: OFFER });
    expect(await alice.next('error', (f) => f.id === 'late')).toMatchObject({ code: 'shutting-down' });
    bob.send({ type: 'dtmf', callId: 'call-survives-sigterm', digits: '42' });
    expect(await alice.next('dtmf')).toMatchObject({ digits: '42' });
    // New users go elsewhere: the WebSocket upgrade is refused.
    await expect(WsTestClient.connect(port)).rejects.toThrow(/503/);

    expect(await alice.next('ended', () => true, 6000)).toMatchObject({ reason: 'shutdown' });
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2900);
    const code = await new Promise<number | null>((resolve) => {
      if (process_!.child.exitCode !== null) resolve(process_!.child.exitCode);
      process_!.child.once('exit', (exitCode) => resolve(exitCode));
    });
    expect(code).toBe(0);
  }, 30_000);

  it('the process exits non-zero with a message naming a bad config key', async () => {
    process_ = startProcess(process.execPath, ['bin/switchboard.js'], {
      env: { PATH: process.env.PATH, SWITCHBOARD_SIGNALING__RATE_LIMIT__BURST: 'lots', SWITCHBOARD_SIP__ENABLED: 'false' },
    });
    await process_.waitFor(/invalid configuration: signaling\.rateLimit\.burst: /);
    await new Promise((resolve) => process_!.child.once('exit', resolve));
    expect(process_.child.exitCode).toBe(2);
  }, 15_000);
});

describe('admin API', () => {
  it('refuses requests without the token, lists calls and users, and hangs a call up', async () => {
    gateway = await startTestGateway({ admin: { token: ADMIN_TOKEN } });
    const base = `http://127.0.0.1:${gateway.httpPort}/admin`;
    const { alice, bob } = await activeCall(gateway.httpPort, 'call-for-admin');
    expect((await fetch(`${base}/calls`)).status).toBe(401);
    expect((await fetch(`${base}/calls`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);

    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const calls = (await (await fetch(`${base}/calls`, { headers: auth })).json()) as { calls: Record<string, unknown>[] };
    expect(calls.calls).toEqual([
      expect.objectContaining({ id: 'call-for-admin', type: 'web-web', state: 'active', caller: 'web:alice', callee: 'web:bob', media: 'relay' }),
    ]);
    const users = (await (await fetch(`${base}/users`, { headers: auth })).json()) as { users: { user: string }[] };
    expect(users.users.map((u) => u.user).sort()).toEqual(['alice', 'bob']);

    expect((await fetch(`${base}/calls/no-such-call`, { method: 'DELETE', headers: auth })).status).toBe(404);
    const hangup = await fetch(`${base}/calls/call-for-admin`, { method: 'DELETE', headers: auth });
    expect(await hangup.json()).toEqual({ ended: 'call-for-admin' });
    expect(await alice.next('ended')).toMatchObject({ reason: 'hangup', detail: 'ended by the operator' });
    expect(await bob.next('ended')).toMatchObject({ reason: 'hangup' });
    expect(gateway.calls.size).toBe(0);
  });

  it('is off without a token', async () => {
    gateway = await startTestGateway();
    expect((await fetch(`http://127.0.0.1:${gateway.httpPort}/admin/calls`)).status).toBe(404);
  });

  it('reload applies new ICE servers at once and reports what needs a restart', async () => {
    const base = {
      server: { host: '127.0.0.1', port: 0 },
      stun: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' as const },
      admin: { token: ADMIN_TOKEN },
    };
    let next = validateConfig(base);
    gateway = new Gateway(validateConfig(base), { logger: createSilentLogger(), loadConfig: () => next });
    await gateway.start();
    next = validateConfig({
      ...base,
      ice: { turn: [{ urls: ['turn:127.0.0.1:3479'], secret: 'new-turn-secret' }] },
      media: { rtpPortMin: 30000, rtpPortMax: 30999 },
    });
    const response = await fetch(`http://127.0.0.1:${gateway.httpPort}/admin/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(await response.json()).toEqual({ applied: ['ice'], restartRequired: ['media'] });
    const client = await WsTestClient.connect(gateway.httpPort);
    clients.push(client);
    client.send({ type: 'login', protocol: 1, name: 'alice' });
    const { iceServers } = await client.next('welcome');
    expect(iceServers.map((s) => s.urls[0])).toContain('turn:127.0.0.1:3479');
  });
});
