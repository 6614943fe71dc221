import { describe, expect, it } from 'vitest';
import { orderSrvRecords } from '../../../adapters/sip/transport/srv-order.js';

// RFC 2782 "Usage rules": priority first, then a weighted random pick within a priority.

const srv = (name: string, priority: number, weight: number) => ({ name, port: 5060, priority, weight });

/** A random source that returns the given values in turn. */
function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length]!;
}

describe('orderSrvRecords (RFC 2782)', () => {
  it('lower priority values come first whatever the weights', () => {
    const ordered = orderSrvRecords([srv('c', 30, 100), srv('a', 10, 0), srv('b', 20, 50)], sequence(0.5));
    expect(ordered.map((record) => record.name)).toEqual(['a', 'b', 'c']);
  });

  it('within a priority, the draw against running weight sums picks the order', () => {
    const records = [srv('heavy', 10, 60), srv('light', 10, 20), srv('mid', 10, 20)];
    // Sum 100, draws are integers 0..100: running sums are heavy 60, light 80, mid 100.
    expect(orderSrvRecords(records, sequence(0.1, 0)).map((r) => r.name)).toEqual(['heavy', 'light', 'mid']);
    // 0.7 * 101 = 70 -> light (60 < 70 <= 80); then sum 80 over heavy 60, mid 80: 0.9 * 81 = 72 -> mid.
    expect(orderSrvRecords(records, sequence(0.7, 0.9, 0)).map((r) => r.name)).toEqual(['light', 'mid', 'heavy']);
    // 0.99 * 101 = 99 -> mid.
    expect(orderSrvRecords(records, sequence(0.99, 0)).map((r) => r.name)).toEqual(['mid', 'heavy', 'light']);
  });

  it('weight-0 records go first in the list, so only a draw of 0 picks them while others weigh', () => {
    const records = [srv('weighted', 10, 10), srv('zero', 10, 0)];
    expect(orderSrvRecords(records, sequence(0)).map((r) => r.name)).toEqual(['zero', 'weighted']);
    expect(orderSrvRecords(records, sequence(0.5)).map((r) => r.name)).toEqual(['weighted', 'zero']);
  });

  it('over many draws, each target leads about as often as its share of the weight', () => {
    const records = [srv('a', 1, 75), srv('b', 1, 25)];
    let seed = 42;
    // A small deterministic generator (Park-Miller), so the count is the same on every run.
    const random = () => ((seed = (seed * 48271) % 2147483647) - 1) / 2147483646;
    let aFirst = 0;
    for (let i = 0; i < 4000; i++) if (orderSrvRecords(records, random)[0]!.name === 'a') aFirst++;
    expect(aFirst / 4000).toBeGreaterThan(0.72);
    expect(aFirst / 4000).toBeLessThan(0.78);
  });

  it('a target of "." (service decidedly not available) is dropped, and nothing is lost or repeated', () => {
    const records = [srv('.', 0, 0), srv('x', 5, 1), srv('y', 5, 1), srv('z', 6, 0)];
    const ordered = orderSrvRecords(records, Math.random);
    expect(ordered).toHaveLength(3);
    expect(new Set(ordered.map((r) => r.name))).toEqual(new Set(['x', 'y', 'z']));
    expect(ordered[2]!.name).toBe('z');
  });
});
