import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { XmppLab } from '../support/xmpp/xmpp-lab.js';

// XEP-0215: the gateway asks its XMPP server (Prosody's mod_turn_external) for STUN/TURN services
// and gives them to the media anchor's own ICE, with the server's time-limited TURN credentials.

let lab: XmppLab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

describe('XEP-0198 stream management', () => {
  it('is enabled on the gateway’s stream when the server offers it', async () => {
    lab = await XmppLab.start({ prosody: { streamManagement: true } });
    await expect.poll(() => lab!.gateway.xmpp!.serviceStreamManagement, { timeout: 5_000 }).toBe(true);
  }, 30_000);

  it('is off when the server does not offer it', async () => {
    lab = await XmppLab.start();
    expect(lab.gateway.xmpp!.serviceStreamManagement).toBe(false);
  }, 30_000);
});

describe('XEP-0215 external services for the anchor', () => {
  it('adds the server’s STUN and TURN (TURN REST credentials) to the anchor’s ICE servers', async () => {
    const secret = 'turn-shared-secret';
    lab = await XmppLab.start({ prosody: { externalServices: { secret, host: '127.0.0.1', port: 3479 } }, xmpp: { externalServices: true } });
    await expect.poll(() => lab!.gateway.media.iceServers.some((url) => url.startsWith('turn:')), { timeout: 10_000 }).toBe(true);
    const servers = lab.gateway.media.iceServers;
    expect(servers).toContain('stun:127.0.0.1:3479');
    const turn = servers.find((url) => url.startsWith('turn:'))!;
    const match = /^turn:([^:]+):([^@]+)@127\.0\.0\.1:3479\?transport=udp$/.exec(turn);
    expect(match).not.toBeNull();
    const username = decodeURIComponent(match![1]!);
    const password = decodeURIComponent(match![2]!);
    // TURN REST (what coturn's use-auth-secret checks): user "<expiry>[:name]", password base64(HMAC-SHA1(secret, user)).
    expect(Number(username.split(':')[0])).toBeGreaterThan(Date.now() / 1000);
    expect(password).toBe(createHmac('sha1', secret).update(username).digest('base64'));
  }, 30_000);
});
