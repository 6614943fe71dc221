import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { exchangeUdp, headerOf, statusOf, type RawExchangeOptions } from '../support/sip/raw-sip-client.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';

// The gateway as a UAS, seen from bare UDP sockets on loopback, beyond what
// the RFC 4475 messages cover: server transactions matched by RFC 3261
// section 17.2.3 (branch, sent-by and method; the RFC 2543 rules without a
// magic cookie), 481 for dialogs it does not have, 420/416, and requests
// that must never be answered.

let gateway: Gateway;
let sipPort: number;
let alice: WsTestClient;

beforeAll(async () => {
  sipPort = await allocatePort();
  gateway = await startTestGateway({ sip: { enabled: true, port: sipPort } });
  alice = await WsTestClient.login(gateway.httpPort, 'alice');
});

afterAll(async () => {
  alice?.close();
  await gateway?.stop();
});

interface RequestOptions {
  method: string;
  /** The top Via's branch; undefined writes a Via without one (an RFC 2543 client). */
  branch: string | undefined;
  callId: string;
  requestUri?: string;
  cseq?: number;
  toTag?: string;
  extra?: string[];
  body?: string;
}

function request(port: number, options: RequestOptions): Buffer {
  const body = options.body ?? '';
  return Buffer.from(
    [
      `${options.method} ${options.requestUri ?? 'sip:alice@127.0.0.1'} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port}${options.branch === undefined ? '' : `;branch=${options.branch}`}`,
      'Max-Forwards: 70',
      `To: <sip:alice@127.0.0.1>${options.toTag ? `;tag=${options.toTag}` : ''}`,
      `From: <sip:raw@127.0.0.1:${port}>;tag=from-${options.callId}`,
      `Call-ID: ${options.callId}`,
      `CSeq: ${options.cseq ?? 1} ${options.method}`,
      `Contact: <sip:raw@127.0.0.1:${port}>`,
      ...(options.extra ?? []),
      ...(body ? ['Content-Type: text/plain'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );
}

/** Sends from a socket of its own (one sent-by) and returns the final responses. */
async function finals(build: (port: number) => Buffer, waitMs = 3_000): Promise<string[]> {
  const options: RawExchangeOptions = {
    message: build,
    done: (responses) => responses.some((response) => statusOf(response) >= 200),
    waitMs,
    graceMs: 150,
  };
  const { responses } = await exchangeUdp(sipPort, options);
  return responses.filter((response) => statusOf(response) >= 200);
}

/** Several requests from one socket (one sent-by), one after the other, each with the responses it drew. */
async function fromOneClient(builds: ((port: number) => Buffer)[]): Promise<string[][]> {
  const socket = createSocket('udp4');
  await new Promise<void>((bound) => socket.bind(0, '127.0.0.1', bound));
  const port = socket.address().port;
  const answers: string[][] = [];
  try {
    for (const build of builds) {
      const received: string[] = [];
      const collect = (data: Buffer) => received.push(data.toString('utf8'));
      socket.on('message', collect);
      socket.send(build(port), sipPort, '127.0.0.1');
      const deadline = Date.now() + 3_000;
      while (!received.some((response) => statusOf(response) >= 200) && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 20));
      await new Promise((wait) => setTimeout(wait, 150));
      socket.off('message', collect);
      answers.push(received.filter((response) => statusOf(response) >= 200));
    }
  } finally {
    socket.close();
  }
  return answers;
}

describe('server transactions (RFC 3261 section 17.2.3)', () => {
  it('a second client reusing a branch gets a transaction of its own, not the first client\'s answer', async () => {
    // Not ACKed, the first INVITE's transaction waits for its ACK (Timer H) while the second arrives.
    const offline = 'sip:nobody@127.0.0.1';
    const first = await finals((port) => request(port, { method: 'INVITE', branch: 'z9hG4bKshared-branch', callId: 'reuse-1', requestUri: offline }));
    const second = await finals((port) => request(port, { method: 'INVITE', branch: 'z9hG4bKshared-branch', callId: 'reuse-2', requestUri: offline }));
    expect(new Set(first.map(statusOf))).toEqual(new Set([480]));
    expect(new Set(second.map(statusOf))).toEqual(new Set([480]));
    expect(headerOf(second[0]!, 'call-id')).toBe('reuse-2');
  });

  it('the same branch and sent-by with another method is another transaction', async () => {
    const [invite, message] = await fromOneClient([
      (port) => request(port, { method: 'INVITE', branch: 'z9hG4bKsame-client', callId: 'method-1', requestUri: 'sip:nobody@127.0.0.1' }),
      (port) => request(port, { method: 'MESSAGE', branch: 'z9hG4bKsame-client', callId: 'method-2', cseq: 2, body: 'hello' }),
    ]);
    expect(new Set(invite!.map((response) => headerOf(response, 'cseq')))).toEqual(new Set(['1 INVITE']));
    expect(message!.map((response) => headerOf(response, 'cseq'))).toContain('2 MESSAGE');
  });

  it('requests of an RFC 2543 client (no branch) are told apart by Call-ID, From tag and CSeq, and a retransmission gets the same answer', async () => {
    const original = (port: number) => request(port, { method: 'MESSAGE', branch: undefined, callId: 'legacy-1', body: 'one' });
    const [first, second, again] = await fromOneClient([
      original,
      (port) => request(port, { method: 'MESSAGE', branch: undefined, callId: 'legacy-2', body: 'two' }),
      original,
    ]);
    expect(first!.map((response) => headerOf(response, 'call-id'))).toEqual(['legacy-1']);
    expect(second!.map((response) => headerOf(response, 'call-id'))).toEqual(['legacy-2']);
    // The answer comes back without a branch the client never wrote.
    expect(headerOf(second![0]!, 'via')).not.toMatch(/branch/);
    expect(again).toEqual(first);
  });
});

describe('requests the gateway answers at its edge', () => {
  it('a request inside a dialog the gateway does not have gets 481, whatever its Request-URI user (RFC 3261 section 12.2.2)', async () => {
    for (const method of ['BYE', 'INFO', 'INVITE', 'OPTIONS']) {
      const answers = await finals((port) =>
        request(port, { method, branch: `z9hG4bKstale-${method}`, callId: `stale-${method}`, toTag: 'no-such-dialog', requestUri: 'sip:alice@127.0.0.1' }),
      );
      expect(answers.map(statusOf), method).toEqual([481]);
    }
  });

  it('420 lists every Require option tag but timer, OPTIONS included; Require on CANCEL is ignored (RFC 3261 section 8.2.2.3)', async () => {
    const invite = await finals((port) => request(port, { method: 'INVITE', branch: 'z9hG4bKrequire-invite', callId: 'require-1', extra: ['Require: timer, 100rel', 'Require: replaces'] }));
    expect(invite.map(statusOf)).toContain(420);
    expect(headerOf(invite[0]!, 'unsupported')).toBe('100rel, replaces');
    const options = await finals((port) => request(port, { method: 'OPTIONS', branch: 'z9hG4bKrequire-options', callId: 'require-2', extra: ['Require: foo'] }));
    expect(options.map(statusOf)).toEqual([420]);
    expect(headerOf(options[0]!, 'unsupported')).toBe('foo');
    const timer = await finals((port) => request(port, { method: 'OPTIONS', branch: 'z9hG4bKrequire-timer', callId: 'require-3', extra: ['Require: timer'] }));
    expect(timer.map(statusOf)).toEqual([200]);
    // A CANCEL for no transaction: 481 (section 9.2), not 420.
    const cancel = await finals((port) => request(port, { method: 'CANCEL', branch: 'z9hG4bKrequire-cancel', callId: 'require-4', extra: ['Require: foo'] }));
    expect(cancel.map(statusOf)).toEqual([481]);
  });

  it('416 for a Request-URI scheme the gateway does not route (tel: included)', async () => {
    const answers = await finals((port) => request(port, { method: 'INVITE', branch: 'z9hG4bKtel-ruri', callId: 'tel-1', requestUri: 'tel:+15551234567' }));
    expect(answers.map(statusOf)).toContain(416);
    expect(headerOf(answers[0]!, 'warning')).toMatch(/scheme tel: is not supported/);
  });

  it('a header field sip.js cannot parse gets a 400, not silence', async () => {
    for (const [index, field] of ['Record-Route: <sip:proxy.example.com;lr', 'Content-Type: not a media type'].entries()) {
      const answers = await finals((port) => request(port, { method: 'MESSAGE', branch: `z9hG4bKunparsable-${index}`, callId: `unparsable-${index}`, extra: [field] }));
      expect(answers.map(statusOf), field).toEqual([400]);
      expect(headerOf(answers[0]!, 'warning'), field).toMatch(/Malformed request/);
    }
  });

  it('never answers an ACK, however broken or out of place', async () => {
    const acks: ((port: number) => Buffer)[] = [
      (port) => request(port, { method: 'ACK', branch: 'z9hG4bKack-1', callId: 'ack-1', extra: ['Require: foo'] }),
      (port) => request(port, { method: 'ACK', branch: 'z9hG4bKack-2', callId: 'ack-2', requestUri: 'tel:+15551234567' }),
      (port) => request(port, { method: 'ACK', branch: 'z9hG4bKack-3', callId: 'ack-3', toTag: 'unknown' }),
      (port) => Buffer.from(request(port, { method: 'ACK', branch: 'z9hG4bKack-4', callId: 'ack-4' }).toString().replace(' SIP/2.0\r\n', ' SIP/3.0\r\n')),
      (port) => Buffer.from(request(port, { method: 'ACK', branch: 'z9hG4bKack-5', callId: 'ack-5' }).toString().replace('ACK sip:', 'ACK  sip:')),
      (port) => Buffer.from(request(port, { method: 'ACK', branch: 'z9hG4bKack-6', callId: 'ack-6' }).toString().replace('To: <', 'To: "unterminated <')),
    ];
    for (const ack of acks) expect((await exchangeUdp(sipPort, { message: ack, waitMs: 400 })).responses).toEqual([]);
  });
});
