import { Counter, Histogram, type Registry } from 'prom-client';
import type { AnchoredLegQuality } from '../media/anchor-media-session.js';

/** Loss ratios a call leg can have, from perfect to unusable. */
const LOSS_RATIO_BUCKETS = [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
/** Interarrival jitter (RFC 3550 A.8): a few ms on a LAN, tens of ms on a busy path. */
const JITTER_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5];

type Direction = 'in' | 'out';

interface TrackedCall {
  type: string;
  read: () => AnchoredLegQuality[];
}

/**
 * Media quality of anchored calls, by call type: packets the anchor received
 * from parties (`in`) and sent to them (`out`) as they flow, and when a call
 * ends, each leg's lost packets, loss ratio and jitter. (Relayed calls go
 * browser to browser: the gateway sees none of their media.)
 */
export class AnchorMediaMetrics {
  readonly #live = new Map<object, TrackedCall>();
  /** Packets of calls that ended, by `type\0direction`. */
  readonly #endedPackets = new Map<string, number>();

  readonly packets: Counter<'type' | 'direction'>;
  readonly lost: Counter<'type'>;
  readonly lossRatio: Histogram<'type'>;
  readonly jitterSeconds: Histogram<'type'>;

  constructor(registry: Registry) {
    const metrics = this;
    const reported = new Map<string, number>();
    this.packets = new Counter({
      name: 'switchboard_anchor_packets_total',
      help: 'RTP packets the media anchor received from parties (direction "in") and sent to them ("out"), by call type',
      labelNames: ['type', 'direction'] as const,
      registers: [registry],
      // Read at scrape time, so a long call shows its traffic while it lasts.
      collect() {
        for (const [key, total] of metrics.#packetTotals()) {
          const delta = total - (reported.get(key) ?? 0);
          if (delta <= 0) continue;
          const [type = '', direction = ''] = key.split('\0');
          this.inc({ type, direction }, delta);
          reported.set(key, total);
        }
      },
    });
    this.lost = new Counter({
      name: 'switchboard_anchor_packets_lost_total',
      help: 'RTP packets parties sent to the media anchor that never arrived (RFC 3550 A.3), counted when the call ends, by call type',
      labelNames: ['type'] as const,
      registers: [registry],
    });
    this.lossRatio = new Histogram({
      name: 'switchboard_anchor_call_loss_ratio',
      help: 'Per anchored call leg, at call end: lost / expected packets of what the party sent, by call type',
      labelNames: ['type'] as const,
      buckets: LOSS_RATIO_BUCKETS,
      registers: [registry],
    });
    this.jitterSeconds = new Histogram({
      name: 'switchboard_anchor_call_jitter_seconds',
      help: 'Per anchored call leg, at call end: interarrival jitter of what the party sent (RFC 3550 A.8), by call type',
      labelNames: ['type'] as const,
      buckets: JITTER_BUCKETS,
      registers: [registry],
    });
  }

  /** An anchored call started: its counters are read at every scrape from now on. */
  track(call: object, type: string, read: () => AnchoredLegQuality[]): void {
    this.#live.set(call, { type, read });
  }

  /** The call ended: its final counters stay in the totals, and each leg's quality is observed once. */
  end(call: object): void {
    const tracked = this.#live.get(call);
    if (!tracked) return;
    this.#live.delete(call);
    const legs = tracked.read();
    for (const leg of legs) {
      this.#addPackets(this.#endedPackets, tracked.type, leg);
      // Legs that never had media forwarded say nothing about quality.
      if (leg.lost === undefined || leg.jitterMs === undefined || leg.packetsIn === 0) continue;
      this.lost.inc({ type: tracked.type }, leg.lost);
      this.lossRatio.observe({ type: tracked.type }, leg.lost / (leg.lost + leg.packetsIn));
      this.jitterSeconds.observe({ type: tracked.type }, leg.jitterMs / 1000);
    }
  }

  #packetTotals(): Map<string, number> {
    const totals = new Map(this.#endedPackets);
    for (const { type, read } of this.#live.values()) {
      for (const leg of read()) this.#addPackets(totals, type, leg);
    }
    return totals;
  }

  #addPackets(totals: Map<string, number>, type: string, leg: AnchoredLegQuality): void {
    const add = (direction: Direction, packets: number) => {
      const key = `${type}\0${direction}`;
      totals.set(key, (totals.get(key) ?? 0) + packets);
    };
    add('in', leg.packetsIn);
    add('out', leg.packetsOut);
  }
}
