import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load-config.js';
import { portSlice, workerConfig } from '../../src/cluster/worker-config.js';

describe('worker configuration (switchboard --workers N)', () => {
  it('cuts port ranges into equal even slices that do not overlap', () => {
    expect(portSlice(20000, 29999, 0, 2)).toEqual({ min: 20000, max: 24999 });
    expect(portSlice(20000, 29999, 1, 2)).toEqual({ min: 25000, max: 29999 });
    const slices = [0, 1, 2].map((i) => portSlice(20000, 20199, i, 3));
    expect(slices).toEqual([
      { min: 20000, max: 20065 },
      { min: 20066, max: 20131 },
      { min: 20132, max: 20197 },
    ]);
    for (const slice of slices) expect((slice.max - slice.min + 1) % 2).toBe(0);
    expect(() => portSlice(20000, 20002, 0, 4)).toThrow(/too small/);
  });

  it('gives each worker its SIP port, media slices and node id; HTTP and STUN stay shared', () => {
    const config = validateConfig({
      directory: { kind: 'redis' },
      cluster: { workers: 2, nodeId: 'host1' },
      sip: { port: 5060, tls: { port: 5061, certFile: 'c', keyFile: 'k' } },
      media: { icePortMin: 30000, icePortMax: 30999 },
    });
    const second = workerConfig(config, 1, 2, 'host1');
    expect(second.cluster.nodeId).toBe('host1-w1');
    expect(second.sip.port).toBe(5062);
    expect(second.sip.tls?.port).toBe(5063);
    expect(second.media).toMatchObject({ rtpPortMin: 25000, rtpPortMax: 29999, icePortMin: 30500, icePortMax: 30999 });
    expect(second.server.port).toBe(config.server.port);
    expect(second.stun.port).toBe(config.stun.port);
    // The original is left as it was.
    expect(config.sip.port).toBe(5060);
  });

  it('gives each worker a mux port of its own (a UDP port is one process\'s)', () => {
    const config = validateConfig({ directory: { kind: 'redis' }, cluster: { workers: 3 }, media: { iceUdpMux: { port: 40000 } } });
    expect([0, 1, 2].map((i) => workerConfig(config, i, 3, 'h').media.iceUdpMux)).toEqual([{ port: 40000 }, { port: 40001 }, { port: 40002 }]);
  });

  it('refuses workers without the Redis directory', () => {
    expect(() => validateConfig({ cluster: { workers: 2 } })).toThrow(/cluster\.workers: cluster\.workers above 1 needs directory\.kind: redis/);
  });
});
