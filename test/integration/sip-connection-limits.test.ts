import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ConfigInput } from '../../src/config/load-config.js';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { openRawTcp, rawRequest, type RawTcpPeer } from '../support/sip/raw-sip.js';
import { startTestGateway } from '../support/test-gateway.js';

// sip.limits against real sockets on loopback: how many SIP connections a
// source and everyone together may hold, and how long a connection may stay
// silent or half-way through a message. Sources are told apart by binding
// the client sockets to 127.0.0.1, 127.0.0.2... (all of 127/8 is loopback).

type SipLimits = NonNullable<NonNullable<NonNullable<ConfigInput>['sip']>['limits']>;

let gateway: Gateway | undefined;
let sipPort = 0;
let certDir: string;
const closers: (() => void)[] = [];

beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), 'sip-limits-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
  ], { stdio: 'ignore' });
});

afterAll(() => rmSync(certDir, { recursive: true, force: true }));

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await gateway?.stop();
  gateway = undefined;
});

async function sipGateway(limits: SipLimits, tls = false): Promise<void> {
  sipPort = await allocatePort();
  const tlsPort = tls ? await allocatePort() : undefined;
  gateway = await startTestGateway({
    sip: {
      enabled: true,
      port: sipPort,
      limits,
      ...(tlsPort ? { tls: { port: tlsPort, certFile: join(certDir, 'cert.pem'), keyFile: join(certDir, 'key.pem') } } : {}),
    },
  });
}

const counters = () => gateway!.sip!.transportCounters()!;

async function tcpFrom(localAddress: string): Promise<RawTcpPeer> {
  const peer = await openRawTcp(sipPort, localAddress);
  closers.push(() => peer.socket.destroy());
  return peer;
}

function options(peer: RawTcpPeer, branch: string): string {
  return rawRequest({ method: 'OPTIONS', user: 'switchboard', target: `127.0.0.1:${sipPort}`, transport: 'TCP', sentBy: `${peer.socket.localAddress}:${peer.socket.localPort}`, branch });
}

