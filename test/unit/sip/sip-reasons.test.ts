import { describe, expect, it } from 'vitest';
import { byeReasonHeader } from '../../../adapters/sip/sip-reasons.js';

describe('byeReasonHeader', () => {
  it('a SIP BYE for media-timeout carries an RFC 3326 Reason header; an ordinary hangup none', () => {
    const header = byeReasonHeader('media-timeout');
    // reason-value = protocol *(SEMI reason-params); protocol-cause = "cause" EQUAL cause (RFC 3326 section 2).
    expect(header).toMatch(/^Reason: SIP\s*;\s*cause=408\s*;\s*text="[^"]+"$/);
    expect(byeReasonHeader('hangup')).toBeUndefined();
    expect(byeReasonHeader('shutdown')).toBeUndefined();
  });
});
