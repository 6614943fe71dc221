import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { describeSipp, startSippServer, type SippServer } from '../support/sip/sipp.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';

// Web users call out through `sip.outbound.proxy`, a trunk (sipp) that
// challenges the INVITE with digest authentication (RFC 3261 section 22) and
// checks the credentials before it answers: with sipp's verifyauth for a 401;
// for a 407 against a digest computed here, since sipp 3.6.1's verifyauth
// reads only an Authorization header (see the scenarios).

let gateway: Gateway | undefined;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await gateway?.stop();
  gateway = undefined;
});

const TRUNK_USER = 'switchboard-trunk';
const TRUNK_PASSWORD = 'trunk-secret';

/** Where the web user's `tel:+15550100` goes: the gateway's domain, through the trunk. */
const DIALLED_URI = 'sip:+15550100@127.0.0.1;user=phone';
const REALM = 'trunk.test';
const PROXY_NONCE = 'trunk-nonce-1';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** RFC 2617 section 3.2.2.1 without qop (the challenges offer none): what a right password gives. */
function expectedDigest(nonce: string): string {
  return md5(`${md5(`${TRUNK_USER}:${REALM}:${TRUNK_PASSWORD}`)}:${nonce}:${md5(`INVITE:${DIALLED_URI}`)}`);
}

const CHALLENGES = [
  {
    status: 407,
    reason: 'Proxy Authentication Required',
    credentials: 'Proxy-Authorization',
    variables: { auth_nonce: PROXY_NONCE, expected_response: expectedDigest(PROXY_NONCE) },
  },
  {
    status: 401,
    reason: 'Unauthorized',
    credentials: 'Authorization',
    variables: { auth_user: TRUNK_USER, auth_password: TRUNK_PASSWORD },
  },
] as const;

type Challenge = (typeof CHALLENGES)[number];

interface Trunk {
  server: SippServer;
  /** sipp's -trace_logs file: "credentials valid" / "credentials invalid" per checked INVITE. */
  verifyLog(): string;
}

async function startTrunk(challenge: Challenge): Promise<Trunk> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-trunk-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'actions.log');
  const server = await startSippServer({
    scenario: `uas-auth-${challenge.status}-answer`,
    calls: 1,
    timeoutS: 20,
    traceMessages: true,
    variables: challenge.variables,
    extraArgs: ['-trace_logs', '-log_file', logFile],
  });
  cleanups.push(() => server.stop());
  return {
    server,
    verifyLog: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

async function gatewayWithTrunk(trunkPort: number, password: string): Promise<void> {
  gateway = await startTestGateway({
    sip: {
      enabled: true,
      port: await allocatePort(),
      // The web user here is a guest: this trunk's dial plan lets guests dial its test numbers.
      outbound: { proxy: `sip:127.0.0.1:${trunkPort}`, username: TRUNK_USER, password, dialPlan: [{ match: '^tel:\\+1555\\d{4}$', guests: true }] },
    },
  });
}

async function webUser(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(gateway!.httpPort, name);
  cleanups.push(() => client.close());
  return client;
}

describe.each(CHALLENGES)('outbound calls through a trunk that answers $status', (challenge) => {
  it('the gateway answers the challenge, the trunk verifies the credentials and answers', async () => {
    const trunk = await startTrunk(challenge);
    await gatewayWithTrunk(trunk.server.port, TRUNK_PASSWORD);
    const alice = await webUser('alice');
    const browser = makeWebRtcTestPeer('alice-browser', (close) => cleanups.push(close));
    const offer = await browser.createOffer([PCMU]);
    // tel: becomes sip:+15550100@<gateway domain>;user=phone, routed through the trunk (the proxy).
    alice.send({ type: 'call', id: 'c', callId: 'trunk-call', to: 'tel:+15550100', sdp: offer });
    await alice.next('ack', (f) => f.id === 'c');
    const answered = await alice.next('answered', (f) => f.callId === 'trunk-call', 10_000);
    expect(answered.sdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF/m);
    browser.acceptAnswer(answered.sdp);
    alice.send({ type: 'hangup', callId: 'trunk-call' });

    const result = await trunk.server.done;
    expect(result.exitCode, describeSipp(result)).toBe(0);
    expect(result.stats.successfulCalls).toBe(1);
    expect(trunk.verifyLog()).toMatch(/credentials valid/);
    expect(trunk.verifyLog()).not.toMatch(/credentials invalid/);
    // The second INVITE carried the answer to the challenge in the header the status asks for.
    const invites = result.messages.split(/\n(?=INVITE )/).filter((m) => m.startsWith('INVITE '));
    expect(invites.length).toBeGreaterThanOrEqual(2);
    expect(result.messages).toMatch(new RegExp(`^${challenge.credentials}: Digest [^\\r\\n]*username="${TRUNK_USER}", realm="${REALM}"`, 'mi'));
    expect(result.messages).toContain(`INVITE ${DIALLED_URI} SIP/2.0`);
  }, 30_000);

  it('a wrong password: the trunk challenges again and the browser gets a clear failure', async () => {
    const trunk = await startTrunk(challenge);
    await gatewayWithTrunk(trunk.server.port, 'not-the-trunk-secret');
    const alice = await webUser('alice');
    const browser = makeWebRtcTestPeer('alice-browser', (close) => cleanups.push(close));
    const offer = await browser.createOffer([PCMU]);
    alice.send({ type: 'call', callId: 'trunk-call-bad', to: 'tel:+15550100', sdp: offer });
    expect(await alice.next('ended', (f) => f.callId === 'trunk-call-bad', 10_000)).toMatchObject({
      reason: 'forbidden',
      detail: `SIP ${challenge.status} ${challenge.reason}: credentials refused or missing`,
    });
    const result = await trunk.server.done;
    expect(result.exitCode, describeSipp(result)).toBe(0);
    expect(trunk.verifyLog()).toMatch(/credentials invalid/);
    expect(trunk.verifyLog()).not.toMatch(/credentials valid/);
    // sip.js tried the credentials once and gave up (RFC 3261 section 22.3): no third INVITE.
    expect(result.messages.match(/^INVITE sip:/gm)?.length).toBe(2);
    expect(alice.frames.filter((f) => f.type === 'answered')).toHaveLength(0);
  }, 30_000);
});
