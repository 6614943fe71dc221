/**
 * ITU-T G.711 companding: 8-bit codes for 16-bit linear samples, the PCMU
 * (μ-law) and PCMA (A-law) payloads of RFC 3551 section 4.5.14. Both split
 * the magnitude into 8 segments (a 3-bit exponent) of 16 steps (a 4-bit
 * mantissa) whose step size doubles from one segment to the next, so the
 * error stays roughly proportional to the signal.
 */

/**
 * μ-law works on 14-bit magnitudes with a bias of 33 that makes the segment
 * boundaries powers of two; on the 16-bit scale that is 33 * 4.
 */
const MULAW_BIAS = 0x84;
/** The largest magnitude that still fits the top segment once biased (0x7FFF - bias). */
const MULAW_CLIP = 32635;

/** Clamps a number to a 16-bit sample, rounding toward zero. */
function toInt16(sample: number): number {
  if (sample > 32767) return 32767;
  if (sample < -32768) return -32768;
  return Math.trunc(sample);
}

export function encodeMulawSample(sample: number): number {
  const linear = toInt16(sample);
  const sign = linear < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(linear), MULAW_CLIP) + MULAW_BIAS;
  // The biased magnitude is 132..32767, so its top bit is bit 7..14: segment 0..7.
  const exponent = 31 - Math.clz32(magnitude) - 7;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  // The code is transmitted inverted, so silence is 0xFF rather than a run of zero bits.
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function decodeMulawCode(code: number): number {
  const bits = ~code & 0xff;
  const exponent = (bits >> 4) & 0x07;
  const mantissa = bits & 0x0f;
  // Reconstruct the middle of the step: mantissa, plus half a step, plus the bias; then remove the bias.
  const magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return (bits & 0x80) !== 0 ? -magnitude : magnitude;
}

export function encodeAlawSample(sample: number): number {
  const linear = toInt16(sample);
  // A-law codes positive values with the sign bit set, the opposite of μ-law.
  const sign = linear >= 0 ? 0x80 : 0;
  // A-law works on 13-bit samples: a 12-bit magnitude.
  const magnitude = Math.min(Math.abs(linear) >> 3, 0x0fff);
  // Segments 0 and 1 share the smallest step; above them the top bit (5..11) picks the segment.
  const segment = magnitude < 32 ? 0 : 31 - Math.clz32(magnitude) - 4;
  const mantissa = (magnitude >> (segment === 0 ? 1 : segment)) & 0x0f;
  // G.711 transmits A-law with the even bits inverted, hence the XOR with 0x55.
  return (sign | (segment << 4) | mantissa) ^ 0x55;
}

function decodeAlawCode(code: number): number {
  const bits = code ^ 0x55;
  const segment = (bits >> 4) & 0x07;
  const mantissa = bits & 0x0f;
  // Middle of the step, on the 16-bit scale (a 12-bit magnitude shifted by 3, plus half a step).
  const magnitude =
    segment === 0 ? (mantissa << 4) + 8 : ((mantissa | 0x10) << (segment + 3)) + (1 << (segment + 2));
  return (bits & 0x80) !== 0 ? magnitude : -magnitude;
}

/** Decoding is a 256-entry lookup, built once. */
const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, code) => decodeMulawCode(code));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, code) => decodeAlawCode(code));

export function decodeMulawSample(code: number): number {
  return MULAW_TABLE[code & 0xff] ?? 0;
}

export function decodeAlawSample(code: number): number {
  return ALAW_TABLE[code & 0xff] ?? 0;
}

export function encodePcmu(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = encodeMulawSample(samples[i] ?? 0);
  return out;
}

export function decodePcmu(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length);
  for (let i = 0; i < buf.length; i++) out[i] = MULAW_TABLE[buf[i] ?? 0xff] ?? 0;
  return out;
}

export function encodePcma(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = encodeAlawSample(samples[i] ?? 0);
  return out;
}

export function decodePcma(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length);
  for (let i = 0; i < buf.length; i++) out[i] = ALAW_TABLE[buf[i] ?? 0xd5] ?? 0;
  return out;
}
