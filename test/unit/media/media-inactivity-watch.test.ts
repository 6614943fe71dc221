import { afterEach, describe, expect, it, vi } from 'vitest';
import { MediaInactivityWatch, type WatchedStream } from '../../../src/media/media-inactivity-watch.js';

// The shared sweep over anchored streams, on a fake clock: what counts as
// life, what counts as hold, what a re-offer resets, and that the interval
// only runs while something is watched.

let now = 0;
const clock = () => now;

interface FakeStream extends WatchedStream {
  packets: number;
  onHold: boolean;
  silences: { idleMs: number; held: boolean }[];
}

function fakeStream(): FakeStream {
  const stream: FakeStream = {
    packets: 0,
    onHold: false,
    silences: [],
    packetsReceived: () => stream.packets,
    held: () => stream.onHold,
    silent: (idleMs, held) => void stream.silences.push({ idleMs, held }),
  };
  return stream;
}

/** Advances the fake clock in sweeps of `stepMs`, as the interval would. */
function run(watch: MediaInactivityWatch, ms: number, stepMs = 500, each?: () => void): void {
  for (let elapsed = 0; elapsed < ms; elapsed += stepMs) {
    now += stepMs;
    each?.();
    watch.sweep();
  }
}

afterEach(() => {
  now = 0;
  vi.useRealTimers();
});

describe('MediaInactivityWatch', () => {
  it('reports a stream silent once, after the limit, and stops watching it', () => {
    const watch = new MediaInactivityWatch({ timeoutMs: 2000, holdTimeoutMs: 0 }, { clock });
    const stream = fakeStream();
    watch.watch(stream);
    run(watch, 1500);
    expect(stream.silences).toEqual([]);
    run(watch, 500);
    expect(stream.silences).toEqual([{ idleMs: 2000, held: false }]);
    expect(watch.size).toBe(0);
    run(watch, 5000);
    expect(stream.silences).toHaveLength(1);
    watch.close();
  });

  it('any new packet (RTP or RTCP alike: the counter) is life and starts the period over', () => {
    const watch = new MediaInactivityWatch({ timeoutMs: 2000, holdTimeoutMs: 0 }, { clock });
    const stream = fakeStream();
    watch.watch(stream);
    // One packet every 1.5 s, e.g. RTCP only from a phone that suppresses silence: alive.
    let sinceLast = 0;
    run(watch, 20_000, 500, () => {
      sinceLast += 500;
      if (sinceLast >= 1500) {
        stream.packets += 1;
        sinceLast = 0;
      }
    });
    expect(stream.silences).toEqual([]);
    // Then nothing: silent 2 s after the sweep that saw the last packet.
    run(watch, 2500);
    expect(stream.silences).toHaveLength(1);
    watch.close();
  });

  it('a held stream uses the hold limit; with none (0) it is never silent', () => {
    const watch = new MediaInactivityWatch({ timeoutMs: 2000, holdTimeoutMs: 0 }, { clock });
    const stream = fakeStream();
    stream.onHold = true;
    watch.watch(stream);
    run(watch, 60_000);
    expect(stream.silences).toEqual([]);
    expect(watch.size).toBe(1);
    watch.close();

    const withHoldLimit = new MediaInactivityWatch({ timeoutMs: 2000, holdTimeoutMs: 10_000 }, { clock });
    const held = fakeStream();
    held.onHold = true;
    withHoldLimit.watch(held);
    run(withHoldLimit, 9500);
    expect(held.silences).toEqual([]);
    run(withHoldLimit, 500);
    expect(held.silences).toEqual([{ idleMs: 10_000, held: true }]);
    withHoldLimit.close();
  });

  it('resume gives the stream a full period from the resume, not from its last packet', () => {
    const watch = new MediaInactivityWatch({ timeoutMs: 2000, holdTimeoutMs: 0 }, { clock });
    const stream = fakeStream();
    watch.watch(stream);
    stream.onHold = true;
    run(watch, 30_000); // a long hold without a packet
    stream.onHold = false; // resumed
    run(watch, 1500);
    expect(stream.silences).toEqual([]);
    run(watch, 1000);
    expect(stream.silences).toEqual([{ idleMs: 2000, held: false }]);
    watch.close();
  });

  it('restart() (a re-offer with a new address or port) starts the period over', () => {
    const watch = new MediaInactivityWatch({ timeoutMs: 2000, holdTimeoutMs: 0 }, { clock });
    const stream = fakeStream();
    const handle = watch.watch(stream);
    run(watch, 1500);
    handle.restart();
    run(watch, 1500);
    expect(stream.silences).toEqual([]);
    run(watch, 500);
    expect(stream.silences).toHaveLength(1);
    watch.close();
  });

  it('a stopped stream is never reported; stop and restart after the end do nothing', () => {
    const watch = new MediaInactivityWatch({ timeoutMs: 2000, holdTimeoutMs: 0 }, { clock });
    const stream = fakeStream();
    const handle = watch.watch(stream);
    handle.stop();
    handle.restart();
    run(watch, 10_000);
    expect(stream.silences).toEqual([]);
    expect(watch.size).toBe(0);
  });

  it('a limit of 0 disables the watch entirely: no entry, no interval', () => {
    const watch = new MediaInactivityWatch({ timeoutMs: 0, holdTimeoutMs: 0 }, { clock });
    expect(watch.enabled).toBe(false);
    const stream = fakeStream();
    watch.watch(stream);
    expect(watch.size).toBe(0);
    expect(watch.sweeping).toBe(false);
    run(watch, 100_000);
    expect(stream.silences).toEqual([]);
  });

  it('one stream failing to end its call neither stops the sweep nor escapes it', () => {
    const errors: unknown[] = [];
    const watch = new MediaInactivityWatch({ timeoutMs: 1000, holdTimeoutMs: 0 }, { clock, onError: (e) => errors.push(e) });
    const failing = fakeStream();
    failing.silent = () => {
      throw new Error('boom');
    };
    const other = fakeStream();
    watch.watch(failing);
    watch.watch(other);
    expect(() => run(watch, 1000)).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(other.silences).toHaveLength(1);
  });

  it('one shared interval sweeps while streams are watched and stops when the last goes', () => {
    vi.useFakeTimers();
    const watch = new MediaInactivityWatch({ timeoutMs: 2000, holdTimeoutMs: 0 }, { clock: () => Date.now() });
    expect(watch.sweeping).toBe(false);
    const streams = Array.from({ length: 300 }, () => fakeStream());
    const handles = streams.map((stream) => watch.watch(stream));
    expect(watch.sweeping).toBe(true);
    expect(vi.getTimerCount()).toBe(1); // 300 streams, one timer

    // Half of them keep sending; the other half went quiet.
    for (let i = 0; i < 10; i++) {
      for (const stream of streams.slice(0, 150)) stream.packets += 1;
      vi.advanceTimersByTime(500);
    }
    expect(streams.slice(0, 150).every((s) => s.silences.length === 0)).toBe(true);
    expect(streams.slice(150).every((s) => s.silences.length === 1)).toBe(true);
    expect(watch.size).toBe(150);

    for (const handle of handles) handle.stop();
    expect(watch.sweeping).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
