import { describe, expect, it } from 'vitest';
import { dtlsSetupOf, offerForPassiveAnswer } from '../../../src/media/webrtc-sdp.js';

// Issue #18: the anchor answers an actpass offer with setup:passive, so the party holding the
// answer starts DTLS. node-datachannel has no setting for it: it is handed the offer as `active`.

const offer = (setup: string, where: 'media' | 'session' = 'media') =>
  [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    ...(where === 'session' ? [`a=setup:${setup}`] : []),
    'm=audio 9 UDP/TLS/RTP/SAVPF 0',
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuv',
    'a=fingerprint:sha-256 AA:BB',
    ...(where === 'media' ? [`a=setup:${setup}`] : []),
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');

describe('offerForPassiveAnswer', () => {
  it('presents an actpass offer as active, at media or session level, and changes nothing else', () => {
    for (const where of ['media', 'session'] as const) {
      const given = offerForPassiveAnswer(offer('actpass', where));
      expect(dtlsSetupOf(given)).toBe('active');
      expect(given).toBe(offer('active', where));
    }
  });

  it('leaves an offer that insists on a role (active, passive) as it is', () => {
    expect(offerForPassiveAnswer(offer('active'))).toBe(offer('active'));
    expect(offerForPassiveAnswer(offer('passive'))).toBe(offer('passive'));
  });

  it('works on LF-only descriptions too', () => {
    expect(offerForPassiveAnswer(offer('actpass').replace(/\r\n/g, '\n'))).toBe(offer('active').replace(/\r\n/g, '\n'));
  });
});

describe('dtlsSetupOf', () => {
  it('reads the first audio section, else the session', () => {
    expect(dtlsSetupOf(offer('passive'))).toBe('passive');
    expect(dtlsSetupOf(offer('actpass', 'session'))).toBe('actpass');
    expect(dtlsSetupOf('v=0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n')).toBeUndefined();
  });
});
