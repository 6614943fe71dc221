import { describe, expect, it } from 'vitest';
import { endReasonFor, jingleReasonFor } from '../../../adapters/xmpp/jingle-reasons.js';

describe('jingleReasonFor', () => {
  it('a call whose media is gone ends with connectivity-error (XEP-0166 section 7.4)', () => {
    expect(jingleReasonFor('media-timeout')).toBe('connectivity-error');
    // The way back is unchanged: a peer's connectivity-error is the other network being unreachable.
    expect(endReasonFor('connectivity-error', true)).toBe('unreachable');
  });

  it('failures are failures both ways: a refused description is failed-application, no common codec incompatible-parameters', () => {
    expect(jingleReasonFor('media-failed')).toBe('failed-application');
    expect(jingleReasonFor('incompatible-media')).toBe('incompatible-parameters');
    expect(endReasonFor('failed-application', true)).toBe('media-failed');
    expect(endReasonFor('media-error', true)).toBe('media-failed');
    expect(endReasonFor('incompatible-parameters', true)).toBe('incompatible-media');
  });
});
