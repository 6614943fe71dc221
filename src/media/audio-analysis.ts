/**
 * Measurements on 16-bit audio, used by tests and benchmarks to check that
 * what came out of the gateway is the sound that went in.
 */

const FULL_SCALE = 32768;

/** Root mean square on the sample scale (0..32768); 0 for no samples. */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sumOfSquares = 0;
  for (const sample of samples) sumOfSquares += sample * sample;
  return Math.sqrt(sumOfSquares / samples.length);
}

/**
 * Power of one frequency, by the Goertzel recurrence (a single DFT term
 * evaluated as a second-order filter). The frequency is used as is, not
 * rounded to a DFT bin, so a tone exactly at it is measured without leakage
 * from bin spacing. A sine of amplitude A * 32768 has a DFT term of magnitude
 * about A * 32768 * N / 2, so dividing by that square makes a full-scale sine
 * read ~1, a half-scale one ~0.25, and silence 0.
 */
export function goertzelPower(samples: Int16Array, sampleRate: number, frequency: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let previous = 0;
  let beforePrevious = 0;
  for (const sample of samples) {
    const current = sample + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  const magnitudeSquared =
    previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
  const fullScaleMagnitude = (FULL_SCALE * n) / 2;
  return magnitudeSquared / (fullScaleMagnitude * fullScaleMagnitude);
}

export interface ToneOptions {
  frequency: number;
  sampleRate: number;
  /** Peak level as a fraction of full scale, 0..1. */
  amplitude: number;
}

/**
 * A sine generator: each call returns the next `count` samples, continuing
 * the phase where the previous call stopped, so packets cut from it join
 * without clicks.
 */
export function makeTone(options: ToneOptions): (count: number) => Int16Array {
  if (!(options.sampleRate > 0)) throw new RangeError('sampleRate must be positive');
  const amplitude = Math.min(Math.max(options.amplitude, 0), 1) * 32767;
  const phaseStep = (2 * Math.PI * options.frequency) / options.sampleRate;
  let phase = 0;
  return (count: number): Int16Array => {
    const samples = new Int16Array(count);
    for (let i = 0; i < count; i++) {
      samples[i] = Math.round(amplitude * Math.sin(phase));
      phase += phaseStep;
      // Keeping the phase small keeps sin() exact over hours of generation.
      if (phase >= 2 * Math.PI) phase -= 2 * Math.PI;
    }
    return samples;
  };
}
