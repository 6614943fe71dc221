/**
 * Just enough RIFF/WAVE for the SIP peers: write a 16-bit PCM tone for a peer
 * to play, read back what a peer recorded, and measure it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { goertzelPower, makeTone, rms } from '../../../src/media/audio-analysis.js';

export interface WavAudio {
  sampleRate: number;
  channels: number;
  /** The first channel only (peers record mono, or stereo with equal channels). */
  samples: Int16Array;
}

export interface AudioMeasurement {
  sampleRate: number;
  durationS: number;
  /** Root mean square on the 0..32768 sample scale. */
  rms: number;
  /** Goertzel power of one frequency: ~1 for a full-scale sine, ~0.25 for half scale, 0 for silence. */
  tonePower(frequency: number): number;
  samples: Int16Array;
}

/** A mono 16-bit PCM WAV file of a sine (or of silence when frequency is 0). */
export function writeToneWav(
  path: string,
  options: { frequency: number; sampleRate: number; seconds: number; amplitude?: number },
): void {
  const count = Math.round(options.sampleRate * options.seconds);
  const samples =
    options.frequency > 0
      ? makeTone({ frequency: options.frequency, sampleRate: options.sampleRate, amplitude: options.amplitude ?? 0.5 })(count)
      : new Int16Array(count);
  writeFileSync(path, encodeWav(samples, options.sampleRate, 1));
}

export function encodeWav(samples: Int16Array, sampleRate: number, channels: number): Buffer {
  const dataBytes = samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels * 2, 28);
  out.writeUInt16LE(channels * 2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] ?? 0, 44 + i * 2);
  return out;
}

/**
 * Parses a 16-bit PCM WAV. Tolerates a file still being written: libsndfile
 * (baresip's recorder) fixes the sizes in the header only when it closes the
 * file, so a data chunk whose size is 0 or past the end is read to the end.
 */
export function parseWav(file: Buffer): WavAudio {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let offset = 12;
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  let format = 0;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    let size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = file.readUInt16LE(body);
      channels = file.readUInt16LE(body + 2);
      sampleRate = file.readUInt32LE(body + 4);
      bits = file.readUInt16LE(body + 14);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format in the sub-format GUID's first two bytes.
      if (format === 0xfffe && size >= 26) format = file.readUInt16LE(body + 24);
    } else if (id === 'data') {
      if (format !== 1 || bits !== 16 || channels < 1) {
        throw new Error(`unsupported WAV format ${format}, ${bits} bits, ${channels} channels`);
      }
      if (size === 0 || size === 0xffffffff || body + size > file.length) size = file.length - body;
      const frameBytes = 2 * channels;
      const frames = Math.floor(size / frameBytes);
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = file.readInt16LE(body + i * frameBytes);
      return { sampleRate, channels, samples };
    }
    offset = body + size + (size % 2);
  }
  // A header written before any audio.
  if (sampleRate > 0) return { sampleRate, channels, samples: new Int16Array(0) };
  throw new Error('WAV file without a data chunk');
}

export function readWav(path: string): WavAudio {
  return parseWav(readFileSync(path));
}

/** RMS, duration and a Goertzel probe over the samples, optionally skipping the start. */
export function measureAudio(audio: WavAudio, options: { skipS?: number } = {}): AudioMeasurement {
  const skip = Math.min(audio.samples.length, Math.round((options.skipS ?? 0) * audio.sampleRate));
  const samples = audio.samples.subarray(skip);
  return {
    sampleRate: audio.sampleRate,
    durationS: audio.sampleRate > 0 ? audio.samples.length / audio.sampleRate : 0,
    rms: rms(samples),
    tonePower: (frequency: number) => goertzelPower(samples, audio.sampleRate, frequency),
    samples,
  };
}
