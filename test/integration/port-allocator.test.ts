import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PortAllocator, PortRangeExhaustedError, type BoundPortPair } from '../../src/media/port-allocator.js';

const HOST = '127.0.0.1';
const TEST_TIMEOUT_MS = 5_000;

async function bindSocket(port: number): Promise<Socket | undefined> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(undefined));
    socket.bind(port, HOST, () => resolve(socket));
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/**
 * An even port with `size` free ports from it, below Linux's ephemeral range
 * (32768+) so that sockets bound to port 0 elsewhere do not wander into it.
 */
async function freeRange(size: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 2 * randomInt(10_000, 16_000);
    const sockets = await Promise.all(Array.from({ length: size }, (_, i) => bindSocket(base + i)));
    await Promise.all(sockets.map((s) => (s ? closeSocket(s) : undefined)));
    if (sockets.every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}

const opened: Socket[] = [];
async function occupy(port: number): Promise<void> {
  const socket = await bindSocket(port);
  if (!socket) throw new Error(`port ${port} was taken meanwhile`);
  opened.push(socket);
}

async function releasePair(allocator: PortAllocator, pair: BoundPortPair): Promise<void> {
  await Promise.all([closeSocket(pair.rtp), closeSocket(pair.rtcp)]);
  allocator.release(pair.port);
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map(closeSocket));
});

describe('PortAllocator', () => {
  it('binds RTP on an even port and RTCP on the next one (RFC 3550 section 11)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const base = await freeRange(4);
    // An odd lower bound: the first pair starts at the next even port.
    const allocator = new PortAllocator({ min: base - 1, max: base + 3 });
    const pair = await allocator.bindPair(HOST);
    opened.push(pair.rtp, pair.rtcp);
    expect(pair.port % 2).toBe(0);
    expect(pair.rtp.address()).toMatchObject({ address: HOST, port: pair.port, family: 'IPv4' });
    expect(pair.rtcp.address()).toMatchObject({ address: HOST, port: pair.port + 1 });
    expect(allocator.inUse).toBe(1);
  });

  it('skips pairs another program holds, RTP or RTCP side', { timeout: TEST_TIMEOUT_MS }, async () => {
    const base = await freeRange(6);
    await occupy(base); // RTP of the first pair
    await occupy(base + 3); // RTCP of the second pair
    const allocator = new PortAllocator({ min: base, max: base + 5 });
    const pair = await allocator.bindPair(HOST);
    opened.push(pair.rtp, pair.rtcp);
    expect(pair.port).toBe(base + 4);
    // The RTP socket bound on the half-free pair was closed again: the port is free.
    const probe = await bindSocket(base + 2);
    expect(probe).toBeDefined();
    await closeSocket(probe!);
  });

  it('throws PortRangeExhaustedError when every pair is taken, and recovers on release', { timeout: TEST_TIMEOUT_MS }, async () => {
    const base = await freeRange(4);
    const allocator = new PortAllocator({ min: base, max: base + 3 });
    const first = await allocator.bindPair(HOST);
    const second = await allocator.bindPair(HOST);
    expect([first.port, second.port].sort()).toEqual([base, base + 2]);

    const error = await allocator.bindPair(HOST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortRangeExhaustedError);
    expect((error as PortRangeExhaustedError).code).toBe('ports-exhausted');
    expect(allocator.inUse).toBe(2);

    await releasePair(allocator, first);
    expect(allocator.inUse).toBe(1);
    const again = await allocator.bindPair(HOST);
    expect(again.port).toBe(first.port);
    await releasePair(allocator, again);
    await releasePair(allocator, second);
    expect(allocator.inUse).toBe(0);
  });

  it('is exhausted when outsiders hold the whole range', { timeout: TEST_TIMEOUT_MS }, async () => {
    const base = await freeRange(2);
    await occupy(base + 1);
    const allocator = new PortAllocator({ min: base, max: base + 1 });
    await expect(allocator.bindPair(HOST)).rejects.toBeInstanceOf(PortRangeExhaustedError);
    expect(allocator.inUse).toBe(0);
  });

  it('rotates through the range instead of reusing a just-released port', { timeout: TEST_TIMEOUT_MS }, async () => {
    const base = await freeRange(6);
    const allocator = new PortAllocator({ min: base, max: base + 5 });
    const first = await allocator.bindPair(HOST);
    await releasePair(allocator, first);
    const second = await allocator.bindPair(HOST);
    await releasePair(allocator, second);
    const third = await allocator.bindPair(HOST);
    await releasePair(allocator, third);
    const fourth = await allocator.bindPair(HOST);
    await releasePair(allocator, fourth);
    expect([first.port, second.port, third.port, fourth.port]).toEqual([base, base + 2, base + 4, base]);
  });

  it('hands concurrent callers different pairs', { timeout: TEST_TIMEOUT_MS }, async () => {
    const base = await freeRange(8);
    const allocator = new PortAllocator({ min: base, max: base + 7 });
    const pairs = await Promise.all([allocator.bindPair(HOST), allocator.bindPair(HOST), allocator.bindPair(HOST)]);
    opened.push(...pairs.flatMap((p) => [p.rtp, p.rtcp]));
    expect(new Set(pairs.map((p) => p.port)).size).toBe(3);
  });

  it('rejects ranges without an even/odd pair', () => {
    expect(() => new PortAllocator({ min: 20001, max: 20002 })).toThrow(RangeError);
    expect(() => new PortAllocator({ min: 30000, max: 20000 })).toThrow(RangeError);
    expect(() => new PortAllocator({ min: 0, max: 10 })).toThrow(RangeError);
    expect(() => new PortAllocator({ min: 65534, max: 65536 })).toThrow(RangeError);
  });
});
