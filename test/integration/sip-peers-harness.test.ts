/**
 * The real-peer SIP harness proven on its own, without the gateway: baresip
 * phones calling each other, sipp scenarios against each other, a call
 * through a lossy UDP relay, and Kamailio as registrar/proxy with digest auth.
 * Everything runs on 127.0.0.1 as real processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { freePort } from '../support/free-port.js';
import { startBaresip, type Baresip } from '../support/sip/baresip.js';
import { startKamailio, type Kamailio } from '../support/sip/kamailio.js';
import { startLossyUdpRelay } from '../support/sip/lossy-udp-relay.js';
import { describeSipp, runSipp, startSippServer, type SippServer } from '../support/sip/sipp.js';

const cleanups: Array<() => Promise<unknown>> = [];
/** Output of the peer processes of the running test, printed when it fails. */
const outputs: Array<{ name: string; output: () => string }> = [];
afterEach(async (context) => {
  if (context.task.result?.state === 'fail') {
    for (const { name, output } of outputs) console.log(`--- ${name} output ---\n${output().slice(-6000)}`);
  }
  outputs.length = 0;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function phone(options: Parameters<typeof startBaresip>[0]): Promise<Baresip> {
  const peer = await startBaresip({ sipTrace: true, ...options });
  cleanups.push(() => peer.stop());
  outputs.push({ name: `baresip ${peer.user}`, output: () => peer.process.output() });
  return peer;
}

async function sippServer(options: Parameters<typeof startSippServer>[0]): Promise<SippServer> {
  const server = await startSippServer(options);
  cleanups.push(() => server.stop());
  return server;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SIP peers harness', () => {
  it('baresip calls baresip directly and each hears the other one tone', async () => {
    const bob = await phone({ user: 'bob', toneHz: 1000 });
    const alice = await phone({ user: 'alice', toneHz: 440 });

    await alice.dial(bob.uri);
    const [outgoing, incoming] = await Promise.all([alice.waitForCallEstablished(), bob.waitForCallEstablished()]);
    expect(outgoing.direction).toBe('outgoing');
    expect(incoming.direction).toBe('incoming');
    expect(incoming.peeruri).toBe('sip:alice@127.0.0.1');

    await sleep(3000);
    const heardByBob = bob.recordedAudio({ skipS: 0.5 });
    const heardByAlice = alice.recordedAudio({ skipS: 0.5 });
    expect(heardByBob.durationS).toBeGreaterThan(2);
    // A half-scale sine has an RMS of ~11585; silence is 0.
    expect(heardByBob.rms).toBeGreaterThan(5000);
    expect(heardByBob.tonePower(440)).toBeGreaterThan(0.1);
    expect(heardByBob.tonePower(440)).toBeGreaterThan(100 * heardByBob.tonePower(1000));
    expect(heardByBob.tonePower(440)).toBeGreaterThan(100 * heardByBob.tonePower(700));
    expect(heardByAlice.tonePower(1000)).toBeGreaterThan(100 * heardByAlice.tonePower(440));

    await alice.hangup();
    await Promise.all([alice.waitForCallClosed(), bob.waitForCallClosed()]);
  });

  it('sipp uac-call-bye completes against sipp uas-answer', async () => {
    const uas = await sippServer({ scenario: 'uas-answer', rtpEcho: true, timeoutS: 20 });
    const uac = await runSipp({
      scenario: 'uac-call-bye',
      remote: `127.0.0.1:${uas.port}`,
      service: 'alice',
      pauseMs: 200,
      timeoutS: 10,
    });
    expect(uac.exitCode, describeSipp(uac)).toBe(0);
    expect(uac.stats.successfulCalls).toBe(1);
    const server = await uas.done;
    expect(server.exitCode, describeSipp(server)).toBe(0);
    expect(server.stats.successfulCalls).toBe(1);
  });

  it('sipp uac-call-bye over TCP reaches a baresip phone, and sipp echoes its audio', async () => {
    const bob = await phone({ user: 'bob', toneHz: 440 });
    const uac = await runSipp({
      scenario: 'uac-call-bye',
      remote: `127.0.0.1:${bob.sipPort}`,
      transport: 't1',
      service: 'bob',
      pauseMs: 1500,
      rtpEcho: true,
      timeoutS: 10,
    });
    expect(uac.exitCode, describeSipp(uac)).toBe(0);
    const established = await bob.waitForCallEstablished();
    expect(established.peeruri).toMatch(/^sip:sipp@127\.0\.0\.1/);
    await bob.waitForCallClosed();
    // sipp -rtp_echo sent bob's tone back to him on the media port of its SDP.
    const heard = bob.recordedAudio({ skipS: 0.3 });
    expect(heard.durationS).toBeGreaterThan(0.8);
    expect(heard.tonePower(440)).toBeGreaterThan(0.1);
  });

  it('sipp uac-busy gets 486 from sipp uas-busy', async () => {
    const uas = await sippServer({ scenario: 'uas-busy', timeoutS: 20 });
    const uac = await runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${uas.port}`, timeoutS: 10 });
    expect(uac.exitCode, describeSipp(uac)).toBe(0);
    expect((await uas.done).exitCode).toBe(0);
  });

  it('calls set up through a relay that drops 20% of UDP packets both ways', async () => {
    const calls = 3;
    // lossyLink: the UAS keeps each dialog 32 s to answer retransmitted BYEs; it is stopped, not awaited.
    const uas = await sippServer({ scenario: 'uas-answer', calls: 0, lossyLink: true, timeoutS: 60 });
    const relay = await startLossyUdpRelay({ serverPort: uas.port, dropRate: 0.2, seed: 7 });
    cleanups.push(() => relay.close());

    const uac = await runSipp({
      scenario: 'uac-call-bye',
      remote: `127.0.0.1:${relay.port}`,
      calls,
      rate: 10,
      maxConcurrent: 1,
      pauseMs: 100,
      timeoutS: 30,
    });
    const summary = `${describeSipp(uac)}\nrelay: ${JSON.stringify(relay.stats)}\n${relay.log.join('\n')}`;
    expect(uac.exitCode, summary).toBe(0);
    expect(uac.stats.successfulCalls, summary).toBe(calls);
    expect(relay.stats.toServer.dropped + relay.stats.toClient.dropped, summary).toBeGreaterThan(0);
    expect(uac.stats.retransmissions, summary).toBeGreaterThan(0);
  });

  it('baresip registers to Kamailio with digest auth and is called through it', async () => {
    const kamailio: Kamailio = await startKamailio({ users: { carol: 'carol-secret' }, wsPort: await freePort() });
    cleanups.push(() => kamailio.stop());
    outputs.push({ name: 'kamailio', output: () => kamailio.process.output() });

    const carol = await phone({
      user: 'carol',
      toneHz: 600,
      registrar: { server: kamailio.domain, password: 'carol-secret', regint: 60 },
    });
    await carol.waitForRegistered();

    // A wrong password is refused.
    const mallory = await phone({
      user: 'dave',
      registrar: { server: kamailio.domain, password: 'wrong', regint: 60 },
    });
    await mallory.waitForEvent('REGISTER_FAIL');

    const caller = await phone({ user: 'erin', toneHz: 440 });
    await caller.dial(`sip:carol@${kamailio.domain}`);
    await Promise.all([caller.waitForCallEstablished(), carol.waitForCallEstablished()]);
    await sleep(1500);
    const heard = carol.recordedAudio({ skipS: 0.3 });
    expect(heard.tonePower(440)).toBeGreaterThan(0.1);
    expect(caller.recordedAudio({ skipS: 0.3 }).tonePower(600)).toBeGreaterThan(0.1);

    // The BYE goes through the proxy too (record-routed).
    await carol.hangup();
    await Promise.all([caller.waitForCallClosed(), carol.waitForCallClosed()]);

    // An unknown user is not found.
    const miss = await runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${kamailio.udpPort}`, service: 'nobody', timeoutS: 5 });
    expect(miss.exitCode).not.toBe(0);
    expect(miss.errors).toMatch(/404 Not Found/);

    // SIP over WebSocket answers too: a REGISTER without credentials is challenged.
    const challenge = await new Promise<string>((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${kamailio.wsPort}`, 'sip');
      socket.once('error', reject);
      socket.once('open', () => {
        socket.send(
          [
            `REGISTER sip:127.0.0.1:${kamailio.udpPort} SIP/2.0`,
            'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK-ws-1',
            'Max-Forwards: 70',
            `From: <sip:frank@127.0.0.1:${kamailio.udpPort}>;tag=ws1`,
            `To: <sip:frank@127.0.0.1:${kamailio.udpPort}>`,
            'Call-ID: ws-register-1',
            'CSeq: 1 REGISTER',
            'Contact: <sip:frank@df7jal23ls0d.invalid;transport=ws>',
            'Expires: 60',
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n'),
        );
      });
      socket.once('message', (data) => {
        socket.close();
        resolve(String(data));
      });
    });
    expect(challenge).toMatch(/^SIP\/2\.0 401 /);
    expect(challenge).toMatch(/WWW-Authenticate: Digest realm="127\.0\.0\.1"/);
  });
});