/** The peer gets its OPTIONS answered: the gateway serves the connection. */
async function served(peer: RawTcpPeer, branch: string): Promise<void> {
  peer.socket.write(options(peer, branch));
  await peer.waitFor(new RegExp(`^SIP/2\\.0 200 [\\s\\S]*branch=${branch}`), 5000);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('connection caps (sip.limits.maxConnectionsPerSource, maxConnections)', () => {
  it('the connection over a source\'s share is closed at once; another source still connects', async () => {
    await sipGateway({ maxConnectionsPerSource: 3, maxConnections: 100 });
    for (let index = 0; index < 3; index++) await served(await tcpFrom('127.0.0.1'), `z9hG4bKshare${index}`);
    const over = await tcpFrom('127.0.0.1');
    await over.closedWithin(3000);
    expect(over.text()).toBe('');
    await served(await tcpFrom('127.0.0.2'), 'z9hG4bKother-source');
    expect(counters()).toMatchObject({ connectionsRefusedPerSource: 1, connectionsRefusedTotal: 0, inboundConnections: 4 });
  });

  it('the connection over the total is closed at once, whatever its source, until a place is free again', async () => {
    await sipGateway({ maxConnectionsPerSource: 10, maxConnections: 4 });
    const held: RawTcpPeer[] = [];
    for (const address of ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      const peer = await tcpFrom(address);
      await served(peer, `z9hG4bKtotal-${address}`);
      held.push(peer);
    }
    const over = await tcpFrom('127.0.0.5');
    await over.closedWithin(3000);
    expect(counters()).toMatchObject({ connectionsRefusedTotal: 1, inboundConnections: 4 });
    held[0]!.socket.destroy();
    await until(() => counters().inboundConnections === 3, 3000);
    await served(await tcpFrom('127.0.0.5'), 'z9hG4bKfreed');
  });

  it('TLS connections count from the moment they are accepted, before their handshake', async () => {
    await sipGateway({ maxConnectionsPerSource: 2 }, true);
    const tlsPort = gateway!.sip!.addresses()!.tls!.port;
    const handshakes = [0, 1].map(() => {
      const socket = connectTls({ host: '127.0.0.1', port: tlsPort, ca: readFileSync(join(certDir, 'cert.pem')) });
      closers.push(() => socket.destroy());
      return new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    });
    await Promise.all(handshakes);
    // The third, raw TCP towards the TLS port, is refused before any handshake.
    const third = connectTcp({ host: '127.0.0.1', port: tlsPort });
    closers.push(() => third.destroy());
    await new Promise<void>((resolve) => third.once('close', () => resolve()).on('error', () => undefined));
    expect(counters().connectionsRefusedPerSource).toBe(1);
  });

  it('WebSocket upgrades at /sip over the source\'s share get HTTP 503', async () => {
    await sipGateway({ maxConnectionsPerSource: 2 });
    const url = `ws://127.0.0.1:${gateway!.httpPort}/sip`;
    const open = (localAddress: string) =>
      new Promise<string>((resolve) => {
        const client = new WebSocket(url, 'sip', { localAddress });
        closers.push(() => client.terminate());
        client.once('open', () => resolve('open'));
        client.once('unexpected-response', (_request, response) => resolve(`HTTP ${response.statusCode} Retry-After ${response.headers['retry-after']}`));
        client.once('error', (error) => resolve(error.message));
      });
    expect(await open('127.0.0.1')).toBe('open');
    expect(await open('127.0.0.1')).toBe('open');
    expect(await open('127.0.0.1')).toBe('HTTP 503 Retry-After 30');
    expect(await open('127.0.0.2')).toBe('open');
    // The browser protocol's own WebSocket is not SIP's to refuse.
    const browser = new WebSocket(`ws://127.0.0.1:${gateway!.httpPort}/ws`, { localAddress: '127.0.0.1' });
    closers.push(() => browser.terminate());
    await new Promise((resolve, reject) => browser.once('open', resolve).once('error', reject));
  });

  it('behind a trusted proxy (server.trustedProxies) WebSocket clients are counted by X-Forwarded-For, not as the proxy', async () => {
    sipPort = await allocatePort();
    gateway = await startTestGateway({ server: { trustedProxies: ['127.0.0.1/32'] }, sip: { enabled: true, port: sipPort, limits: { maxConnectionsPerSource: 1 } } });
    const open = (forwardedFor: string) =>
      new Promise<string>((resolve) => {
        const client = new WebSocket(`ws://127.0.0.1:${gateway!.httpPort}/sip`, 'sip', { headers: { 'x-forwarded-for': forwardedFor } });
        closers.push(() => client.terminate());
        client.once('open', () => resolve('open'));
        client.once('unexpected-response', (_request, response) => resolve(`HTTP ${response.statusCode}`));
        client.once('error', (error) => resolve(error.message));
      });
    expect(await open('203.0.113.1')).toBe('open');
    expect(await open('203.0.113.2')).toBe('open');
    expect(await open('203.0.113.1')).toBe('HTTP 503');
  });
});

describe('time bounds (sip.limits.headerTimeoutMs, idleTimeoutSeconds)', () => {
  it('a connection that sent 60 kB of a header block and stops is closed after headerTimeoutMs', async () => {
    await sipGateway({ headerTimeoutMs: 500, idleTimeoutSeconds: 60 });
    const peer = await tcpFrom('127.0.0.1');
    const start = options(peer, 'z9hG4bKhalf').split('Content-Length')[0]!;
    peer.socket.write(start + `X-Padding: ${'a'.repeat(60_000)}\r\n`);
    const elapsed = await peer.closedWithin(5000);
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(counters().messageTimeouts).toBe(1);
  });

  it('a connection that never sends anything is closed after headerTimeoutMs, a TLS one that never handshakes too', async () => {
    await sipGateway({ headerTimeoutMs: 500, idleTimeoutSeconds: 60 }, true);
    const silent = await tcpFrom('127.0.0.1');
    await silent.closedWithin(5000);
    const tlsSilent = connectTcp({ host: '127.0.0.1', port: gateway!.sip!.addresses()!.tls!.port });
    closers.push(() => tlsSilent.destroy());
    await new Promise<void>((resolve) => tlsSilent.once('close', () => resolve()).on('error', () => undefined));
    await until(() => counters().inboundConnections === 0, 3000);
  });

  it('a connection that sent a message and went quiet is closed after idleTimeoutSeconds; CRLF keep-alives keep one open', async () => {
    await sipGateway({ headerTimeoutMs: 500, idleTimeoutSeconds: 1 });
    const quiet = await tcpFrom('127.0.0.1');
    await served(quiet, 'z9hG4bKquiet');
    const pinging = await tcpFrom('127.0.0.2');
    await served(pinging, 'z9hG4bKpinging');
    // RFC 5626 section 3.5.1: double-CRLF pings every 300 ms, each answered with a CRLF pong.
    const pings = setInterval(() => pinging.socket.write('\r\n\r\n'), 300);
    closers.push(() => clearInterval(pings));
    await quiet.closedWithin(5000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(pinging.socket.destroyed).toBe(false);
    expect(pinging.text()).toMatch(/\r\n\r\n\r\n$/);
    clearInterval(pings);
    await pinging.closedWithin(5000);
    expect(counters().idleTimeouts).toBe(2);
    expect(counters().messageTimeouts).toBe(0);
  });

  it('a silent WebSocket peer that answers pings keeps its flow; one that stops answering loses it', async () => {
    await sipGateway({ idleTimeoutSeconds: 1 });
    const client = new WebSocket(`ws://127.0.0.1:${gateway!.httpPort}/sip`, 'sip');
    closers.push(() => client.terminate());
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    let pinged = 0;
    client.on('ping', () => pinged++);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(pinged).toBeGreaterThanOrEqual(1);
    expect(counters().inboundConnections).toBe(1);
    // A peer gone without a word: its socket reads nothing any more, so no pong comes back.
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    await until(() => counters().inboundConnections === 0, 6000);
    expect(counters().idleTimeouts).toBe(1);
  });
});
