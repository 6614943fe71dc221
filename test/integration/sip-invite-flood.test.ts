import { describe, expect, it } from 'vitest';
import { allocatePort } from '../support/sip/ports.js';
import { openRawUdp, phoneOffer, rawRequest } from '../support/sip/raw-sip.js';
import { runSipp } from '../support/sip/sipp.js';
import { testScope } from '../support/test-scope.js';
import { WsTestClient } from '../support/ws-test-client.js';

// sip.inbound.invitesPerSecond is a budget per source (Kamailio's pike does
// the same): one source flooding INVITEs spends its own and nobody else's.

const scope = testScope();

describe('INVITE flood limit per source (sip.inbound.invitesPerSecond)', () => {
  it('one source flooding INVITEs gets 503 + Retry-After while a call from another source still rings the web user', async () => {
    const sipPort = await allocatePort();
    const gateway = await scope.start({ sip: { enabled: true, port: sipPort, inbound: { invitesPerSecond: 1, invitesPerSecondTotal: 50 } } });
    const alice = await WsTestClient.login(gateway.httpPort, 'alice');
    scope.defer(() => alice.close());
    const rung: string[] = [];
    alice.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; callId?: string; from?: string };
      if (frame.type !== 'incoming') return;
      rung.push(frame.from ?? '');
      alice.send({ type: 'reject', callId: frame.callId!, reason: 'busy' });
    });

    // The flood: a new INVITE from 127.0.0.2 every 5 ms until the other call is over.
    const flooder = await openRawUdp('127.0.0.2');
    scope.defer(() => flooder.close());
    let sent = 0;
    const flood = setInterval(() => {
      sent++;
      const branch = `z9hG4bKflood${sent}`;
      flooder.send(rawRequest({ method: 'INVITE', user: 'alice', target: `127.0.0.1:${sipPort}`, transport: 'UDP', sentBy: `127.0.0.2:${flooder.port}`, branch, body: phoneOffer('127.0.0.2', 40000) }), sipPort);
    }, 5);
    scope.defer(() => clearInterval(flood));
    await flooder.next((message) => /^SIP\/2\.0 503 /.test(message));

    // Meanwhile a caller at 127.0.0.3 (sipp) rings alice, who is busy: 486 is its success.
    const caller = await runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${sipPort}`, service: 'alice', localAddress: '127.0.0.3', timeoutS: 10 });
    clearInterval(flood);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(rung.filter((from) => from.includes('@127.0.0.3'))).toHaveLength(1);

    const refusals = flooder.received.filter((message) => /^SIP\/2\.0 503 Too Many Calls\r\n/.test(message));
    expect(refusals.length).toBeGreaterThan(10);
    expect(refusals[0]).toMatch(/\r\nRetry-After: 5\r\n/);
    // The flooder rang alice only within its own budget: about one call a second.
    expect(rung.filter((from) => from.includes('@127.0.0.2')).length).toBeLessThan(sent / 10);
  }, 30_000);
});
