import { describe, expect, it } from 'vitest';
import { CallFailedError } from '../../../src/errors/gateway-error.js';
import { parseAudioDescription } from '../../../src/media/sdp-audio.js';

const offer = (mLine: string, attributes: string[]) =>
  ['v=0', 'o=- 1 1 IN IP4 192.0.2.44', 's=-', 'c=IN IP4 192.0.2.44', 't=0 0', mLine, ...attributes, ''].join('\r\n');

function incompatible(sdp: string): CallFailedError {
  try {
    parseAudioDescription(sdp);
  } catch (error) {
    expect(error).toBeInstanceOf(CallFailedError);
    return error as CallFailedError;
  }
  throw new Error('expected a CallFailedError');
}

// Found by test/fuzz/sdp-audio.test.ts: sdp-transform hands over what it could not read as
// strings and empty values, which reached the anchor as ports, names and clock rates.
describe('parseAudioDescription with malformed values', () => {
  it('refuses an audio port that is not a port as incompatible media (a SIP INVITE got a 500 for it)', () => {
    for (const port of ['99999999999999999999', '70000']) {
      expect(incompatible(offer(`m=audio ${port} RTP/AVP 0`, [])).reason).toBe('incompatible-media');
    }
  });

  it('leaves out codecs whose rtpmap has no name, no clock rate or bad channels (seeds 190545885, -382946891)', () => {
    const description = parseAudioDescription(
      offer('m=audio 4000 RTP/AVP 0 96 97 98 99 101', ['a=rtpmap:96 /8000', 'a=rtpmap:97 speex/', 'a=rtpmap:98 speex/0', 'a=rtpmap:99 opus/48000/two', 'a=rtpmap:101 telephone-event/8000']),
    );
    expect(description.codecs).toStrictEqual([
      { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
      { name: 'telephone-event', clockRate: 8000, channels: 1, payloadType: 101 },
    ]);
  });

  // Found by test/fuzz/sdp-audio.test.ts (the narrowed offer, written back by sdp-transform, had one channel).
  it('reads an rtpmap with an empty channel count as one channel', () => {
    expect(parseAudioDescription(offer('m=audio 4000 RTP/AVP 63', ['a=rtpmap:63 red/48000/'])).codecs).toStrictEqual([{ name: 'red', clockRate: 48000, channels: 1, payloadType: 63 }]);
  });

  it('leaves out a payload type with two rtpmaps, whichever is readable', () => {
    expect(parseAudioDescription(offer('m=audio 4000 RTP/AVP 8 0', ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:8 /8000'])).codecs.map((c) => c.payloadType)).toStrictEqual([0]);
  });

  it('reads a payload type listed twice once, and ignores formats that are no payload type', () => {
    const description = parseAudioDescription(offer('m=audio 4000 RTP/AVP 8 8 128 x 0', ['a=rtpmap:8 PCMA/8000']));
    expect(description.codecs.map((codec) => codec.payloadType)).toStrictEqual([8, 0]);
  });

  it('ignores an rtcp port that is not a port, and an empty connection address', () => {
    const description = parseAudioDescription(offer('m=audio 4000 RTP/AVP 0', ['a=rtcp:99999']).replace('c=IN IP4 192.0.2.44', 'c=IN IP4 '));
    expect(description.rtcpPort).toBeUndefined();
    expect(description.address).toBe('0.0.0.0');
  });
});
