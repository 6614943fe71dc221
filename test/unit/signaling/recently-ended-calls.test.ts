import { describe, expect, it } from 'vitest';
import { RecentlyEndedCalls } from '../../../src/signaling/recently-ended-calls.js';

describe('RecentlyEndedCalls', () => {
  it('remembers a call for the grace period only', () => {
    let now = 1000;
    const recent = new RecentlyEndedCalls(4, 10_000, () => now);
    recent.add('a');
    expect(recent.has('a')).toBe(true);
    now += 10_000;
    expect(recent.has('a')).toBe(true);
    now += 1;
    expect(recent.has('a')).toBe(false);
    expect(recent.size).toBe(0);
    expect(recent.has('never')).toBe(false);
  });

  it('holds at most `capacity` ids, forgetting the oldest first', () => {
    const recent = new RecentlyEndedCalls(3, 10_000, () => 0);
    for (const id of ['a', 'b', 'c', 'd', 'e']) recent.add(id);
    expect(recent.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((id) => recent.has(id))).toEqual([false, false, true, true, true]);
  });
});
