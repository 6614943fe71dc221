import { describe, expect, it } from 'vitest';
import { sdpWithCandidates } from '../../../src/ice/sdp-with-candidates.js';
import { sdpWithoutCandidates } from '../../../src/ice/sdp-without-candidates.js';

// node-datachannel's complete offer (the anchor's), as it makes it after gathering.
const ANCHOR_OFFER = [
  'v=0',
  'o=rtc 1755171158 0 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=group:LS 0',
  'a=msid-semantic:WMS *',
  'a=ice-options:ice2,trickle',
  'a=fingerprint:sha-256 F8:3B:A4:D2:E1:CB:23:2D:C3:5F:D8:09:93:B9:A2:F0:DF:4D:E3:D1:FC:15:2E:2D:EB:99:87:38:5E:80:0F:35',
  'm=audio 55479 UDP/TLS/RTP/SAVPF 0 101',
  'c=IN IP4 127.0.0.1',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=setup:actpass',
  'a=ice-ufrag:fd2o',
  'a=ice-pwd:o011SCBp7dWKuAYvb2iR4R',
  'a=candidate:1 1 UDP 2114977791 127.0.0.1 55479 typ host',
  'a=candidate:2 1 UDP 2114977535 ::1 55480 typ host',
  'a=end-of-candidates',
  '',
].join('\r\n');

describe('sdpWithoutCandidates', () => {
  it('takes the candidates and their end out, with their mid and m-line index, and puts the placeholder destination in', () => {
    const { sdp, candidates } = sdpWithoutCandidates(ANCHOR_OFFER);
    expect(candidates).toEqual([
      { candidate: 'candidate:1 1 UDP 2114977791 127.0.0.1 55479 typ host', sdpMid: '0', sdpMLineIndex: 0 },
      { candidate: 'candidate:2 1 UDP 2114977535 ::1 55480 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    ]);
    expect(sdp).not.toMatch(/^a=(candidate|end-of-candidates)/m);
    const lines = sdp.split('\r\n');
    expect(lines).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 0 101');
    expect(lines).toContain('c=IN IP4 0.0.0.0');
    // Everything else as it was, in order.
    const kept = ANCHOR_OFFER.split('\r\n').filter((l) => !/^a=(candidate|end-of-candidates)/.test(l) && !/^(m|c)=/.test(l));
    expect(lines.filter((l) => !/^(m|c)=/.test(l))).toEqual(kept);
  });

  it('is undone by sdpWithCandidates', () => {
    const { sdp, candidates } = sdpWithoutCandidates(ANCHOR_OFFER);
    const again = sdpWithCandidates(sdp, candidates);
    expect(again).toBe(ANCHOR_OFFER);
  });

  it('leaves a rejected m-section (port 0) and a description without candidates alone', () => {
    const rejected = ANCHOR_OFFER.replace('m=audio 55479', 'm=audio 0').replace(/a=candidate:.*\r\n/g, '').replace('a=end-of-candidates\r\n', '');
    expect(sdpWithoutCandidates(rejected)).toEqual({ sdp: rejected, candidates: [] });
  });
});
