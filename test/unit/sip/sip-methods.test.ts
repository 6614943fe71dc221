import { describe, expect, it } from 'vitest';
import { ALLOW_HEADER, listsMethod, methodVerdict, refusalFor, requestMethod, rewriteAllowHeaders } from '../../../adapters/sip/sip-methods.js';

describe('SIP method inspection (RFC 3261 section 8.2.1)', () => {
  it.each([
    ['INVITE', 'allowed'],
    ['BYE', 'allowed'],
    ['PUBLISH', 'not-allowed'],
    ['REGISTER', 'not-allowed'],
    ['SUBSCRIBE', 'not-allowed'],
    ['FROB', 'not-implemented'],
    ['invite', 'not-implemented'], // methods are case-sensitive (section 7.1)
    ['constructor', 'not-implemented'],
  ] as const)('%s is %s', (method, verdict) => {
    expect(methodVerdict(method)).toBe(verdict);
  });

  it('refuses known methods with 405 and unknown ones with 501', () => {
    expect(refusalFor('not-allowed')).toEqual({ statusCode: 405, reasonPhrase: 'Method Not Allowed' });
    expect(refusalFor('not-implemented')).toEqual({ statusCode: 501, reasonPhrase: 'Not Implemented' });
  });

  it('reads the method of requests only', () => {
    expect(requestMethod('FROB sip:a@b SIP/2.0\r\nVia: x\r\n\r\n')).toBe('FROB');
    expect(requestMethod('SIP/2.0 200 OK\r\n\r\n')).toBeUndefined();
    expect(requestMethod('\r\n\r\n')).toBeUndefined();
  });

  it('writes its own Allow list in place of the first Allow header and drops the others', () => {
    const message = 'INVITE sip:b@h SIP/2.0\r\nAllow: ACK,CANCEL,INVITE,MESSAGE,BYE,OPTIONS,INFO,NOTIFY,REFER\r\nCall-ID: 1\r\nallow: REGISTER\r\n\r\nAllow: in the body\r\n';
    expect(rewriteAllowHeaders(message)).toBe(`INVITE sip:b@h SIP/2.0\r\n${ALLOW_HEADER}\r\nCall-ID: 1\r\n\r\nAllow: in the body\r\n`);
    const without = 'SIP/2.0 200 OK\r\nCall-ID: 1\r\n\r\n';
    expect(rewriteAllowHeaders(without)).toBe(without);
    expect(ALLOW_HEADER).not.toMatch(/REGISTER|SUBSCRIBE|PUBLISH/);
  });

  it('finds a method in an Allow value', () => {
    expect(listsMethod('INVITE, ACK,BYE , UPDATE', 'UPDATE')).toBe(true);
    expect(listsMethod('INVITE, ACK, UPDATES', 'UPDATE')).toBe(false);
    expect(listsMethod(undefined, 'UPDATE')).toBe(false);
  });
});
