import { describe, expect, it } from 'vitest';
import { isRfc3261Branch, serverTransactionKey } from '../../../adapters/sip/transport/server-transaction-key.js';
import { withClientBranch, withSipJsBranch } from '../../../adapters/sip/transport/sip-js-branch.js';
import { peekSipMessage, type PeekedRequest, type PeekedResponse } from '../../../adapters/sip/transport/sip-message-peek.js';

interface Fields {
  method?: string;
  /** undefined: a Via without branch (RFC 2543). */
  branch?: string | undefined;
  sentBy?: string;
  callId?: string;
  fromTag?: string;
  cseq?: number;
  requestUri?: string;
}

function text(fields: Fields, startLine: string): string {
  const branch = 'branch' in fields ? fields.branch : 'z9hG4bKclient-1';
  const method = fields.method ?? 'INVITE';
  return [
    startLine,
    `Via: SIP/2.0/UDP ${fields.sentBy ?? '192.0.2.1:5060'}${branch === undefined ? '' : `;branch=${branch}`};rport`,
    `From: <sip:a@example.com>;tag=${fields.fromTag ?? 'f1'}`,
    'To: <sip:b@example.com>',
    `Call-ID: ${fields.callId ?? 'c1'}`,
    `CSeq: ${fields.cseq ?? 1} ${method}`,
    '',
    '',
  ].join('\r\n');
}

function request(fields: Fields = {}): { message: string; peeked: PeekedRequest } {
  const message = text(fields, `${fields.method ?? 'INVITE'} ${fields.requestUri ?? 'sip:b@example.com'} SIP/2.0`);
  const peeked = peekSipMessage(message);
  if (peeked?.kind !== 'request') throw new Error('not a request');
  return { message, peeked };
}

function responseTo(message: string): { message: string; peeked: PeekedResponse } {
  const response = message.replace(/^.*\r\n/, 'SIP/2.0 200 OK\r\n');
  const peeked = peekSipMessage(response);
  if (peeked?.kind !== 'response') throw new Error('not a response');
  return { message: response, peeked };
}

const key = (fields: Fields) => serverTransactionKey(request(fields).peeked);

describe('serverTransactionKey (RFC 3261 section 17.2.3)', () => {
  it('tells the magic cookie with an identifier from a bare cookie or none', () => {
    expect(isRfc3261Branch('z9hG4bKkdjuw')).toBe(true);
    expect(isRfc3261Branch('z9hG4bK')).toBe(false);
    expect(isRfc3261Branch('390skdjuw')).toBe(false);
    expect(isRfc3261Branch(undefined)).toBe(false);
  });

  it('with the cookie: the same branch from another sent-by is another transaction', () => {
    expect(key({})).toBe(key({ callId: 'other' }));
    expect(key({ sentBy: '192.0.2.2:5060' })).not.toBe(key({}));
    expect(key({ sentBy: 'HOST.example.com' })).toBe(key({ sentBy: 'host.example.com' }));
  });

  it('without it: Call-ID, From tag, CSeq number and sent-by, the same for the request and its response', () => {
    const legacy = request({ branch: undefined });
    expect(serverTransactionKey(legacy.peeked)).toBeDefined();
    expect(serverTransactionKey(responseTo(legacy.message).peeked)).toBe(serverTransactionKey(legacy.peeked));
    for (const change of [{ callId: 'c2' }, { fromTag: 'f2' }, { cseq: 2 }, { sentBy: '192.0.2.9' }]) {
      expect(key({ branch: undefined, ...change })).not.toBe(key({ branch: undefined }));
    }
    // The bare cookie falls back to the same rules (RFC 4475 section 3.2.1).
    expect(key({ branch: 'z9hG4bK', callId: 'c2' })).not.toBe(key({ branch: 'z9hG4bK' }));
  });
});

describe('the branch sip.js sees', () => {
  const sipJsBranch = (fields: Fields) => {
    const { message, peeked } = request(fields);
    return peekSipMessage(withSipJsBranch(message, peeked))?.topVia?.branch;
  };

  it('differs for another sent-by or method, and is the INVITE\'s for its CANCEL and ACK', () => {
    const invite = sipJsBranch({});
    expect(invite).toMatch(/^z9hG4bKsw[0-9a-f]{16}-z9hG4bKclient-1$/);
    expect(sipJsBranch({ sentBy: '192.0.2.2:5060' })).not.toBe(invite);
    expect(sipJsBranch({ method: 'OPTIONS' })).not.toBe(invite);
    expect(sipJsBranch({ method: 'CANCEL' })).toBe(invite);
    expect(sipJsBranch({ method: 'ACK' })).toBe(invite);
  });

  it('for RFC 2543 requests: one per request, CANCEL with its INVITE, ACK on its own (sip.js must hand it to the dialog)', () => {
    const invite = sipJsBranch({ branch: undefined });
    expect(invite).toMatch(/^z9hG4bKsw[0-9a-f]{16}$/);
    expect(sipJsBranch({ branch: undefined, callId: 'c2' })).not.toBe(invite);
    expect(sipJsBranch({ branch: undefined, requestUri: 'sip:c@example.com' })).not.toBe(invite);
    expect(sipJsBranch({ branch: undefined, method: 'CANCEL' })).toBe(invite);
    expect(sipJsBranch({ branch: undefined, method: 'ACK' })).not.toBe(invite);
  });

  it('the client gets its own branch back, or none when it sent none; other responses pass untouched', () => {
    for (const branch of ['z9hG4bKclient-1', '390skdjuw', 'z9hG4bK', undefined]) {
      const { message, peeked } = request({ branch });
      const response = responseTo(withSipJsBranch(message, peeked));
      expect(peekSipMessage(withClientBranch(response.message, response.peeked))?.topVia?.branch).toBe(branch);
    }
    const own = responseTo(request({ branch: 'z9hG4bKsw-not-ours' }).message);
    expect(withClientBranch(own.message, own.peeked)).toBe(own.message);
  });
});
