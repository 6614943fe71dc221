import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as connectTls, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { Messager, UserAgent, TransportState } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SipTransportHub } from '../../adapters/sip/transport/index.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { startProcess } from '../support/child-process.js';
import { startMessageAgent, type MessageAgent } from '../support/sip/message-agent.js';
import { freePort } from '../support/free-port.js';

// A sip.js UserAgent on the hub against real peers on loopback: SIPp (Debian
// package sip-tester) over UDP and TCP, a WebSocket client (RFC 7118) and TLS.

const SCENARIOS = resolve(import.meta.dirname, '../sip/scenarios');
const SIPP = '/usr/bin/sipp';

interface Gateway extends MessageAgent {
  hub: SipTransportHub;
}

let gateway: Gateway;
let workDir: string;
let tls: { key: string; cert: string };

/** Runs SIPp to completion; resolves with its exit code and output. */
async function runSipp(args: string[]): Promise<{ code: number | null; output: string }> {
  const sipp = startProcess(SIPP, [...args, '-nostdin', '-timeout', '15', '-timeout_error', '-trace_err'], { cwd: workDir });
  const code = await new Promise<number | null>((done) => sipp.child.once('exit', (exitCode) => done(exitCode)));
  return { code, output: sipp.output() };
}

async function waitForTcpPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((done) => {
      const socket = connectTcp({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    await new Promise((wait) => setTimeout(wait, 50));
  }
  throw new Error(`nothing listens on TCP ${port}`);
}

function sendMessage(userAgent: UserAgent, target: string, body: string): Promise<number> {
  const uri = UserAgent.makeURI(target);
  if (!uri) throw new Error(`bad URI ${target}`);
  return new Promise((done, fail) => {
    new Messager(userAgent, uri, body)
      .message({
        requestDelegate: {
          onAccept: (response) => done(response.message.statusCode ?? 0),
          onReject: (response) => done(response.message.statusCode ?? 0),
        },
      })
      .catch(fail);
  });
}

/** A response built the way RFC 3261 section 8.2.6.2 says: Via, From, To (+ tag), Call-ID and CSeq copied. */
function answer(request: string, status: number, reason: string, toTag?: string): string {
  const copy = (name: string) => new RegExp(`^${name}: [^\\r\\n]*`, 'mi').exec(request)?.[0];
  const to = toTag ? `${copy('To')};tag=${toTag}` : copy('To');
  return [`SIP/2.0 ${status} ${reason}`, copy('Via'), copy('From'), to, copy('Call-ID'), copy('CSeq'), 'Content-Length: 0', '', ''].join('\r\n');
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((wait) => setTimeout(wait, 10));
  }
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'sip-hub-'));
  // A self-signed certificate valid for 127.0.0.1, so the outbound TLS test verifies it for real.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(workDir, 'key.pem'), '-out', join(workDir, 'cert.pem'),
  ], { stdio: 'ignore' });
  tls = { key: readFileSync(join(workDir, 'key.pem'), 'utf8'), cert: readFileSync(join(workDir, 'cert.pem'), 'utf8') };
  const hub = await SipTransportHub.start({
    advertisedHost: '127.0.0.1',
    udp: { host: '127.0.0.1', port: 0 },
    tcp: { host: '127.0.0.1', port: 0 },
    tls: { host: '127.0.0.1', port: 0, key: tls.key, cert: tls.cert },
    tlsClient: { ca: tls.cert },
    ws: true,
    logger: createSilentLogger(),
    timers: { t1: 100, t2: 400, t4: 500 },
  });
  // Deliberately not the advertised host: the hub writes the real Via and restores this one.
  const agent = await startMessageAgent(hub, 'gateway', 'switchboard.invalid');
  gateway = { hub, ...agent };
});

