import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from '../support/chromium.js';
import { startProsody, type RunningProsody } from '../support/xmpp/prosody.js';
import { StanzaPeer } from '../support/xmpp/stanza-peer.js';

// The StanzaJS peer proven on its own before it is pointed at the gateway: two StanzaJS clients in
// headless Chromium, logged in to one Prosody over WebSocket, call each other with direct Jingle
// session-initiate (XEP-0166/0167, ICE-UDP, DTLS-SRTP) and real audio from the fake microphone.

const USERS = { carol: 'carol-secret', dave: 'dave-secret' };
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1)$/;
const TURN = { secret: 'turn-rest-secret', host: '127.0.0.1', port: 3478 };

let browser: TestBrowser | undefined;
let prosody: RunningProsody | undefined;
const peers: StanzaPeer[] = [];

beforeAll(async () => {
  browser = await launchChromium({ loopbackSocketsOnly: true });
});
afterEach(async () => {
  for (const peer of peers.splice(0)) await peer.stop();
  await prosody?.stop();
  prosody = undefined;
});
afterAll(async () => {
  await browser?.close();
});

async function peer(user: keyof typeof USERS, options: { resource?: string; autoAnswer?: boolean } = {}): Promise<StanzaPeer> {
  prosody ??= await startProsody({ users: USERS, websocket: true, carbons: true, externalServices: TURN });
  const started = await StanzaPeer.start({ websocketUrl: prosody.websocketUrl!, jid: `${user}@localhost`, password: USERS[user], browser, ...options });
  peers.push(started);
  return started;
}

function expectAudio(stats: { packetsReceived: number; totalAudioEnergy: number; selectedPair?: { local: string; remote: string } }): void {
  // 20 ms opus frames: 3 s of call is ~150 packets; the fake microphone's beeps carry energy.
  expect(stats.packetsReceived).toBeGreaterThan(50);
  expect(stats.totalAudioEnergy).toBeGreaterThan(0);
  // Media on loopback only, also on the sending side of each pair (chromium.ts loopbackSocketsOnly).
  expect(stats.selectedPair?.local).toMatch(LOOPBACK);
  expect(stats.selectedPair?.remote).toMatch(LOOPBACK);
}

describe('StanzaPeer harness (StanzaJS in Chromium, Prosody over WebSocket)', () => {
  it('dave calls carol with a direct session-initiate: audio both ways, dave hangs up, both end', async () => {
    const carol = await peer('carol', { resource: 'phone' });
    const dave = await peer('dave');
    expect(carol.jid).toBe('carol@localhost/phone');

    const sid = await dave.call(carol.jid);
    const offered = await carol.waitForIncoming();
    expect(offered).toMatchObject({ sid, peer: dave.jid, role: 'responder', state: 'pending' });
    await carol.answer();
    await dave.waitForState('active');
    await carol.waitForState('active');

    const [daveHeard, carolHeard] = await Promise.all([dave.audioAfter(3000), carol.audioAfter(3000)]);
    expectAudio(daveHeard);
    expectAudio(carolHeard);

    await dave.hangup();
    expect(await carol.endReason()).toMatchObject({ condition: 'success', by: 'remote' });
    expect(await dave.endReason()).toMatchObject({ condition: 'success', by: 'local' });
    expect(await carol.jingleTrace()).toMatch(/action=["']session-terminate["']/);
  }, 60_000);

  it('carol declines: dave gets session-terminate <decline/>', async () => {
    const carol = await peer('carol');
    const dave = await peer('dave');
    await dave.call(carol.jid);
    await carol.waitForIncoming();
    await carol.reject('decline');
    expect(await dave.endReason()).toMatchObject({ condition: 'decline', by: 'remote' });
  }, 30_000);

  it('Prosody options: XEP-0215 announces STUN and TURN (mod_turn_external), XEP-0280 copies chats to another resource', async () => {
    const carolPhone = await peer('carol', { resource: 'phone' });
    const carolLaptop = await peer('carol', { resource: 'laptop' });
    const dave = await peer('dave');

    const services = await carolPhone.externalServices();
    expect(services).toContainEqual(expect.objectContaining({ type: 'stun', host: TURN.host, port: TURN.port, transport: 'udp' }));
    const turn = services.find((service) => service.type === 'turn');
    expect(turn).toMatchObject({ host: TURN.host, port: TURN.port, transport: 'udp' });
    // TURN REST credentials: "<expiry>" (no user configured) and a password derived from the secret.
    expect(turn?.username).toMatch(/^\d+/);
    expect(turn?.password).toBeTruthy();

    await carolLaptop.enableCarbons();
    await dave.sendMessage(carolPhone.jid, 'hello phone');
    await expect.poll(() => carolPhone.messages(), { timeout: 10_000 }).toContainEqual({ from: dave.jid, body: 'hello phone', carbon: false });
    await expect.poll(() => carolLaptop.messages(), { timeout: 10_000 }).toContainEqual({ from: dave.jid, body: 'hello phone', carbon: true });
  }, 30_000);
});
