import { describe, expect, it } from 'vitest';
import { sdpWithCandidates } from '../../../src/ice/sdp-with-candidates.js';

// A Chromium answer as the demo page sends it: made before gathering, so no candidates and the
// JSEP placeholder destination (0.0.0.0, port 9).
const CHROMIUM_ANSWER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Zx3b',
  'a=ice-pwd:8mRkJYxGJcuXAXIDeAdmINFi',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
  'a=setup:active',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  '',
].join('\r\n');

const HOST_V4 = 'candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host generation 0 ufrag Zx3b network-id 1';
const HOST_V6 = 'candidate:2739436093 1 udp 2122197247 ::1 51208 typ host generation 0 ufrag Zx3b network-id 2';

describe('sdpWithCandidates', () => {
  it('puts trickled candidates into their m-section, ends them, and makes the first the default destination', () => {
    const sdp = sdpWithCandidates(CHROMIUM_ANSWER, [
      { candidate: HOST_V4, sdpMid: '0', sdpMLineIndex: 0 },
      { candidate: HOST_V6, sdpMid: '0', sdpMLineIndex: 0 },
    ]);
    const lines = sdp.split('\r\n');
    expect(lines).toContain('m=audio 46243 UDP/TLS/RTP/SAVPF 111');
    expect(lines).toContain('c=IN IP4 127.0.0.1');
    expect(lines.slice(-4)).toEqual([`a=${HOST_V4}`, `a=${HOST_V6}`, 'a=end-of-candidates', '']);
    // Everything else is as the browser wrote it.
    expect(sdp.replace(/^a=(candidate:.*|end-of-candidates)\r\n/gm, '').replace('m=audio 46243', 'm=audio 9').replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0')).toBe(CHROMIUM_ANSWER);
  });

  it('takes an IPv6 first candidate as an IP6 default destination', () => {
    const sdp = sdpWithCandidates(CHROMIUM_ANSWER, [{ candidate: HOST_V6, sdpMid: '0', sdpMLineIndex: 0 }]);
    expect(sdp).toContain('m=audio 51208 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP6 ::1\r\n');
  });

  it('finds the m-section by mid before index, by index without a mid, and drops candidates that fit none', () => {
    const twoSections = CHROMIUM_ANSWER.replace('a=group:BUNDLE 0', 'a=group:BUNDLE 0 1') + CHROMIUM_ANSWER.slice(CHROMIUM_ANSWER.indexOf('m=audio')).replace('a=mid:0', 'a=mid:1');
    const sdp = sdpWithCandidates(twoSections, [
      { candidate: HOST_V4, sdpMid: '1', sdpMLineIndex: 0 },
      { candidate: HOST_V6, sdpMid: null, sdpMLineIndex: 0 },
      { candidate: HOST_V6, sdpMid: 'video', sdpMLineIndex: 7 },
    ]);
    const [, first = '', second = ''] = sdp.split(/(?=^m=)/m);
    expect(first).toContain(`a=${HOST_V6}\r\na=end-of-candidates`);
    expect(first).not.toContain(HOST_V4);
    expect(second).toContain(`a=${HOST_V4}\r\na=end-of-candidates`);
    expect(second).not.toContain(HOST_V6);
  });

  it('leaves a description alone when no candidates came, and a TCP-only section without a new default', () => {
    expect(sdpWithCandidates(CHROMIUM_ANSWER, [])).toBe(CHROMIUM_ANSWER);
    const tcp = 'candidate:3 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0';
    const sdp = sdpWithCandidates(CHROMIUM_ANSWER, [{ candidate: tcp, sdpMid: '0', sdpMLineIndex: 0 }]);
    expect(sdp).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0');
    expect(sdp).toContain(`a=${tcp}\r\na=end-of-candidates\r\n`);
  });

  it('keeps bare-LF descriptions in LF', () => {
    const lf = CHROMIUM_ANSWER.replace(/\r\n/g, '\n');
    expect(sdpWithCandidates(lf, [{ candidate: HOST_V4, sdpMLineIndex: 0 }])).toBe(sdpWithCandidates(CHROMIUM_ANSWER, [{ candidate: HOST_V4, sdpMLineIndex: 0 }]).replace(/\r\n/g, '\n'));
  });
});
