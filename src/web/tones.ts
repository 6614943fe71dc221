/**
 * The phone's own sounds, synthesized with WebAudio so the page needs no audio
 * files: the ring of an incoming call, ringback while the other side rings,
 * and the keypad's DTMF tones.
 */

export type ToneMode = 'off' | 'ring' | 'ringback';

const DTMF_FREQUENCIES: Record<string, [number, number]> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477],
};

export class Tones {
  private ctx: AudioContext | undefined;
  private mode: ToneMode = 'off';
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly playing = new Set<OscillatorNode>();

  /** Creates or resumes the AudioContext; call from a user gesture so it may play. */
  unlock(): void {
    try {
      this.ctx ??= new AudioContext();
      if (this.ctx.state === 'suspended') void this.ctx.resume();
    } catch {
      // no WebAudio: the phone works, silently
    }
  }

  set(mode: ToneMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const osc of this.playing) {
      try {
        osc.stop();
      } catch {
        // already stopped
      }
    }
    this.playing.clear();
    if (mode === 'off') return;
    this.unlock();
    // Incoming: a soft three-note chime twice every 3 s. Ringback: 440+480 Hz, 2 s on, 4 s off.
    const burst = mode === 'ring' ? () => this.chime() : () => this.tone([440, 480], 0, 2, 0.05, 'flat');
    burst();
    this.timer = setInterval(burst, mode === 'ring' ? 3000 : 6000);
  }

  dtmf(digit: string): void {
    const pair = DTMF_FREQUENCIES[digit];
    if (pair) this.tone(pair, 0, 0.12, 0.04, 'flat');
  }

  private chime(): void {
    const notes = [659.25, 830.61, 987.77];
    for (const [round, offset] of [0, 0.75].entries()) {
      notes.forEach((freq, i) => this.tone([freq], offset + i * 0.16, 0.5, round === 0 ? 0.12 : 0.1, 'pluck'));
    }
  }

  private tone(freqs: number[], delay: number, duration: number, volume: number, envelope: 'flat' | 'pluck'): void {
    const ctx = this.ctx;
    if (!ctx || ctx.state === 'closed') return;
    const start = ctx.currentTime + delay;
    const end = start + duration;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.linearRampToValueAtTime(volume, start + 0.015);
    if (envelope === 'pluck') {
      gain.gain.exponentialRampToValueAtTime(0.0001, end);
    } else {
      gain.gain.setValueAtTime(volume, end - 0.02);
      gain.gain.linearRampToValueAtTime(0.0001, end);
    }
    gain.connect(ctx.destination);
    for (const freq of freqs) {
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = freq;
      osc.connect(gain);
      osc.onended = () => {
        this.playing.delete(osc);
        osc.disconnect();
      };
      osc.start(start);
      osc.stop(end);
      this.playing.add(osc);
    }
  }
}
