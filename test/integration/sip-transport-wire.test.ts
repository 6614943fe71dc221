import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as connectTcp, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { Messager, TransportState, UserAgent } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SipTransportError,
  SipTransportHub,
  type DropReason,
  type SipJsTransport,
} from '../../adapters/sip/transport/index.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { startMessageAgent, type MessageAgent } from '../support/sip/message-agent.js';

// The hub's own RFC 3261 section 18 behaviour, seen from raw sockets on
// loopback: stateless answers, absorbed retransmissions, keep-alives,
// framing errors, routing between UserAgents, connection reuse, close.

type Agent = MessageAgent;

let hub: SipTransportHub;
let gateway: Agent;
let second: Agent;
let idle: SipJsTransport;
let peer: UdpSocket;
const drops: DropReason[] = [];

function startAgent(user: string): Promise<Agent> {
  return startMessageAgent(hub, user);
}

function request(method: string, user: string, branch: string, extra: string[] = [], body = ''): string {
  const port = (peer.address() as AddressInfo).port;
  return [
    `${method} sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch}`,
    'Max-Forwards: 70',
    `To: <sip:${user}@127.0.0.1>`,
    `From: <sip:raw@127.0.0.1:${port}>;tag=raw-${branch}`,
    `Call-ID: call-${branch}`,
    `CSeq: 1 ${method}`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** Sends a datagram to the hub and collects what comes back within `waitMs`. */
async function exchange(datagram: string, waitMs = 300): Promise<string[]> {
  const replies: string[] = [];
  const collect = (data: Buffer) => replies.push(data.toString());
  peer.on('message', collect);
  peer.send(datagram, hub.addresses().udp!.port, '127.0.0.1');
  await new Promise((wait) => setTimeout(wait, waitMs));
  peer.off('message', collect);
  return replies;
}

async function openTcp(port: number): Promise<{ socket: Socket; received: () => string }> {
  const socket = connectTcp({ host: '127.0.0.1', port });
  await new Promise((done, fail) => socket.once('connect', done).once('error', fail));
  let text = '';
  socket.on('data', (data) => (text += data.toString()));
  return { socket, received: () => text };
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((wait) => setTimeout(wait, 10));
  }
}

beforeAll(async () => {
  hub = await SipTransportHub.start({
    advertisedHost: '127.0.0.1',
    udp: { host: '127.0.0.1', port: 0 },
    tcp: { host: '127.0.0.1', port: 0 },
    logger: createSilentLogger(),
    timers: { t1: 100, t2: 400, t4: 500 },
    maxMessageBytes: 4096,
  });
  hub.on('messagedropped', (reason) => drops.push(reason));
  gateway = await startAgent('gateway');
  second = await startAgent('second');
  // A transport whose UserAgent never connected: requests routed to it get a 503.
  idle = hub.createTransport('idle');
  hub.setRequestRouter((peeked) => {
    const user = /^sips?:([^@;]+)@/.exec(peeked.requestUri)?.[1];
    return user === 'second' ? second.transport : user === 'idle' ? idle : undefined;
  });
  peer = createSocket('udp4');
  await new Promise<void>((done) => peer.bind(0, '127.0.0.1', done));
});

afterAll(async () => {
  peer?.close();
  await gateway?.userAgent.stop();
  await second?.userAgent.stop();
  await hub?.close();
});

describe('SipTransportHub on the wire', () => {
  it('answers a request without From and To with 400 and a Warning, statelessly', async () => {
    const broken = request('MESSAGE', 'gateway', 'z9hG4bKbroken').replace(/^(To|From): .*\r\n/gm, '');
    const replies = await exchange(broken);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(replies[0]).toContain('Warning: 399 127.0.0.1 "Missing or malformed header fields: From, To"');
    expect(replies[0]).toContain('Call-ID: call-z9hG4bKbroken');
    expect(gateway.messages).toEqual([]);
  });

  it('answers a request with a repeated Call-ID with 400: the hub and sip.js would each read another one', async () => {
    const twice = request('MESSAGE', 'gateway', 'z9hG4bKtwoids', ['Call-ID: another-call-id', 'Content-Type: text/plain'], 'two ids');
    const replies = await exchange(twice);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(replies[0]).toContain('Warning: 399 127.0.0.1 "Missing or malformed header fields: Call-ID"');
    expect(gateway.messages).not.toContain('two ids');
  });

  it('never answers a broken ACK, and drops what is not SIP', async () => {
    const ack = request('ACK', 'gateway', 'z9hG4bKbadack').replace(/^CSeq: .*\r\n/m, '');
    expect(await exchange(ack)).toEqual([]);
    const before = hub.counters().parseErrors;
    expect(await exchange('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toEqual([]);
    expect(await exchange('\r\n\r\n')).toEqual([]);
    expect(hub.counters().parseErrors).toBe(before + 1);
    expect(drops).toContain('not-sip');
  });

  it('delivers a retransmitted MESSAGE once and repeats the 200 for the copy', async () => {
    const message = request('MESSAGE', 'gateway', 'z9hG4bKdup', ['Content-Type: text/plain'], 'only once');
    const first = await exchange(message);
    const second = await exchange(message);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(second).toEqual(first);
    expect(gateway.messages.filter((body) => body === 'only once')).toHaveLength(1);
  });

  it('routes out-of-dialog requests with the router and falls back to the default transport', async () => {
    const toSecond = await exchange(request('MESSAGE', 'second', 'z9hG4bKsecond', ['Content-Type: text/plain'], 'for second'));
    expect(toSecond[0]).toMatch(/^SIP\/2\.0 200 OK/);
    expect(second.messages).toEqual(['for second']);
    const toDefault = await exchange(request('MESSAGE', 'gateway', 'z9hG4bKdefault', ['Content-Type: text/plain'], 'for gateway'));
    expect(toDefault[0]).toMatch(/^SIP\/2\.0 200 OK/);
    expect(gateway.messages).toContain('for gateway');
  });

  it('answers 503 when the chosen UserAgent is not connected', async () => {
    const replies = await exchange(request('OPTIONS', 'idle', 'z9hG4bKidle'));
    expect(replies[0]).toMatch(/^SIP\/2\.0 503 Service Unavailable\r\n/);
    expect(replies[0]).toContain('Warning: 399 127.0.0.1 "No user agent available"');
  });

  it('drops a response for no request of ours', async () => {
    const before = hub.counters().unmatchedResponses;
    const stray = ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnobody', 'Call-ID: stray', 'CSeq: 1 OPTIONS', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>;tag=2', '', ''].join('\r\n');
    expect(await exchange(stray)).toEqual([]);
    expect(hub.counters().unmatchedResponses).toBe(before + 1);
  });

  it('routes an in-dialog request to the UserAgent whose tag is in To', async () => {
    // The second UserAgent sends a MESSAGE: its From tag now names it for this Call-ID.
    const tcpPeer = createTcpServer();
    const received: string[] = [];
    tcpPeer.on('connection', (socket) => socket.on('data', (data) => received.push(data.toString())));
    await new Promise<void>((done) => tcpPeer.listen(0, '127.0.0.1', done));
    try {
      const target = UserAgent.makeURI(`sip:raw@127.0.0.1:${(tcpPeer.address() as AddressInfo).port};transport=tcp`)!;
      void new Messager(second.userAgent, target, 'hello').message();
      await until(() => received.join('').includes('\r\n\r\nhello'));
      const sent = received.join('');
      const callId = /^Call-ID: (\S+)/m.exec(sent)?.[1];
      const fromTag = /^From: .*;tag=(\S+)/m.exec(sent)?.[1];
      // A request of the raw peer inside that dialog: To carries the second UserAgent's tag.
      const inDialog = request('MESSAGE', 'gateway', 'z9hG4bKindialog', ['Content-Type: text/plain'], 'in dialog')
        .replace(/^Call-ID: .*$/m, `Call-ID: ${callId}`)
        .replace(/^To: (.*)$/m, `To: $1;tag=${fromTag}`);
      const before = second.transport.counters.messagesIn;
      await exchange(inDialog);
      expect(second.transport.counters.messagesIn).toBe(before + 1);
    } finally {
      tcpPeer.close();
    }
  });

  it('answers a double-CRLF ping with a CRLF and closes a stream it cannot frame', async () => {
    const tcpPort = hub.addresses().tcp!.port;
    const pinger = await openTcp(tcpPort);
    pinger.socket.write('\r\n\r\n');
    await until(() => pinger.received() === '\r\n');
    pinger.socket.destroy();
    const before = hub.counters().framingErrors;
    const broken = await openTcp(tcpPort);
    const closed = new Promise((done) => broken.socket.once('close', done));
    broken.socket.write('OPTIONS sip:gateway@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKnolen\r\n\r\n');
    await closed;
    expect(hub.counters().framingErrors).toBe(before + 1);
    const oversize = await openTcp(tcpPort);
    const closedToo = new Promise((done) => oversize.socket.once('close', done));
    oversize.socket.write(`OPTIONS sip:gateway@127.0.0.1 SIP/2.0\r\nX-Padding: ${'x'.repeat(5000)}\r\n`);
    await closedToo;
  });

  it('sends requests for the address:port of an accepted connection over that connection', async () => {
    const client = await openTcp(hub.addresses().tcp!.port);
    try {
      const { localPort } = client.socket;
      const target = UserAgent.makeURI(`sip:raw@127.0.0.1:${localPort};transport=tcp`)!;
      void new Messager(gateway.userAgent, target, 'reuse me').message();
      await until(() => client.received().includes('reuse me'));
      expect(client.received()).toMatch(new RegExp(`^MESSAGE sip:raw@127\\.0\\.0\\.1:${localPort};transport=tcp SIP/2\\.0\\r\\n`));
      expect(client.received()).toContain(`Via: SIP/2.0/TCP 127.0.0.1:${hub.addresses().tcp!.port};branch=`);
    } finally {
      client.socket.destroy();
    }
  });

  it('closes everything: transports disconnect with an error, sends reject, the port is free again', async () => {
    const extra = await SipTransportHub.start({ advertisedHost: '127.0.0.1', udp: { host: '127.0.0.1', port: 0 }, logger: createSilentLogger() });
    const transport = extra.createTransport('short-lived');
    const disconnects: (Error | undefined)[] = [];
    transport.onDisconnect = (error) => disconnects.push(error);
    await transport.connect();
    const { port } = extra.addresses().udp!;
    await extra.close();
    expect(transport.state).toBe(TransportState.Disconnected);
    expect(disconnects).toHaveLength(1);
    expect(disconnects[0]).toBeInstanceOf(SipTransportError);
    await expect(transport.send('OPTIONS sip:a@b SIP/2.0\r\n\r\n')).rejects.toMatchObject({ code: 'disconnected' });
    await expect(transport.connect()).rejects.toMatchObject({ code: 'closed' });
    const rebind = createSocket('udp4');
    await new Promise<void>((done, fail) => {
      rebind.once('error', fail);
      rebind.bind(port, '127.0.0.1', done);
    });
    rebind.close();
  });
});
