import { describe, expect, it } from 'vitest';
import { parseClientMessage, ProtocolError } from '../../../src/protocol/parse-client-message.js';

function refusal(frame: unknown): ProtocolError {
  try {
    parseClientMessage(JSON.stringify(frame));
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('parseClientMessage: trickled candidates', () => {
  // Found by test/fuzz/client-protocol.test.ts (seed -1654961759): the candidate filter reads the
  // first line only, and folding the candidate into SDP for a party that does not trickle added the second.
  it('refuses a candidate, mid or ufrag with a line break or another control character', () => {
    const base = { type: 'candidate', callId: 'a_000a-_', candidate: { candidate: 'candidate:2999745851 1 udp 2122260223 192.168.1.10 50126 typ host generation 0', sdpMid: '0', sdpMLineIndex: 0 } };
    expect(parseClientMessage(JSON.stringify(base))).toStrictEqual(base);
    const smuggled = { ...base, candidate: { ...base.candidate, candidate: `${base.candidate.candidate}\r\na=candidate:9 1 udp 1 10.9.8.7 9999 typ host` } };
    expect(refusal(smuggled)).toMatchObject({ code: 'bad-message', message: 'candidate: field "candidate.candidate" must not contain control characters' });
    expect(refusal({ ...base, candidate: { ...base.candidate, sdpMid: '0\na=ice-lite' } }).code).toBe('bad-message');
    expect(refusal({ ...base, candidate: { ...base.candidate, usernameFragment: 'u\u0000' } }).code).toBe('bad-message');
  });
});
