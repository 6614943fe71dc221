import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { ackFor, exchangeTcp, exchangeUdp, headerOf, statusOf, type RawExchange } from '../support/sip/raw-sip-client.js';
import { fromLoopbackClient, rfc4475Message } from '../support/sip/rfc4475.js';
import { runSipp } from '../support/sip/sipp.js';
import { startTestGateway } from '../support/test-gateway.js';
import { makeWebRtcTestPeer, PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';
import { WsTestClient } from '../support/ws-test-client.js';

// Every message of RFC 4475 ("SIP Torture Test Messages"), byte for byte from
// test/sip/rfc4475/, sent from a bare socket on loopback to a real gateway,
// with the answer the RFC's discussion of the message calls for. Each
// message comes from a socket of its own, so from a sent-by of its own: many
// reuse the branch z9hG4bKkdjuw, and each must still get its own transaction
// (RFC 3261 section 17.2.3). Where a valid request ends in an error for
// reasons of routing (no such web user online, no such dialog), `why` says so.

interface TortureCase {
  /** The message's name in the RFC, and its file in test/sip/rfc4475/. */
  readonly name: string;
  readonly section: string;
  /** Default: the transport of the message's own top Via (UDP, or TCP for anything else). */
  readonly transport?: 'UDP' | 'TCP';
  /** The final status code, or no answer at all (the RFC says to drop the message). */
  readonly expect: number | 'no answer';
  /** What the RFC's discussion says about the message, and why this answer. */
  readonly why: string;
  /** Header fields the answer must carry. */
  readonly carries?: Readonly<Record<string, RegExp>>;
  /** TCP: the gateway closes the connection (true) or keeps it open (false). */
  readonly streamClosed?: boolean;
}

const ALLOW = { allow: /^INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, NOTIFY, PRACK, REFER, UPDATE$/ };
const WARNING = { warning: /^399 127\.0\.0\.1 ".+"$/ };

const TABLE: readonly TortureCase[] = [
  // 3.1.1 Valid messages: processed, never refused as malformed.
  { name: 'wsinv', section: '3.1.1.1', expect: 481, why: 'valid; its To tag makes it a re-INVITE for a dialog the gateway does not have (RFC 3261 section 12.2.2)' },
  { name: 'intmeth', section: '3.1.1.2', expect: 501, why: 'valid; "endpoints will generate a 501 listing the methods they understand"', carries: ALLOW },
  { name: 'esc01', section: '3.1.1.3', expect: 404, why: 'valid; routing: the escaped Request-URI user maps to no web user' },
  { name: 'escnull', section: '3.1.1.4', expect: 405, why: 'valid; the gateway is no registrar: REGISTER is not allowed', carries: ALLOW },
  { name: 'esc02', section: '3.1.1.5', expect: 501, why: 'valid; RE%47IST%45R is an unknown method, "an endpoint would reject this message with a 501"', carries: ALLOW },
  { name: 'lwsdisp', section: '3.1.1.6', expect: 200, why: 'no LWS before <: "elements should accept this request as well formed"' },
  { name: 'longreq', section: '3.1.1.7', expect: 480, why: 'valid; routing: web user "user" is not online' },
  { name: 'dblreq', section: '3.1.1.8', expect: 405, why: 'the REGISTER is handled (405 here); the INVITE after its body in the same datagram is noise and gets nothing' },
  { name: 'semiuri', section: '3.1.1.9', expect: 200, why: 'valid; the user part holds ";par=u%40example.net"' },
  { name: 'transports', section: '3.1.1.10', expect: 200, why: 'valid; unknown transports in lower Vias do not matter' },
  {
    name: 'mpart01',
    section: '3.1.1.11',
    expect: 415,
    why: 'valid MESSAGE with a binary multipart body, framed and parsed; chat takes text/plain only ("even if the application above the parser does not support multipart/signed"): 415 with Accept',
    carries: { accept: /^text\/plain$/ },
  },
  { name: 'unreason', section: '3.1.1.12', expect: 'no answer', why: 'a valid response, but to no request of ours: discarded (RFC 3261 section 18.1.2)' },
  { name: 'noreason', section: '3.1.1.13', expect: 'no answer', why: 'a valid response, but to no request of ours: discarded' },
  // 3.1.2 Invalid messages.
  { name: 'badinv01', section: '3.1.2.1', expect: 400, why: 'empty Via and Contact parameters: "should respond with a 400"', carries: WARNING },
  { name: 'clerr', section: '3.1.2.2', transport: 'UDP', expect: 400, why: 'over UDP, Content-Length larger than the datagram: 400', carries: WARNING },
  { name: 'clerr', section: '3.1.2.2', transport: 'TCP', expect: 'no answer', streamClosed: false, why: 'over a stream the receiver can only wait for the rest of the body' },
  { name: 'ncl', section: '3.1.2.3', transport: 'UDP', expect: 400, why: 'negative Content-Length: an error', carries: WARNING },
  { name: 'ncl', section: '3.1.2.3', transport: 'TCP', expect: 400, streamClosed: true, why: 'a negative length "MUST be rejected with 400"; over TCP "the framing error is not recoverable, and the connection should be closed"' },
  { name: 'scalar02', section: '3.1.2.4', expect: 400, why: 'CSeq number beyond 2**31-1: "should respond with a 400"', carries: WARNING },
  { name: 'scalarlg', section: '3.1.2.5', expect: 'no answer', why: 'a response with overlarge values: "will simply discard it"' },
  { name: 'quotbal', section: '3.1.2.6', expect: 400, why: 'unterminated quoted string in To: "should return a 400"', carries: WARNING },
  { name: 'ltgtruri', section: '3.1.2.7', expect: 400, why: 'Request-URI in <>: "reasonable always to reject ... with a 400"', carries: WARNING },
  { name: 'lwsruri', section: '3.1.2.8', expect: 400, why: 'LWS inside the Request-URI: "should respond with a 400"', carries: WARNING },
  { name: 'lwsstart', section: '3.1.2.9', expect: 400, why: 'several SP between Request-Line elements: may be rejected as malformed', carries: WARNING },
  { name: 'trws', section: '3.1.2.10', expect: 400, why: 'SP after the SIP-Version: reasonable to reject with a 400', carries: WARNING },
  { name: 'escruri', section: '3.1.2.11', expect: 400, why: 'escaped headers in the Request-URI: acceptable to reject with a 400', carries: WARNING },
  { name: 'baddate', section: '3.1.2.12', expect: 480, why: 'a non-GMT Date need not be rejected when the Date is not used (it is not); routing: web user "user" is not online' },
  { name: 'regbadct', section: '3.1.2.13', expect: 400, why: 'a Contact URI with "?" outside <>: reasonable to reject with a 400', carries: WARNING },
  { name: 'badaspec', section: '3.1.2.14', expect: 400, why: 'spaces inside <...>: reasonable to reject with a 400', carries: WARNING },
  { name: 'baddn', section: '3.1.2.15', expect: 400, why: 'unquoted display names with non-token characters: reasonable always to reject with a 400', carries: WARNING },
  { name: 'badvers', section: '3.1.2.16', expect: 505, why: 'SIP/7.0: "should respond with a 505 Version Not Supported"', carries: WARNING },
  { name: 'mismatch01', section: '3.1.2.17', expect: 400, why: 'CSeq method differs from the method: 400', carries: WARNING },
  { name: 'mismatch02', section: '3.1.2.18', expect: 400, why: 'unknown method and a CSeq mismatch: 501 preferred, "a 400 Bad Request is also acceptable"', carries: WARNING },
  { name: 'bigcode', section: '3.1.2.19', expect: 'no answer', why: 'a response code above 699: "should simply drop it"' },
  // 3.2 Transaction layer semantics.
  { name: 'badbranch', section: '3.2.1', expect: 200, why: 'the bare magic cookie: reject with 400, or fall back to RFC 2543 matching, which the gateway does' },
  // 3.3 Application layer semantics.
  { name: 'insuf', section: '3.3.1', expect: 400, why: 'no Call-ID, From or To: "ideally, it will respond with a 400"', carries: WARNING },
  { name: 'unkscm', section: '3.3.2', expect: 416, why: 'unknown Request-URI scheme: "will reject it with a 416"' },
  { name: 'novelsc', section: '3.3.3', expect: 416, why: 'soap.beep: is never meaningful to the gateway: 416' },
  { name: 'unksm2', section: '3.3.4', expect: 405, why: 'valid; other schemes in To, From, Contact; the gateway is no registrar: REGISTER is not allowed', carries: ALLOW },
  {
    name: 'bext01',
    section: '3.3.5',
    expect: 420,
    why: 'Require tags nobody supports: 420 listing them (Proxy-Require is for proxies)',
    carries: { unsupported: /^nothingSupportsThis, nothingSupportsThisEither$/ },
  },
  { name: 'invut', section: '3.3.6', expect: 415, why: 'unknown body type: "an endpoint ... would reject it with a 415"', carries: { accept: /^application\/sdp$/ } },
  { name: 'regaut01', section: '3.3.7', expect: 405, why: 'endpoints that are no registrars "will simply reject the request. A 405 ... is appropriate"', carries: ALLOW },
  { name: 'multi01', section: '3.3.8', expect: 400, why: 'several Call-ID, To, From, Max-Forwards, CSeq: 400', carries: WARNING },
  { name: 'mcl01', section: '3.3.9', transport: 'UDP', expect: 400, why: 'conflicting Content-Length values: an error', carries: WARNING },
  { name: 'mcl01', section: '3.3.9', transport: 'TCP', expect: 400, streamClosed: true, why: 'over TCP the length is in doubt: answer, then close the connection' },
  { name: 'bcast', section: '3.3.10', expect: 'no answer', why: 'a response with a broadcast Via: "an endpoint ... should simply discard it"' },
  { name: 'zeromf', section: '3.3.11', expect: 200, why: 'Max-Forwards 0: an endpoint processes it as if it were positive' },
  { name: 'cparam01', section: '3.3.12', expect: 405, why: 'a REGISTER for a registrar; the gateway is none: 405', carries: ALLOW },
  { name: 'cparam02', section: '3.3.13', expect: 405, why: 'a REGISTER for a registrar; the gateway is none: 405', carries: ALLOW },
  { name: 'regescrt', section: '3.3.14', expect: 405, why: 'a REGISTER for a registrar; the gateway is none: 405', carries: ALLOW },
  { name: 'sdp01', section: '3.3.15', expect: 406, why: 'Accept leaves out application/sdp: "could respond with a 406 Not Acceptable"', carries: WARNING },
  // 3.4 Backward compatibility.
  { name: 'inv2543', section: '3.4.1', expect: 480, why: 'RFC 2543 syntax (no branch, From tag, Max-Forwards, Content-Length, Contact) is accepted; routing: "UserB" is not online' },
];

let gateway: Gateway;
let sipPort: number;

beforeAll(async () => {
  sipPort = await allocatePort();
  gateway = await startTestGateway({ sip: { enabled: true, port: sipPort } });
});

afterAll(async () => {
  await gateway?.stop();
});

/** The transport the message's own top Via names: UDP stays UDP, every other one becomes TCP. */
function ownTransport(message: Buffer): 'UDP' | 'TCP' {
  return /\r\n(?:via|v)\s*:\s*SIP\s*\/\s*\d+\.\d+\s*\/\s*UDP\b/i.test(message.toString('latin1')) ? 'UDP' : 'TCP';
}

async function send(testCase: TortureCase): Promise<RawExchange> {
  const message = rfc4475Message(testCase.name);
  const transport = testCase.transport ?? ownTransport(message);
  const invite = message.toString('latin1').startsWith('INVITE ');
  const options = {
    message: (port: number) => fromLoopbackClient(message, { transport, port }),
    done: (responses: readonly string[]) => responses.some((response) => statusOf(response) >= 200),
    waitMs: testCase.expect === 'no answer' ? 600 : 5_000,
    graceMs: 200,
    // Section 17.1.1.3: a non-2xx final response to an INVITE is ACKed, which stops its retransmission.
    reply: (response: string) => (invite && statusOf(response) >= 300 ? ackFor(response, 'sip:user@example.com') : undefined),
  };
  return transport === 'UDP' ? exchangeUdp(sipPort, options) : exchangeTcp(sipPort, options);
}

describe('RFC 4475 torture messages against the gateway', () => {
  it.each(TABLE.map((testCase) => [`${testCase.section} ${testCase.name}${testCase.transport ? ` over ${testCase.transport}` : ''}`, testCase] as const))(
    '%s',
    async (_title, testCase) => {
      const { responses, closed } = await send(testCase);
      const finals = responses.filter((response) => statusOf(response) >= 200);
      const described = `${testCase.why}\n--- got:\n${responses.join('\n---\n')}`;
      if (testCase.expect === 'no answer') {
        expect(responses, described).toEqual([]);
      } else {
        // Retransmissions of the final response may come too, never another answer.
        expect(new Set(finals.map(statusOf)), described).toEqual(new Set([testCase.expect]));
        for (const [name, value] of Object.entries(testCase.carries ?? {})) expect(headerOf(finals[0]!, name), `${name} in ${finals[0]}`).toMatch(value);
      }
      if (testCase.streamClosed !== undefined) expect(closed).toBe(testCase.streamClosed);
    },
    10_000,
  );

  it('leaves the gateway serving: a normal call from sipp to a web user goes through after the whole table', async () => {
    const alice = await WsTestClient.login(gateway.httpPort, 'alice');
    const closers: (() => unknown)[] = [() => alice.close()];
    try {
      const sipp = runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 20 });
      const incoming = await alice.next('incoming', () => true, 10_000);
      const endpoint = makeWebRtcTestPeer(`web-${incoming.callId}`, (close) => closers.push(close));
      alice.send({ type: 'ringing', callId: incoming.callId });
      alice.send({ type: 'accept', callId: incoming.callId, sdp: await endpoint.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]) });
      expect(await alice.next('ended', () => true, 15_000)).toMatchObject({ callId: incoming.callId, reason: 'hangup' });
      const result = await sipp;
      expect(result.exitCode, `sipp failed:\n${result.errors}\n${result.stderr.slice(-2000)}`).toBe(0);
      expect(result.stats.successfulCalls).toBe(1);
    } finally {
      for (const close of closers.reverse()) await close();
    }
  }, 40_000);
});
