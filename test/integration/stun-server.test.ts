import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/logging/logger.js';
import {
  StunAttr,
  StunMethod,
  decodeStunMessage,
  encodeStunMessage,
  type StunMessage,
} from '../../src/ice/stun-message.js';
import { StunServer } from '../../src/ice/stun-server.js';

/**
 * The `stun` package ships no type declarations; this is the part of its
 * API (readme: request(), decode(), StunResponse getters) these tests use.
 */
interface StunPackage {
  request(
    url: string,
    options: { socket?: Socket; timeout?: number; retries?: number },
  ): Promise<{
    transactionId: Buffer;
    getXorAddress(): { address: string; port: number; family: string } | undefined;
    getAddress(): { address: string; port: number; family: string } | undefined;
    getSoftware(): string | undefined;
  }>;
  decode(message: Buffer): {
    getUnknownAttributes(): number[] | undefined;
  };
}

const stun = createRequire(import.meta.url)('stun') as StunPackage;

const TEST_TIMEOUT_MS = 5_000;

async function openClient(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

async function closeClient(socket: Socket): Promise<void> {
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}

/** Sends one datagram and resolves with the first reply, or undefined after `waitMs`. */
async function exchange(socket: Socket, port: number, packet: Buffer, waitMs = 1_000): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      resolve(undefined);
    }, waitMs);
    const onMessage = (reply: Buffer): void => {
      clearTimeout(timer);
      resolve(reply);
    };
    socket.once('message', onMessage);
    socket.send(packet, port, '127.0.0.1', (err) => {
      if (err) {
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

/**
 * Reads ERROR-CODE by hand from RFC 5389 section 15.6 (class * 100 + number).
 * The `stun` package's decoder computes class * (number + 100), which turns
 * 420 into 480, so it cannot serve as the independent reader here.
 */
function errorCodeOf(msg: StunMessage): { code: number; reason: string } | undefined {
  const value = msg.attributes.find((a) => a.type === StunAttr.errorCode)?.value;
  if (!value || value.length < 4) return undefined;
  return { code: (value.readUInt8(2) & 0x07) * 100 + value.readUInt8(3), reason: value.subarray(4).toString('utf8') };
}

function bindingRequest(attributes: StunMessage['attributes'] = []): StunMessage {
  return { method: StunMethod.binding, cls: 'request', transactionId: randomBytes(12), attributes };
}

/**
 * node-datachannel 0.33.4 segfaults or aborts when V8 collects a
 * DataChannel wrapper before cleanup(), even a closed one (reproduced with
 * --expose-gc, about one run in two without it). Native objects are therefore
 * kept reachable here until afterAll has called cleanup().
 */
const nativeObjects: (DataChannel | PeerConnection)[] = [];

describe('StunServer', () => {
  let server: StunServer;
  let port: number;

  beforeAll(async () => {
    server = new StunServer({ host: '127.0.0.1', port: 0, logger: createSilentLogger(), software: 'switchboard-test' });
    ({ port } = await server.start());
  });

  afterAll(async () => {
    await server.close();
    nodeDataChannel.cleanup();
    nativeObjects.length = 0;
  });

  it('reports its bound address', () => {
    expect(port).toBeGreaterThan(0);
  });

  it(
    'answers the independent `stun` client with its own address',
    async () => {
      const socket = await openClient();
      try {
        const response = await stun.request(`127.0.0.1:${port}`, { socket, timeout: 200, retries: 3 });
        const local = socket.address();
        expect(response.getXorAddress()).toMatchObject({ address: '127.0.0.1', port: local.port });
        expect(response.getAddress()).toMatchObject({ address: '127.0.0.1', port: local.port });
        expect(response.getSoftware()).toBe('switchboard-test');
      } finally {
        await closeClient(socket);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'gives node-datachannel (libjuice) a server-reflexive candidate',
    async () => {
      const pc = new nodeDataChannel.PeerConnection('stun-test', {
        iceServers: [`stun:127.0.0.1:${port}`],
        bindAddress: '127.0.0.1',
        enableIceUdpMux: false,
      });
      nativeObjects.push(pc);
      let closeChannel = (): void => {};
      try {
        const candidates: string[] = [];
        const complete = new Promise<void>((resolve) => {
          pc.onLocalCandidate((candidate) => candidates.push(candidate));
          pc.onGatheringStateChange((state) => {
            if (state === 'complete') resolve();
          });
        });
        const requestsBefore = server.stats.requests;
        const channel = pc.createDataChannel('trigger-gathering');
        nativeObjects.push(channel);
        closeChannel = () => channel.close();
        await complete;
        expect(server.stats.requests).toBeGreaterThan(requestsBefore);
        // Address and port are fields 5 and 6 of the RFC 8839 candidate grammar.
        const endpoint = (c: string): string => c.split(' ').slice(4, 6).join(':');
        const host = candidates.find((c) => / typ host( |$)/.test(c));
        const srflx = candidates.find((c) => / typ srflx( |$)/.test(c));
        expect(srflx, candidates.join('\n')).toBeDefined();
        // On loopback there is no NAT, so the reflexive address is the host
        // candidate's own; libjuice still reports it rather than pruning it
        // as redundant (RFC 8445 section 5.1.3).
        expect(endpoint(srflx ?? '')).toBe(endpoint(host ?? ''));
        expect(endpoint(srflx ?? '')).toMatch(/^127\.0\.0\.1:\d+$/);
      } finally {
        closeChannel();
        pc.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'drops garbage and truncated packets and keeps answering',
    async () => {
      const socket = await openClient();
      try {
        const before = server.stats;
        expect(await exchange(socket, port, Buffer.from('definitely not STUN'), 200)).toBeUndefined();
        const truncated = encodeStunMessage(bindingRequest(), { fingerprint: true }).subarray(0, 24);
        expect(await exchange(socket, port, truncated, 200)).toBeUndefined();
        const indication = encodeStunMessage({ ...bindingRequest(), cls: 'indication' });
        expect(await exchange(socket, port, indication, 200)).toBeUndefined();
        expect(server.stats.dropped).toBe(before.dropped + 3);
        expect(server.stats.requests).toBe(before.requests);

        const request = bindingRequest();
        const reply = await exchange(socket, port, encodeStunMessage(request));
        expect(reply).toBeDefined();
        const response = decodeStunMessage(reply ?? Buffer.alloc(0));
        expect(response.cls).toBe('success');
        expect(response.transactionId.equals(request.transactionId)).toBe(true);
        // FINGERPRINT is last, and decodeStunMessage has verified it.
        expect(response.attributes.at(-1)?.type).toBe(StunAttr.fingerprint);
        expect(server.stats).toMatchObject({ requests: before.requests + 1, responses: before.responses + 1 });
      } finally {
        await closeClient(socket);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers an unknown comprehension-required attribute with 420 and UNKNOWN-ATTRIBUTES',
    async () => {
      const socket = await openClient();
      try {
        const request = bindingRequest([
          { type: 0x7f01, value: Buffer.from('?') },
          // Comprehension-optional attributes are ignored (RFC 5389 section 15).
          { type: 0xc001, value: Buffer.from('ignored') },
        ]);
        const reply = await exchange(socket, port, encodeStunMessage(request, { fingerprint: true }));
        expect(reply).toBeDefined();
        const raw = reply ?? Buffer.alloc(0);
        const response = decodeStunMessage(raw);
        expect(response.cls).toBe('error');
        expect(response.method).toBe(StunMethod.binding);
        expect(response.transactionId.equals(request.transactionId)).toBe(true);
        expect(errorCodeOf(response)).toEqual({ code: 420, reason: 'Unknown Attribute' });
        // UNKNOWN-ATTRIBUTES read back with the independent decoder.
        expect(stun.decode(raw).getUnknownAttributes()).toEqual([0x7f01]);
      } finally {
        await closeClient(socket);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers a request for another method with 400',
    async () => {
      const socket = await openClient();
      try {
        const request: StunMessage = { ...bindingRequest(), method: 0x003 };
        const reply = await exchange(socket, port, encodeStunMessage(request));
        expect(reply).toBeDefined();
        const response = decodeStunMessage(reply ?? Buffer.alloc(0));
        expect(response).toMatchObject({ method: 0x003, cls: 'error' });
        expect(response.transactionId.equals(request.transactionId)).toBe(true);
        expect(errorCodeOf(response)).toEqual({ code: 400, reason: 'Bad Request' });
      } finally {
        await closeClient(socket);
      }
    },
    TEST_TIMEOUT_MS,
  );
});

describe('StunServer lifecycle', () => {
  it(
    'closes idempotently, also when never started',
    async () => {
      const unstarted = new StunServer({ host: '127.0.0.1', port: 0, logger: createSilentLogger() });
      await unstarted.close();
      const started = new StunServer({ host: '127.0.0.1', port: 0, logger: createSilentLogger() });
      await started.start();
      await Promise.all([started.close(), started.close()]);
      await started.close();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'rejects start() when the port is taken',
    async () => {
      const first = new StunServer({ host: '127.0.0.1', port: 0, logger: createSilentLogger() });
      const { port } = await first.start();
      try {
        const second = new StunServer({ host: '127.0.0.1', port, logger: createSilentLogger() });
        await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
        await second.close();
      } finally {
        await first.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
