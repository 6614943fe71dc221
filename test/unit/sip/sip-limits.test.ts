import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultMaxConnections, readOpenFileLimit } from '../../../src/ops/open-file-limit.js';
import { SourceRateLimiter } from '../../../adapters/sip/transport/source-rate-limiter.js';
import { InboundConnectionLimiter } from '../../../adapters/sip/transport/connection-limiter.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('the default connection cap', () => {
  const limits = (soft: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    const file = join(dir, 'limits');
    writeFileSync(file, ['Limit                     Soft Limit           Hard Limit           Units', 'Max cpu time              unlimited            unlimited            seconds', `Max open files            ${soft}                 1048576              files`, ''].join('\n'));
    const value = readOpenFileLimit(file);
    rmSync(dir, { recursive: true, force: true });
    return value;
  };

  it('reads the soft open-file limit the way Linux writes /proc/self/limits', () => {
    expect(limits('1024')).toBe(1024);
    expect(limits('unlimited')).toBe(Infinity);
    expect(readOpenFileLimit('/nonexistent/limits')).toBeUndefined();
    expect(readOpenFileLimit('/proc/self/limits')).toBeGreaterThan(0);
  });

  it('is a quarter of it, between 16 and 10,000, and 256 when it cannot be read', () => {
    expect(defaultMaxConnections(1024)).toBe(256);
    expect(defaultMaxConnections(256)).toBe(64);
    expect(defaultMaxConnections(32)).toBe(16);
    expect(defaultMaxConnections(Infinity)).toBe(10_000);
    expect(defaultMaxConnections(undefined)).toBe(256);
  });
});

describe('InboundConnectionLimiter', () => {
  it('refuses past the source share and the total, and frees places on release', () => {
    const limiter = new InboundConnectionLimiter({ maxConnections: 3, maxConnectionsPerSource: 2 });
    const first = limiter.admit('192.0.2.1');
    expect(typeof first).toBe('object');
    expect(typeof limiter.admit('::ffff:192.0.2.1')).toBe('object');
    expect(limiter.admit('192.0.2.1')).toBe('per-source');
    // One IPv6 /64 is one source.
    expect(typeof limiter.admit('2001:db8::1')).toBe('object');
    expect(limiter.admit('2001:db8::2')).toBe('total');
    if (typeof first === 'object') {
      first.release();
      first.release();
    }
    expect(limiter.open).toBe(2);
    expect(typeof limiter.admit('2001:db8::2')).toBe('object');
    expect(limiter.admit('198.51.100.1')).toBe('total');
  });
});

describe('SourceRateLimiter', () => {
  it('gives each source its own bucket under a global ceiling, and spends nothing on a refusal', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const limiter = new SourceRateLimiter({ perSource: 2, total: 3 });
    expect([limiter.take('192.0.2.1'), limiter.take('192.0.2.1'), limiter.take('192.0.2.1')]).toEqual([true, true, false]);
    // A second source has its own two, but the total allows one more only.
    expect([limiter.take('192.0.2.2'), limiter.take('192.0.2.2')]).toEqual([true, false]);
    vi.advanceTimersByTime(500);
    // Half a second refills one token per source and 1.5 in total.
    expect([limiter.take('192.0.2.2'), limiter.take('192.0.2.1')]).toEqual([true, false]);
    vi.advanceTimersByTime(1000);
    expect(limiter.take('192.0.2.1')).toBe(true);
  });

  it('lets a rate below one per second through now and then', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const limiter = new SourceRateLimiter({ perSource: 0.5, total: 100 });
    expect([limiter.take('192.0.2.1'), limiter.take('192.0.2.1')]).toEqual([true, false]);
    vi.advanceTimersByTime(2000);
    expect(limiter.take('192.0.2.1')).toBe(true);
  });

  it('keeps state for a bounded number of sources and forgets full buckets', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const limiter = new SourceRateLimiter({ perSource: 1, total: 1_000_000, maxSources: 100 });
    for (let index = 0; index < 1000; index++) limiter.take(`10.0.${index >> 8}.${index & 255}`);
    expect(limiter.trackedSources).toBe(100);
    vi.advanceTimersByTime(5000);
    expect(limiter.trackedSources).toBe(0);
  });
});
