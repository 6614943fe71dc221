import { describe, expect, it } from 'vitest';
import { goertzelPower, makeTone, rms } from '../../../src/media/audio-analysis.js';

const SAMPLE_RATE = 8000;

describe('rms', () => {
  it('is 0 for no samples and for silence', () => {
    expect(rms(new Int16Array(0))).toBe(0);
    expect(rms(new Int16Array(160))).toBe(0);
  });

  it('is the magnitude of a constant and amplitude/√2 for a sine', () => {
    expect(rms(new Int16Array(100).fill(-1000))).toBe(1000);
    const sine = makeTone({ frequency: 440, sampleRate: SAMPLE_RATE, amplitude: 1 })(SAMPLE_RATE);
    expect(rms(sine)).toBeCloseTo(32767 / Math.SQRT2, -1);
  });
});

describe('goertzelPower', () => {
  const second = (frequency: number, amplitude: number): Int16Array =>
    makeTone({ frequency, sampleRate: SAMPLE_RATE, amplitude })(SAMPLE_RATE);

  it('reads ~1 for a full-scale sine at the frequency and ~0 for silence', () => {
    expect(goertzelPower(second(440, 1), SAMPLE_RATE, 440)).toBeCloseTo(1, 2);
    expect(goertzelPower(new Int16Array(SAMPLE_RATE), SAMPLE_RATE, 440)).toBe(0);
    expect(goertzelPower(new Int16Array(0), SAMPLE_RATE, 440)).toBe(0);
  });

  it('scales with the square of the amplitude', () => {
    expect(goertzelPower(second(1000, 0.5), SAMPLE_RATE, 1000)).toBeCloseTo(0.25, 2);
    expect(goertzelPower(second(697, 0.1), SAMPLE_RATE, 697)).toBeCloseTo(0.01, 3);
  });

  it('barely sees other frequencies', () => {
    const tone = second(440, 1);
    expect(goertzelPower(tone, SAMPLE_RATE, 1000)).toBeLessThan(1e-4);
    expect(goertzelPower(tone, SAMPLE_RATE, 480)).toBeLessThan(1e-3);
  });

  it('separates the two tones of a DTMF digit', () => {
    // '5' is 770 Hz + 1336 Hz (ITU-T Q.23).
    const low = second(770, 0.3);
    const high = second(1336, 0.3);
    const digit = low.map((sample, i) => sample + high[i]!);
    expect(goertzelPower(digit, SAMPLE_RATE, 770)).toBeCloseTo(0.09, 2);
    expect(goertzelPower(digit, SAMPLE_RATE, 1336)).toBeCloseTo(0.09, 2);
    expect(goertzelPower(digit, SAMPLE_RATE, 697)).toBeLessThan(1e-3);
  });
});

describe('makeTone', () => {
  it('continues the phase across calls', () => {
    const options = { frequency: 440, sampleRate: SAMPLE_RATE, amplitude: 0.3 };
    const whole = makeTone(options)(480);
    const pieces = makeTone(options);
    const joined = [...pieces(100), ...pieces(160), ...pieces(220)];
    expect(joined).toEqual([...whole]);
  });

  it('starts at zero and peaks at the amplitude', () => {
    const samples = makeTone({ frequency: 1000, sampleRate: SAMPLE_RATE, amplitude: 0.5 })(SAMPLE_RATE);
    expect(samples[0]).toBe(0);
    // 1 kHz at 8 kHz reaches the peak a quarter period in, at index 2.
    expect(samples[2]).toBe(Math.round(0.5 * 32767));
    expect(Math.max(...samples)).toBeLessThanOrEqual(Math.round(0.5 * 32767));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(-Math.round(0.5 * 32767));
  });

  it('clamps the amplitude to full scale', () => {
    const samples = makeTone({ frequency: 2000, sampleRate: SAMPLE_RATE, amplitude: 3 })(4);
    expect([...samples]).toEqual([0, 32767, 0, -32767]);
  });

  it('stays in tune after a long call', () => {
    const next = makeTone({ frequency: 440, sampleRate: SAMPLE_RATE, amplitude: 1 });
    // Ten minutes of 20 ms packets, then one more second measured.
    for (let i = 0; i < 30_000; i++) next(160);
    expect(goertzelPower(next(SAMPLE_RATE), SAMPLE_RATE, 440)).toBeCloseTo(1, 2);
  });
});
