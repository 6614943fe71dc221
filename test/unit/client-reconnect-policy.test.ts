import { describe, expect, it } from 'vitest';
import { ReconnectPolicy } from '../../src/client/reconnect-policy.js';

describe('the SDK reconnect policy', () => {
  it('backs off exponentially, each wait between half and all of its step, up to the cap', () => {
    const low = new ReconnectPolicy({ initialDelayMs: 500, maxDelayMs: 4000 }, () => 0);
    const high = new ReconnectPolicy({ initialDelayMs: 500, maxDelayMs: 4000 }, () => 1);
    expect(Array.from({ length: 6 }, () => low.nextDelay())).toEqual([250, 500, 1000, 2000, 2000, 2000]);
    expect(Array.from({ length: 6 }, () => high.nextDelay())).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
  });

  it('spreads clients that lost the same node: different waits for the same attempt', () => {
    const waits = new Set(Array.from({ length: 50 }, () => new ReconnectPolicy({ initialDelayMs: 1000 }).nextDelay()));
    expect(waits.size).toBeGreaterThan(10);
    for (const wait of waits) expect(wait).toBeGreaterThanOrEqual(500);
  });

  it('starts over after a success and gives up after maxAttempts', () => {
    const policy = new ReconnectPolicy({ initialDelayMs: 100, maxAttempts: 2 }, () => 1);
    expect(policy.nextDelay()).toBe(100);
    expect(policy.nextDelay()).toBe(200);
    expect(policy.nextDelay()).toBeUndefined();
    policy.reset();
    expect(policy.nextDelay()).toBe(100);
  });

  it('never comes back after a close by the client, for abuse, or because the user logged in elsewhere', () => {
    const policy = new ReconnectPolicy();
    for (const code of [1000, 1008, 4001]) expect(policy.shouldReconnect(code)).toBe(false);
    for (const code of [1001, 1006, 1011, 4000]) expect(policy.shouldReconnect(code)).toBe(true);
    for (const code of ['name-taken', 'unavailable', 'connection-closed', 'timeout']) expect(policy.shouldRetryLogin(code)).toBe(true);
    for (const code of ['auth-failed', 'anonymous-disabled']) expect(policy.shouldRetryLogin(code)).toBe(false);
  });
});
