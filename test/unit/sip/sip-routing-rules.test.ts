import { describe, expect, it } from 'vitest';
import { compileInboundRules, webUserFor } from '../../../adapters/sip/sip-routing-rules.js';
import { parseDtmfInfo } from '../../../adapters/sip/dtmf-info.js';
import { endReasonForStatus, statusForEndReason } from '../../../adapters/sip/sip-reasons.js';

describe('webUserFor()', () => {
  const rules = compileInboundRules([
    { match: '^\\+1555(\\d{4})$', user: 'ext$1' },
    { match: '^sales$', user: 'alice' },
    { match: '^echo$', user: 'service:echo' },
    { match: '^svc-(.*)$', user: 'service:$1' },
  ]);

  it.each([
    ['+15551234', 'ext1234'],
    ['sales', 'alice'],
    ['bob', 'bob'],
    ['+4930123', 'operator'],
    ['bad user!', 'operator'],
    // A rule may name a built-in service (what a cluster edge's dispatcher spreads over the nodes)...
    ['echo', 'service:echo'],
    // ...but only a well-formed one.
    ['svc-Echo!', undefined],
  ])('%s rings %s', (requestUser, expected) => {
    expect(webUserFor(requestUser, rules, 'operator')).toBe(expected);
  });

  it('without a default destination, unknown users ring nobody', () => {
    expect(webUserFor('+4930123', rules, undefined)).toBeUndefined();
  });

  it('a bad pattern is an error naming the rule', () => {
    expect(() => compileInboundRules([{ match: '(', user: 'x' }])).toThrow('sip.inbound.rules[0].match');
  });
});

describe('SIP INFO DTMF and status mapping', () => {
  it('reads application/dtmf-relay and application/dtmf bodies', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toBe('5');
    expect(parseDtmfInfo('Application/DTMF-Relay; charset=utf-8', 'signal= #\r\n')).toBe('#');
    expect(parseDtmfInfo('application/dtmf', '*')).toBe('*');
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=X')).toBeUndefined();
    expect(parseDtmfInfo('text/plain', '5')).toBeUndefined();
  });

  it('maps SIP failures to end reasons and back', () => {
    expect(endReasonForStatus(486)).toBe('busy');
    expect(endReasonForStatus(603)).toBe('declined');
    expect(endReasonForStatus(404)).toBe('not-found');
    expect(endReasonForStatus(488)).toBe('incompatible-media');
    expect(statusForEndReason('incompatible-media').statusCode).toBe(488);
    expect(statusForEndReason('offline').statusCode).toBe(480);
    expect(statusForEndReason('busy').statusCode).toBe(486);
  });
});
