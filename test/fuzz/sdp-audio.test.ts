import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { CallFailedError } from '../../src/errors/gateway-error.js';
import { filterSdpCandidates, makeCandidateFilter } from '../../src/ice/candidate-filter.js';
import type { Codec } from '../../src/media/codecs.js';
import { buildRtpAvpSdp, parseAudioDescription, type AudioDescription, type MediaDirection } from '../../src/media/sdp-audio.js';
import { answerInOfferOrder, audioOnlyOffer } from '../../src/media/webrtc-sdp.js';
import { fuzzProperty, typedOutcome } from './fuzz-runs.js';
import { PHONE_SDP, SDP_DICTIONARY, WEBRTC_SDP } from './sdp-samples.js';
import { mutatedText } from './text-mutations.js';

// The anchor's reading of any party's SDP (RFC 8866, RFC 3264): SIP phones' and PBXs' offers and
// answers, and browsers' and XMPP clients' (through Jingle). What it reads sets the address RTP is
// sent to and the codecs both legs must share.

const sdp = mutatedText([...PHONE_SDP, ...WEBRTC_SDP], { dictionary: SDP_DICTIONARY, maxLength: 70_000 });
const DIRECTIONS: readonly MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function expectWellFormed(description: AudioDescription): void {
  const port = (value: number | undefined) => Number.isInteger(value) && value! >= 1 && value! <= 65535;
  expect(port(description.port), `port ${String(description.port)}`).toBe(true);
  if (description.rtcpPort !== undefined) expect(port(description.rtcpPort), `rtcp port ${String(description.rtcpPort)}`).toBe(true);
  expect(DIRECTIONS).toContain(description.direction);
  expect(typeof description.address === 'string' && description.address !== '').toBe(true);
  expect(typeof description.protocol).toBe('string');
  const payloadTypes = description.codecs.map((codec) => codec.payloadType);
  expect(new Set(payloadTypes).size).toBe(payloadTypes.length);
  for (const codec of description.codecs) {
    expect(Number.isInteger(codec.payloadType) && codec.payloadType >= 0 && codec.payloadType <= 127, `payload type ${codec.payloadType}`).toBe(true);
    expect(typeof codec.name === 'string' && codec.name !== '', `codec name ${String(codec.name)}`).toBe(true);
    expect(Number.isInteger(codec.clockRate) && codec.clockRate > 0, `clock rate ${String(codec.clockRate)}`).toBe(true);
    expect(Number.isInteger(codec.channels) && codec.channels > 0, `channels ${String(codec.channels)}`).toBe(true);
    if (codec.fmtp !== undefined) expect(typeof codec.fmtp).toBe('string');
  }
}

describe('parseAudioDescription', () => {
  fuzzProperty('throws only CallFailedError; what it reads is a port, payload types, clock rates and channels in range', 1500, () =>
    fc.property(sdp, (text) => {
      const outcome = typedOutcome(() => parseAudioDescription(text), CallFailedError);
      if ('value' in outcome) expectWellFormed(outcome.value);
      else expect((outcome.error as CallFailedError).reason).toBe('incompatible-media');
    }),
  );

  const codec = fc.record({
    name: fc.constantFrom('PCMU', 'PCMA', 'G722', 'opus', 'telephone-event', 'speex', 'AMR-WB'),
    clockRate: fc.constantFrom(8000, 16000, 48000),
    channels: fc.constantFrom(1, 2),
    payloadType: fc.integer({ min: 0, max: 127 }),
    fmtp: fc.option(fc.constantFrom('0-16', 'useinbandfec=1;minptime=10', 'annexb=no'), { nil: undefined }),
  });
  const rtpAvp = fc.record({
    address: fc.oneof(fc.ipV4(), fc.ipV6()),
    port: fc.integer({ min: 1, max: 65535 }),
    codecs: fc.uniqueArray(codec, { minLength: 1, maxLength: 6, selector: (c) => c.payloadType }),
    direction: fc.constantFrom(...DIRECTIONS),
    sessionId: fc.nat(),
    version: fc.nat(),
    rtcpMux: fc.boolean(),
  });

  fuzzProperty('reads back what buildRtpAvpSdp wrote: address, port, direction, codecs', 600, () =>
    fc.property(rtpAvp, (options) => {
      const read = parseAudioDescription(buildRtpAvpSdp(options));
      expect({ address: read.address, port: read.port, direction: read.direction, rtcpMux: read.rtcpMux }).toStrictEqual({
        address: options.address,
        port: options.port,
        direction: options.direction,
        rtcpMux: options.rtcpMux,
      });
      const written = options.codecs.map(({ fmtp, ...rest }: Codec) => (fmtp === undefined ? rest : { ...rest, fmtp }));
      expect(read.codecs).toStrictEqual(written);
    }),
  );
});

describe('WebRTC offer narrowing and candidate filtering', () => {
  fuzzProperty('audioOnlyOffer and answerInOfferOrder take any offer parseAudioDescription accepts', 1000, () =>
    fc.property(sdp, (text) => {
      const offer = typedOutcome(() => parseAudioDescription(text), CallFailedError);
      if (!('value' in offer) || !offer.value.webrtc) return;
      const narrowed = audioOnlyOffer(text);
      // The narrowed offer is the first active audio m-line: what the anchor read.
      const kept = parseAudioDescription(narrowed.sdp);
      expect({ ...kept, webrtc: true }).toStrictEqual({ ...offer.value, webrtc: true });
      answerInOfferOrder(narrowed.sdp, narrowed);
    }),
  );

  fuzzProperty('filterSdpCandidates drops only a=candidate lines, and keeps every byte of the others', 1000, () =>
    fc.property(sdp, fc.constantFrom<string[]>(['127.0.0.1'], ['192.168.0.0/16', '2001:db8::/32'], []), (text, networks) => {
      const filtered = filterSdpCandidates(text, makeCandidateFilter(networks));
      // Lines as SDP readers split them (sdp-transform: CRLF, LF or a bare CR), each with its own ending.
      const kept = (lines: string) => lines.split(/(?<=\n|\r(?!\n))/).filter((line) => line !== '' && !line.startsWith('a=candidate:'));
      expect(kept(filtered)).toStrictEqual(kept(text));
      for (const line of filtered.split(/\r\n|\n|\r/).filter((l) => l.startsWith('a=candidate:'))) {
        const address = line.split(/[ \t]+/)[4] ?? '';
        if (networks.length > 0) expect(isIP(address)).not.toBe(0);
      }
    }),
  );
});
