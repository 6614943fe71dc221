import { PassThrough } from 'node:stream';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load-config.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logging/logger.js';
import { encodeStunMessage } from '../../src/ice/stun-message.js';
import { duplicateJsonKeys } from '../support/json-duplicate-keys.js';
import { allocatePort } from '../support/sip/ports.js';
import { RecordingSipPeer } from '../support/sip/recording-sip-peer.js';
import { runSipp } from '../support/sip/sipp.js';
import { LOOPBACK_NETWORKS, LOOPBACK_SIP_DIAL_PLAN } from '../support/test-gateway.js';
import { testScope } from '../support/test-scope.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';

// Every log line is one JSON object whose keys are unique (hardening issue, item 9): pipelines that
// reject duplicate keys (or keep the first, or the last) must see what the gateway meant. The
// gateway runs at trace level through STUN, SIP (a call in, a registration, refusals) and signaling.

const scope = testScope();

describe('log lines', () => {
  it('carry no duplicate keys, whatever the component', async () => {
    const lines: string[] = [];
    const destination = new PassThrough();
    let partial = '';
    destination.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      lines.push(...complete.filter((line) => line !== ''));
    });
    const registrar = await RecordingSipPeer.start();
    scope.defer(() => registrar.close());
    const sipPort = await allocatePort();
    const config = validateConfig({
      log: { level: 'trace' },
      server: { host: '127.0.0.1', port: 0 },
      stun: { host: '127.0.0.1', port: 0 },
      ice: { candidateNetworks: LOOPBACK_NETWORKS },
      media: { rtpHost: '127.0.0.1', iceBindAddress: '127.0.0.1' },
      sip: {
        host: '127.0.0.1',
        port: sipPort,
        advertisedHost: '127.0.0.1',
        outbound: { dialPlan: LOOPBACK_SIP_DIAL_PLAN },
        registration: { domains: [{ domain: `127.0.0.1:${registrar.port}`, guests: true }] },
      },
    });
    const gateway = new Gateway(config, { logger: createLogger({ level: 'trace', destination }) });
    scope.gateway = gateway;
    await gateway.start();

    // STUN.
    const stun = createSocket('udp4');
    scope.defer(() => stun.close());
    stun.send(encodeStunMessage({ method: 0x001, cls: 'request', transactionId: Buffer.alloc(12, 7), attributes: [] }), gateway.stunPort!, '127.0.0.1');
    // A web user who registers a SIP account, receives a SIP call with anchored media, and is refused a trunk call.
    const alice = await WsTestClient.connect(gateway.httpPort);
    scope.defer(() => alice.close());
    alice.send({ type: 'login', protocol: 1, name: 'alice', sip: { aor: `sip:alice@127.0.0.1:${registrar.port}`, password: 'x' } });
    await alice.next('welcome');
    const sipp = runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 20 });
    const incoming = await alice.next('incoming', () => true, 10_000);
    const browser = makeWebRtcTestPeer('alice-web', (close) => scope.defer(close));
    alice.send({ type: 'accept', callId: incoming.callId, sdp: await browser.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]) });
    await alice.next('ended', () => true, 15_000);
    expect((await sipp).exitCode).toBe(0);
    alice.send({ type: 'call', id: 'toll', callId: 'toll-call', to: 'tel:+19005550100', sdp: await browser.createOffer([PCMU]) });
    await alice.next('error', (f) => f.id === 'toll');
    alice.close();
    scope.gateway = undefined;
    await gateway.stop();

    const components = new Set(lines.map((line) => (JSON.parse(line) as { component?: string }).component));
    // The scenario reached the parts that log with their own bindings.
    expect([...components]).toEqual(expect.arrayContaining(['stun', 'sip', 'signaling', 'calls', 'anchor']));
    const offending = lines.filter((line) => duplicateJsonKeys(line).length > 0);
    expect(offending.slice(0, 5)).toEqual([]);
  }, 45_000);
});
