import { describe, expect, it } from 'vitest';
import { delayedOfferPlaceholder } from '../../../adapters/sip/delayed-offer.js';

describe('the placeholder offer for a delayed-offer INVITE', () => {
  it('offers G.711 and telephone-event, sendrecv, on the unspecified address', () => {
    const sdp = delayedOfferPlaceholder();
    expect(sdp).toMatch(/^v=0\r\n/);
    expect(sdp).toContain('\r\nc=IN IP4 0.0.0.0\r\n');
    expect(sdp).toContain('\r\nm=audio 9 RTP/AVP 0 8 101\r\n');
    expect(sdp).toContain('\r\na=rtpmap:101 telephone-event/8000\r\n');
    expect(sdp).toContain('\r\na=sendrecv\r\n');
    expect(sdp.endsWith('\r\n')).toBe(true);
  });
});
