import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { openRawTcp, rawRequest, type RawTcpPeer } from '../support/sip/raw-sip.js';
import { startTestGateway } from '../support/test-gateway.js';

// What a hostile peer can do to the gateway's SIP over TCP with a single
// connection, against the real gateway on loopback.

let gateway: Gateway | undefined;
const peers: RawTcpPeer[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.socket.destroy();
  await gateway?.stop();
  gateway = undefined;
});

async function sipGateway(): Promise<number> {
  const sipPort = await allocatePort();
  gateway = await startTestGateway({ sip: { enabled: true, port: sipPort } });
  return sipPort;
}

async function tcpPeer(port: number, localAddress?: string): Promise<RawTcpPeer> {
  const peer = await openRawTcp(port, localAddress);
  peers.push(peer);
  return peer;
}

function options(peer: RawTcpPeer, sipPort: number, branch: string): string {
  return rawRequest({
    method: 'OPTIONS',
    user: 'switchboard',
    target: `127.0.0.1:${sipPort}`,
    transport: 'TCP',
    sentBy: `127.0.0.1:${peer.socket.localPort}`,
    branch,
  });
}

describe('SIP over TCP: line endings before a message (RFC 3261 section 7.5)', () => {
  it.each([
    ['20,000 bare LFs', '\n'.repeat(20_000)],
    ['20,000 CRLFs', '\r\n'.repeat(20_000)],
  ])('%s then an OPTIONS on one connection: the OPTIONS is answered 200 and nothing throws', async (_name, noise) => {
    const sipPort = await sipGateway();
    const peer = await tcpPeer(sipPort);
    peer.socket.write(noise);
    peer.socket.write(options(peer, sipPort, 'z9hG4bKafter-noise'));
    expect(await peer.waitFor(/SIP\/2\.0 200 [^\r\n]*\r\n/, 5000)).toMatch(/^SIP\/2\.0 200/);
    // The same connection still carries the next request.
    peer.socket.write(options(peer, sipPort, 'z9hG4bKsecond'));
    await peer.waitFor(/branch=z9hG4bKsecond[\s\S]*\r\n\r\n/, 5000);
  }, 20_000);
});
