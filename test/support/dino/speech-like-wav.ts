/**
 * A speech-like test signal as a 16-bit mono WAV: voiced "syllables" of 120-320 ms (a harmonic
 * series on a gliding pitch of 110-230 Hz, two formant-like emphases, a smooth envelope) with
 * 60-250 ms pauses. Voice-processing clients (Dino's WebRTC audio processing) gate silence and
 * steady tones to a trickle of packets; this passes as speech. Deterministic.
 */
export function speechLikeWav(rate: number, seconds: number): Buffer {
  const total = rate * seconds;
  const pcm = new Int16Array(total);
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let t = 0;
  while (t < total) {
    const length = Math.floor(rate * (0.12 + 0.2 * random()));
    const pitch = 110 + 120 * random();
    const glide = (random() - 0.5) * 60;
    const formants = [300 + 600 * random(), 900 + 1500 * random()];
    for (let i = 0; i < length && t + i < total; i += 1) {
      const progress = i / length;
      const f0 = pitch + glide * progress;
      const envelope = Math.sin(Math.PI * progress) ** 0.7;
      let sample = 0;
      for (let harmonic = 1; harmonic * f0 < Math.min(3800, rate / 2); harmonic += 1) {
        const frequency = harmonic * f0;
        const weight = formants.reduce((sum, formant) => sum + 1 / (1 + ((frequency - formant) / 150) ** 2), 0.15);
        sample += (weight / harmonic) * Math.sin((2 * Math.PI * frequency * (t + i)) / rate);
      }
      pcm[t + i] = Math.max(-32767, Math.min(32767, Math.round(9000 * envelope * sample)));
    }
    t += length + Math.floor(rate * (0.06 + 0.19 * random()));
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + total * 2, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(total * 2, 40);
  return Buffer.concat([header, Buffer.from(pcm.buffer)]);
}
