import { describe, expect, it } from 'vitest';
import { bodyRefusal, statusForChatError } from '../../../adapters/sip/inbound-message.js';
import { GatewayError } from '../../../src/index.js';

describe('bodyRefusal: what a MESSAGE body must be (RFC 3428 section 7)', () => {
  it.each([
    ['text/plain', 'hi', undefined],
    ['text/plain;charset=UTF-8', 'hi', undefined],
    ['Text/Plain; charset="utf-8"', 'hi', undefined],
    ['text/plain; charset=us-ascii', 'hi', undefined],
    ['text/plain; charset=ISO-8859-1', 'hi', 415],
    ['text/html', '<b>hi</b>', 415],
    ['application/im-iscomposing+xml', '<isComposing/>', 415],
    ['message/cpim', 'hi', 415],
    [undefined, 'hi', 415],
    ['text/plain', '', 400],
    ['text/plain', ' \r\n', 400],
    ['text/plain', 'x'.repeat(4096), undefined],
    ['text/plain', 'x'.repeat(4097), 413],
    // Characters, not UTF-16 units: 4096 emoji are as long as a web user may write.
    ['text/plain', '😀'.repeat(4096), undefined],
  ])('%s with %j', (contentType, body, status) => {
    const refusal = bodyRefusal(contentType, body);
    expect(refusal?.statusCode).toBe(status);
    if (status === 415) expect(refusal?.extraHeaders).toEqual(['Accept: text/plain']);
  });
});

describe('statusForChatError: the SIP answer to a message the core could not hand on', () => {
  it.each([
    [new GatewayError('offline', 'x'), 480],
    [new GatewayError('not-found', 'x'), 404],
    [new GatewayError('forbidden', 'x'), 403],
    [new GatewayError('undeliverable', 'x'), 500],
    [new Error('bug'), 500],
  ])('%s', (error, status) => {
    expect(statusForChatError(error).statusCode).toBe(status);
  });
});
