/** How long a stream may stay silent before its party counts as gone; 0 means never. */
export interface InactivityLimits {
  /** While the call is not on hold. */
  timeoutMs: number;
  /** While it is on hold (a party sendonly, recvonly or inactive). */
  holdTimeoutMs: number;
}

/** One party's inbound media, as the watch reads it on each sweep. */
export interface WatchedStream {
  /** Packets accepted from the party so far (RTP and RTCP): any change is a sign of life. */
  packetsReceived(): number;
  /** Whether the call is on hold now: the party may then legitimately send nothing. */
  held(): boolean;
  /** The stream stayed silent past its limit; called once, after which it is no longer watched. */
  silent(idleMs: number, held: boolean): void;
}

/** The handle of one watched stream. */
export interface StreamWatch {
  /** Start the silence over from now: a re-offer may move the stream (new address, new ports, resume). */
  restart(): void;
  stop(): void;
}

interface Entry {
  stream: WatchedStream;
  packets: number;
  held: boolean;
  /** When the stream last showed life, or changed hold state, or was restarted. */
  sinceMs: number;
}

/** Sweeps at a quarter of the shortest limit, within these bounds. */
const MIN_SWEEP_MS = 100;
const MAX_SWEEP_MS = 5000;

const NO_WATCH: StreamWatch = { restart() {}, stop() {} };

/**
 * Finds anchored streams whose party stopped sending, for every call at once:
 * one interval for the whole gateway reads each stream's packet counter and
 * compares it with the last sweep. Nothing runs per packet and there is no
 * timer per call, so hundreds of calls cost one cheap loop every few seconds.
 * A silence is noticed between one limit and one limit plus a sweep after
 * the last packet. The interval runs only while something is watched.
 */
export class MediaInactivityWatch {
  readonly #limits: InactivityLimits;
  readonly #clock: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #entries = new Set<Entry>();
  readonly #sweepMs: number;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `onError` hears what a stream's `silent` threw: the sweep goes on with the
   * other streams, and nothing escapes the interval (it would end the process).
   */
  constructor(
    limits: InactivityLimits,
    options: { clock?: () => number; onError?: (error: unknown) => void } = {},
  ) {
    this.#limits = { ...limits };
    this.#clock = options.clock ?? (() => performance.now());
    this.#onError = options.onError ?? (() => {});
    const positive = [limits.timeoutMs, limits.holdTimeoutMs].filter((ms) => ms > 0);
    this.#sweepMs = positive.length === 0 ? 0 : Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(Math.min(...positive) / 4)));
  }

  /** Whether any limit is set; with none, `watch` watches nothing. */
  get enabled(): boolean {
    return this.#sweepMs > 0;
  }

  /** Streams watched now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether the shared interval is running (it stops when nothing is watched). */
  get sweeping(): boolean {
    return this.#timer !== undefined;
  }

  watch(stream: WatchedStream): StreamWatch {
    if (!this.enabled) return NO_WATCH;
    const entry: Entry = { stream, packets: stream.packetsReceived(), held: stream.held(), sinceMs: this.#clock() };
    this.#entries.add(entry);
    this.#startSweeping();
    return {
      restart: () => {
        if (!this.#entries.has(entry)) return;
        entry.packets = stream.packetsReceived();
        entry.held = stream.held();
        entry.sinceMs = this.#clock();
      },
      stop: () => this.#remove(entry),
    };
  }

  /** One pass over every stream (the interval's work; tests call it with a fake clock). */
  sweep(): void {
    const now = this.#clock();
    for (const entry of [...this.#entries]) {
      if (!this.#entries.has(entry)) continue; // stopped by an earlier stream's callback in this pass
      const packets = entry.stream.packetsReceived();
      const held = entry.stream.held();
      if (packets !== entry.packets || held !== entry.held) {
        // Life, or a hold or resume: the stream gets a full period from here.
        entry.packets = packets;
        entry.held = held;
        entry.sinceMs = now;
        continue;
      }
      const limit = held ? this.#limits.holdTimeoutMs : this.#limits.timeoutMs;
      const idleMs = now - entry.sinceMs;
      if (limit === 0 || idleMs < limit) continue;
      this.#remove(entry);
      try {
        entry.stream.silent(idleMs, held);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  /** Forgets every stream and stops the interval. */
  close(): void {
    this.#entries.clear();
    this.#stopSweeping();
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry);
    if (this.#entries.size === 0) this.#stopSweeping();
  }

  #startSweeping(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.sweep(), this.#sweepMs);
    // Watching must never keep the process alive on its own.
    this.#timer.unref();
  }

  #stopSweeping(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
