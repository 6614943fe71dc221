import { describe, expect, it } from 'vitest';
import { makeTone } from '../../../src/media/audio-analysis.js';
import {
  decodeAlawSample,
  decodeMulawSample,
  decodePcma,
  decodePcmu,
  encodeAlawSample,
  encodeMulawSample,
  encodePcma,
  encodePcmu,
} from '../../../src/media/g711.js';

/**
 * Known answers. The decode values and the encodings of these samples were
 * checked against an independent G.711 implementation (Python's audioop);
 * both decoders agree with it on all 256 codes of each law.
 */
const MULAW: [sample: number, code: number][] = [
  [0, 0xff],
  [32767, 0x80],
  [-32768, 0x00],
  [1000, 0xce],
  [-1000, 0x4e],
  [5000, 0xab],
];
const ALAW: [sample: number, code: number][] = [
  [0, 0xd5],
  [32767, 0xaa],
  [-32768, 0x2a],
  [1000, 0xfa],
  [-1000, 0x7a],
  [5000, 0x86],
  [-12345, 0x3d],
];

describe('μ-law (PCMU)', () => {
  it.each(MULAW)('encodes %i as code %i', (sample, code) => {
    expect(encodeMulawSample(sample)).toBe(code);
  });

  it('decodes known codes', () => {
    expect(decodeMulawSample(0xff)).toBe(0);
    expect(decodeMulawSample(0x80)).toBe(32124);
    expect(decodeMulawSample(0x00)).toBe(-32124);
    expect(decodeMulawSample(0xce)).toBe(988);
    // 0x7F is "negative zero".
    expect(decodeMulawSample(0x7f)).toBe(0);
  });

  it('re-encodes every code to itself, except negative zero', () => {
    for (let code = 0; code < 256; code++) {
      expect(encodeMulawSample(decodeMulawSample(code))).toBe(code === 0x7f ? 0xff : code);
    }
  });

  it('keeps the error within half a step: about 3% of the magnitude', () => {
    const outOfBounds: number[] = [];
    for (let sample = -32635; sample <= 32635; sample++) {
      const error = Math.abs(decodeMulawSample(encodeMulawSample(sample)) - sample);
      // The step at exponent e is 8 << e while the biased magnitude is at least 128 << e.
      if (error > (Math.abs(sample) + 132) / 32) outOfBounds.push(sample);
    }
    expect(outOfBounds).toEqual([]);
  });

  it('clips beyond the top segment and is monotonic', () => {
    expect(encodeMulawSample(40000)).toBe(0x80);
    expect(encodeMulawSample(-40000)).toBe(0x00);
    let previous = -Infinity;
    let monotonic = true;
    for (let sample = -32768; sample <= 32767; sample++) {
      const decoded = decodeMulawSample(encodeMulawSample(sample));
      monotonic &&= decoded >= previous;
      previous = decoded;
    }
    expect(monotonic).toBe(true);
  });
});

describe('A-law (PCMA)', () => {
  it.each(ALAW)('encodes %i as code %i', (sample, code) => {
    expect(encodeAlawSample(sample)).toBe(code);
  });

  it('decodes known codes', () => {
    expect(decodeAlawSample(0xd5)).toBe(8);
    expect(decodeAlawSample(0x55)).toBe(-8);
    expect(decodeAlawSample(0xaa)).toBe(32256);
    expect(decodeAlawSample(0x2a)).toBe(-32256);
    expect(decodeAlawSample(0xfa)).toBe(1008);
  });

  it('re-encodes every code to itself', () => {
    for (let code = 0; code < 256; code++) expect(encodeAlawSample(decodeAlawSample(code))).toBe(code);
  });

  it('keeps the error within half a step', () => {
    const outOfBounds: number[] = [];
    for (let sample = -32768; sample <= 32767; sample++) {
      const error = Math.abs(decodeAlawSample(encodeAlawSample(sample)) - sample);
      // Segments 0 and 1 share a 16-unit step; above, the step is 8 << segment for magnitudes of at least 128 << segment.
      if (error > Math.max(Math.abs(sample), 256) / 32) outOfBounds.push(sample);
    }
    expect(outOfBounds).toEqual([]);
  });
});

describe('buffers', () => {
  const samples = Int16Array.from([0, 1000, -1000, 32767, -32768]);

  it('encode and decode sample by sample', () => {
    expect([...encodePcmu(samples)]).toEqual([0xff, 0xce, 0x4e, 0x80, 0x00]);
    expect([...encodePcma(samples)]).toEqual([0xd5, 0xfa, 0x7a, 0xaa, 0x2a]);
    expect([...decodePcmu(Buffer.from([0xff, 0xce]))]).toEqual([0, 988]);
    expect([...decodePcma(Buffer.from([0xd5, 0xfa]))]).toEqual([8, 1008]);
    expect(encodePcmu(new Int16Array(0))).toHaveLength(0);
  });

  it.each([
    ['PCMU', encodePcmu, decodePcmu],
    ['PCMA', encodePcma, decodePcma],
  ] as const)('%s carries a tone at better than 30 dB SNR', (_, encode, decode) => {
    // G.711 gives roughly 38 dB for speech-level signals; a half-scale sine should be well above 30 dB.
    const tone = makeTone({ frequency: 1000, sampleRate: 8000, amplitude: 0.5 })(8000);
    const decoded = decode(encode(tone));
    let signal = 0;
    let noise = 0;
    for (let i = 0; i < tone.length; i++) {
      signal += tone[i]! ** 2;
      noise += (decoded[i]! - tone[i]!) ** 2;
    }
    expect(10 * Math.log10(signal / noise)).toBeGreaterThan(30);
  });
});