afterAll(async () => {
  await gateway?.userAgent.stop();
  await gateway?.hub.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('SipTransportHub with a sip.js UserAgent', () => {
  it('hands the UserAgent a transport that follows the sip.js state machine', () => {
    expect(gateway.transport.state).toBe(TransportState.Connected);
    expect(gateway.userAgent.transport).toBe(gateway.transport);
    const addresses = gateway.hub.addresses();
    expect(addresses.udp?.port).toBeGreaterThan(0);
    expect(addresses.tcp?.port).toBeGreaterThan(0);
    expect(addresses.tls?.port).toBeGreaterThan(0);
    expect(addresses.wsPath).toBe('/sip');
  });

  it.each([
    ['UDP', 'u1', () => gateway.hub.addresses().udp!.port],
    ['TCP', 't1', () => gateway.hub.addresses().tcp!.port],
  ])('answers a SIPp OPTIONS over %s through sip.js', async (_name, mode, hubPort) => {
    const sippPort = await freePort();
    const before = gateway.transport.counters.messagesIn;
    const { code, output } = await runSipp([`127.0.0.1:${hubPort()}`, '-sf', join(SCENARIOS, 'options-uac.xml'), '-m', '1', '-t', mode, '-i', '127.0.0.1', '-p', String(sippPort)]);
    expect(code, output).toBe(0);
    expect(gateway.transport.counters.messagesIn).toBe(before + 1);
  });

  it.each([
    ['UDP', 'u1', ''],
    ['TCP', 't1', ';transport=tcp'],
  ])('sends a MESSAGE to a SIPp UAS over %s with a Via it can answer', async (protocol, mode, uriParams) => {
    const sippPort = await freePort();
    const trace = join(workDir, `message-${protocol}.log`);
    const sipp = startProcess(SIPP, ['-sf', join(SCENARIOS, 'message-uas.xml'), '-m', '1', '-t', mode, '-i', '127.0.0.1', '-p', String(sippPort), '-nostdin', '-timeout', '15', '-timeout_error', '-trace_msg', '-message_file', trace], { cwd: workDir });
    const exited = new Promise<number | null>((done) => sipp.child.once('exit', (exitCode) => done(exitCode)));
    try {
      // UDP needs no wait: Timer E retransmits until SIPp is up.
      if (protocol === 'TCP') await waitForTcpPort(sippPort);
      const status = await sendMessage(gateway.userAgent, `sip:sipp@127.0.0.1:${sippPort}${uriParams}`, `hello over ${protocol}`);
      expect(status).toBe(200);
      expect(await exited, sipp.output()).toBe(0);
    } finally {
      await sipp.stop();
    }
    const hubPort = protocol === 'UDP' ? gateway.hub.addresses().udp!.port : gateway.hub.addresses().tcp!.port;
    const received = readFileSync(trace, 'utf8');
    expect(received).toContain(`Via: SIP/2.0/${protocol} 127.0.0.1:${hubPort};branch=z9hG4bK`);
    expect(received).not.toContain('switchboard.invalid;');
    expect(received).toContain(`hello over ${protocol}`);
  });

  describe('SIP over WebSocket (RFC 7118)', () => {
    let http: HttpServer;
    let url: string;

    beforeAll(async () => {
      http = createHttpServer((_request, response) => response.writeHead(404).end());
      http.on('upgrade', (request, socket, head) => {
        if (!gateway.hub.handleUpgrade(request, socket, head)) socket.destroy();
      });
      await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
      url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise((done) => http.close(done));
    });

    it('refuses an upgrade without the sip subprotocol and leaves other paths to the caller', async () => {
      const refused = await new Promise<string>((done) => {
        const client = new WebSocket(`${url}/sip`);
        client.once('error', (error) => done(error.message));
        client.once('open', () => done('opened'));
      });
      expect(refused).toContain('400');
      const otherPath = await new Promise<string>((done) => {
        const client = new WebSocket(`${url}/other`, 'sip');
        client.once('error', (error) => done(error.message));
        client.once('open', () => done('opened'));
      });
      expect(otherPath).not.toBe('opened');
    });

    it('answers a request on the flow and reaches the client later through its Contact host', async () => {
      const client = new WebSocket(`${url}/sip`, 'sip');
      await new Promise((done, fail) => client.once('open', done).once('error', fail));
      expect(client.protocol).toBe('sip');
      const inbox: string[] = [];
      const next = () => new Promise<string>((done) => client.once('message', (data) => done(data.toString())));
      client.on('message', (data) => inbox.push(data.toString()));
      const reply = next();
      client.send(
        [
          'OPTIONS sip:gateway@127.0.0.1 SIP/2.0',
          'Via: SIP/2.0/WS k3j4h5.invalid;branch=z9hG4bKws1',
          'Max-Forwards: 70',
          'To: <sip:gateway@127.0.0.1>',
          'From: <sip:browser@example.org>;tag=ws-tag',
          'Call-ID: ws-options-1',
          'CSeq: 1 OPTIONS',
          'Contact: <sip:browser@k3j4h5.invalid;transport=ws>',
          '',
          '',
        ].join('\r\n'),
      );
      const options200 = await reply;
      expect(options200).toMatch(/^SIP\/2\.0 200 /);
      expect(options200).toContain('Via: SIP/2.0/WS k3j4h5.invalid;branch=z9hG4bKws1;received=127.0.0.1');
      // Now the gateway sends a request to the WebSocket client's made-up host.
      const incoming = next();
      const answered = sendMessage(gateway.userAgent, 'sip:browser@k3j4h5.invalid;transport=ws', 'to the browser');
      const message = await incoming;
      expect(message).toMatch(/^MESSAGE sip:browser@k3j4h5\.invalid;transport=ws SIP\/2\.0/);
      expect(message).toMatch(/Via: SIP\/2\.0\/WS 127\.0\.0\.1;branch=(z9hG4bK\S+)/);
      client.send(answer(message, 200, 'OK', 'browser'));
      expect(await answered).toBe(200);
      client.close();
      expect(inbox).toHaveLength(2);
    });
    it('a WebSocket client cannot take over another client\'s .invalid host, nor claim a host that is not its own', async () => {
      const connect = async (localAddress: string) => {
        const client = new WebSocket(`${url}/sip`, 'sip', { localAddress });
        await new Promise((done, fail) => client.once('open', done).once('error', fail));
        const inbox: string[] = [];
        client.on('message', (data) => inbox.push(data.toString()));
        return { client, inbox };
      };
      const options = (via: string, contact: string, branch: string) =>
        [
          'OPTIONS sip:gateway@127.0.0.1 SIP/2.0',
          `Via: SIP/2.0/WS ${via};branch=${branch}`,
          'Max-Forwards: 70',
          'To: <sip:gateway@127.0.0.1>',
          `From: <sip:browser@example.org>;tag=${branch}`,
          `Call-ID: ${branch}`,
          'CSeq: 1 OPTIONS',
          `Contact: <sip:browser@${contact};transport=ws>`,
          '',
          '',
        ].join('\r\n');
      const owner = await connect('127.0.0.1');
      owner.client.send(options('owner7.invalid', 'owner7.invalid', 'z9hG4bKowner'));
      await until(() => owner.inbox.length === 1);
      const thief = await connect('127.0.0.2');
      thief.client.send(options('owner7.invalid', '127.0.0.9:5080', 'z9hG4bKthief'));
      await until(() => thief.inbox.length === 1);
      try {
        const answered = sendMessage(gateway.userAgent, 'sip:browser@owner7.invalid;transport=ws', 'for the owner');
        await until(() => owner.inbox.length === 2);
        expect(owner.inbox[1]).toMatch(/^MESSAGE sip:browser@owner7\.invalid/);
        owner.client.send(answer(owner.inbox[1]!, 200, 'OK', 'owner'));
        expect(await answered).toBe(200);
        // 127.0.0.9 is not the thief's address: a request there is not sent down the thief's flow.
        void sendMessage(gateway.userAgent, 'sip:browser@127.0.0.9:5080;transport=ws', 'for 127.0.0.9').catch(() => undefined);
        await new Promise((wait) => setTimeout(wait, 500));
        expect(thief.inbox).toHaveLength(1);
      } finally {
        owner.client.close();
        thief.client.close();
      }
    });
  });

  describe('SIP over TLS', () => {
    it('answers an OPTIONS that arrives over TLS', async () => {
      const socket = connectTls({ host: '127.0.0.1', port: gateway.hub.addresses().tls!.port, ca: tls.cert });
      await new Promise((done, fail) => socket.once('secureConnect', done).once('error', fail));
      const response = new Promise<string>((done) => socket.once('data', (data) => done(data.toString())));
      socket.write(
        [
          'OPTIONS sip:gateway@127.0.0.1 SIP/2.0',
          `Via: SIP/2.0/TLS 127.0.0.1:${socket.localPort};branch=z9hG4bKtls1`,
          'Max-Forwards: 70',
          'To: <sip:gateway@127.0.0.1>',
          'From: <sip:tls@127.0.0.1>;tag=tls',
          'Call-ID: tls-options-1',
          'CSeq: 1 OPTIONS',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      expect(await response).toMatch(/^SIP\/2\.0 200 OK\r\n/);
      socket.destroy();
    });

    it('opens a verified TLS connection for a sips: request', async () => {
      let server: TlsServer | undefined;
      const peerSockets: TLSSocket[] = [];
      const seen = new Promise<string>((done) => {
        server = createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => {
          peerSockets.push(socket);
          socket.once('data', (data) => {
            const request = data.toString();
            socket.write(answer(request, 202, 'Accepted', 'tls-peer'));
            done(request);
          });
        });
      });
      await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
      try {
        const port = (server!.address() as AddressInfo).port;
        expect(await sendMessage(gateway.userAgent, `sips:peer@127.0.0.1:${port}`, 'secure hello')).toBe(202);
        expect(await seen).toContain(`Via: SIP/2.0/TLS 127.0.0.1:${gateway.hub.addresses().tls!.port};branch=`);
      } finally {
        // The hub keeps the connection for later requests to this peer, so the peer hangs up.
        for (const socket of peerSockets) socket.destroy();
        await new Promise((done) => server!.close(done));
      }
    });
  });

  it('retransmits an INVITE on UDP until a peer answers its third copy (Timer A), and re-ACKs a repeated 486 (Timer D)', async () => {
    const peer = createSocket('udp4');
    await new Promise<void>((done) => peer.bind(0, '127.0.0.1', done));
    const invites: { at: number; text: string }[] = [];
    const acks: string[] = [];
    const hubPort = gateway.hub.addresses().udp!.port;
    const reply = (text: string) => peer.send(text, hubPort, '127.0.0.1');
    peer.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('INVITE ')) {
        invites.push({ at: Date.now(), text });
        // A peer that loses the first two copies: only the third is answered.
        if (invites.length === 3) {
          reply(answer(text, 100, 'Trying'));
          setTimeout(() => reply(answer(text, 486, 'Busy Here', 'busy')), 50);
        }
      } else if (text.startsWith('ACK ')) {
        acks.push(text);
        // Pretend the ACK was lost: the 486 comes again and must be ACKed again, not reach sip.js.
        if (acks.length === 1) reply(answer(invites[0]!.text, 486, 'Busy Here', 'busy'));
      }
    });
    const before = gateway.hub.counters();
    try {
      const core = gateway.userAgent.userAgentCore;
      const target = UserAgent.makeURI(`sip:peer@127.0.0.1:${(peer.address() as AddressInfo).port}`)!;
      const request = core.makeOutgoingRequestMessage('INVITE', target, UserAgent.makeURI('sip:gateway@127.0.0.1')!, target, {}, [
        `Contact: ${gateway.userAgent.contact.toString()}`,
      ]);
      const rejections: number[] = [];
      const rejected = new Promise<void>((done) => {
        core.invite(request, {
          onReject: (response) => {
            rejections.push(response.message.statusCode ?? 0);
            done();
          },
        });
      });
      await rejected;
      await until(() => acks.length === 2);
      // Give Timer A the chance to misbehave after the 100 Trying.
      await new Promise((wait) => setTimeout(wait, 500));
      expect(rejections).toEqual([486]);
      expect(invites).toHaveLength(3);
      expect(new Set(invites.map((invite) => invite.text)).size).toBe(1);
      const [first, second, third] = invites.map((invite) => invite.at) as [number, number, number];
      expect(second - first).toBeGreaterThanOrEqual(90);
      expect(second - first).toBeLessThan(280);
      expect(third - second).toBeGreaterThanOrEqual(190);
      expect(third - second).toBeLessThan(480);
      const branch = /branch=(z9hG4bK[^;\s]+)/.exec(invites[0]!.text)?.[1];
      expect(acks[0]).toContain(`branch=${branch}`);
      expect(acks[1]).toBe(acks[0]);
      const after = gateway.hub.counters();
      expect(after.retransmissionsSent - before.retransmissionsSent).toBe(3);
      expect(after.retransmissionsAbsorbed - before.retransmissionsAbsorbed).toBe(1);
    } finally {
      peer.close();
    }
  });

  it('counts what crossed the wire', () => {
    const counters = gateway.hub.counters();
    expect(counters.received.UDP).toBeGreaterThan(0);
    expect(counters.sent.TCP).toBeGreaterThan(0);
    expect(counters.received.WS).toBeGreaterThan(0);
    expect(counters.sent.TLS).toBeGreaterThan(0);
    expect(counters.transports.gateway?.messagesOut).toBeGreaterThan(0);
  });
});
