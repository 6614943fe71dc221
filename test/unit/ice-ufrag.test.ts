import { describe, expect, it } from 'vitest';
import { iceUfragOf, restartsIce } from '../../src/ice/ice-ufrag.js';

const sdp = (ufrag: string) => `v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=ice-ufrag:${ufrag}\r\na=ice-pwd:x\r\n`;

describe('ICE restart detection', () => {
  it('reads the first ufrag and tells a changed one', () => {
    expect(iceUfragOf(sdp('abcd'))).toBe('abcd');
    expect(iceUfragOf('v=0\r\n')).toBeUndefined();
    expect(restartsIce('abcd', sdp('abcd'))).toBe(false);
    expect(restartsIce('abcd', sdp('efgh'))).toBe(true);
    // No earlier description, or none in the re-offer (plain RTP): not a restart.
    expect(restartsIce(undefined, sdp('efgh'))).toBe(false);
    expect(restartsIce('abcd', 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n')).toBe(false);
  });
});
