import { createSocket, type Socket } from 'node:dgram';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createSilentLogger } from '../../src/logging/logger.js';
import {
  decodeStunMessage,
  decodeXorMappedAddress,
  encodeStunMessage,
  encodeXorMappedAddress,
  isStunMessage,
  StunAttr,
  StunDecodeError,
  StunMethod,
  type StunMessage,
} from '../../src/ice/stun-message.js';
import { StunServer } from '../../src/ice/stun-server.js';
import { fuzzAsyncProperty, fuzzProperty, typedOutcome } from './fuzz-runs.js';
import { count } from './text-mutations.js';

// STUN (RFC 5389) as the embedded responder decodes it: anything that reaches its UDP port.

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** RFC 5769 sections 2.1 to 2.3: request, IPv4 response, IPv6 response (also in test/unit/ice). */
const RFC5769 = [
  hex(`00010058 2112a442 b7e7a701 bc34d686 fa87dfae 80220010 5354554e 20746573 7420636c 69656e74 00240004 6e0001ff
       80290008 932ff9b1 51263b36 00060009 6576746a 3a683676 59202020 00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249
       c1b571a2 80280004 e57a3bcf`),
  hex(`0101003c 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220 00200008 0001a147 e112a643
       00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7 80280004 c07d4c96`),
  hex(`01010048 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220 00200014 0002a147 0113a9fa
       a5d3f179 bc25f4b5 bed2b9d9 00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41 80280004 c8fb0b4c`),
];

const transactionId = fc.uint8Array({ minLength: 12, maxLength: 12 }).map((bytes) => Buffer.from(bytes));
const attribute = fc.record({
  type: fc.oneof(fc.constantFrom(...Object.values(StunAttr).filter((type) => type !== StunAttr.fingerprint)), fc.integer({ min: 0, max: 0xffff }).filter((type) => type !== StunAttr.fingerprint)),
  value: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
}).map(({ type, value }) => ({ type, value })); // a plain object, as decoding makes (fc.record's have no prototype)
const message: fc.Arbitrary<StunMessage> = fc.record({
  method: fc.oneof(fc.constant(StunMethod.binding), fc.integer({ min: 0, max: 0x0fff })),
  cls: fc.constantFrom<StunMessage['cls']>('request', 'indication', 'success', 'error'),
  transactionId,
  // Attributes after MESSAGE-INTEGRITY are dropped on decoding (RFC 5389 section 15.4), so none is generated.
  attributes: fc.array(attribute.filter((a) => a.type !== StunAttr.messageIntegrity), { maxLength: 8 }),
});
const encoded = fc.tuple(message, fc.boolean()).map(([msg, fingerprint]) => encodeStunMessage(msg, { fingerprint }));

/** Byte mutations of a STUN message; `fix` rewrites the header length so decoding gets past it. */
type ByteMutation =
  | { kind: 'set-byte'; at: number; value: number }
  | { kind: 'set-u16'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'repeat'; at: number; length: number; times: number };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('set-byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('set-u16' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 3, 4, 8, 20, 0x7fff, 0xfffc, 0xffff) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 24 }), times: count }),
);

function mutate(packet: Buffer, mutations: readonly ByteMutation[], fix: boolean): Buffer {
  let bytes = Buffer.from(packet);
  for (const m of mutations) {
    const at = (n: number) => n % Math.max(bytes.length, 1);
    if (m.kind === 'set-byte' && bytes.length > 0) bytes[at(m.at)] = m.value;
    else if (m.kind === 'set-u16' && bytes.length >= 2) bytes.writeUInt16BE(m.value, Math.min(at(m.at), bytes.length - 2));
    else if (m.kind === 'truncate') bytes = bytes.subarray(0, at(m.at));
    else if (m.kind === 'append') bytes = Buffer.concat([bytes, m.bytes]);
    else if (m.kind === 'repeat' && bytes.length > 0) {
      const start = at(m.at);
      const slice = bytes.subarray(start, start + m.length);
      bytes = Buffer.concat([bytes.subarray(0, start), ...Array<Buffer>(Math.min(m.times, 2000)).fill(slice), bytes.subarray(start + slice.length)]);
    }
  }
  if (fix && bytes.length >= 20 && bytes.length - 20 <= 0xffff) bytes.writeUInt16BE(bytes.length - 20, 2);
  return bytes;
}

const damaged = fc
  .tuple(fc.oneof(fc.constantFrom(...RFC5769), encoded), fc.array(byteMutation, { maxLength: 5 }), fc.boolean())
  .map(([packet, mutations, fix]) => mutate(packet, mutations, fix));

describe('STUN decoding', () => {
  fuzzProperty('decodeStunMessage throws only StunDecodeError; what it decodes encodes back to the same message', 3000, () =>
    fc.property(damaged, (packet) => {
      expect(typeof isStunMessage(packet)).toBe('boolean');
      const decoded = typedOutcome(() => decodeStunMessage(packet), StunDecodeError);
      if (!('value' in decoded)) return;
      expect(isStunMessage(packet)).toBe(true);
      const msg = decoded.value;
      expect(msg.transactionId).toHaveLength(12);
      const fingerprint = msg.attributes.some((a) => a.type === StunAttr.fingerprint);
      const again = decodeStunMessage(encodeStunMessage(msg, { fingerprint }));
      const withoutFingerprint = (m: StunMessage) => ({ ...m, attributes: m.attributes.filter((a) => a.type !== StunAttr.fingerprint) });
      expect(withoutFingerprint(again)).toStrictEqual(withoutFingerprint(msg));
    }),
  );

  fuzzProperty('a generated message round-trips through encode and decode, with or without FINGERPRINT', 1000, () =>
    fc.property(message, fc.boolean(), (msg, fingerprint) => {
      const packet = encodeStunMessage(msg, { fingerprint });
      expect(isStunMessage(packet)).toBe(true);
      const decoded = decodeStunMessage(packet);
      expect(decoded.attributes.filter((a) => a.type !== StunAttr.fingerprint)).toStrictEqual(msg.attributes);
      expect({ method: decoded.method, cls: decoded.cls, transactionId: decoded.transactionId }).toStrictEqual({ method: msg.method, cls: msg.cls, transactionId: msg.transactionId });
    }),
  );

  fuzzProperty('XOR-MAPPED-ADDRESS: any value decodes or throws StunDecodeError; an encoded address decodes to itself', 1000, () =>
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 65535 }), transactionId, fc.uint8Array({ maxLength: 24 }), (address, port, tid, junk) => {
      typedOutcome(() => decodeXorMappedAddress(Buffer.from(junk), tid), StunDecodeError);
      const value = encodeXorMappedAddress(address, port, tid);
      const decoded = decodeXorMappedAddress(value, tid);
      expect(decoded.port).toBe(port);
      // RFC 5952 text may differ from the generated text; the bytes on the wire may not.
      expect(encodeXorMappedAddress(decoded.address, decoded.port, tid)).toStrictEqual(value);
    }),
  );
});

describe('the STUN responder on loopback', () => {
  let server: StunServer;
  let port: number;
  let client: Socket;

  beforeAll(async () => {
    server = new StunServer({ host: '127.0.0.1', port: 0, logger: createSilentLogger() });
    port = (await server.start()).port;
    client = createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => client.close(() => resolve()));
    await server.close();
  });

  function reply(packet: Buffer, tid: Buffer, waitMs: number): Promise<StunMessage | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        client.off('message', onMessage);
        resolve(undefined);
      }, waitMs);
      const onMessage = (data: Buffer) => {
        const decoded = decodeStunMessage(data);
        if (!decoded.transactionId.equals(tid)) return;
        clearTimeout(timer);
        client.off('message', onMessage);
        resolve(decoded);
      };
      client.on('message', onMessage);
      client.send(packet, port, '127.0.0.1');
    });
  }

  fuzzAsyncProperty('answers a Binding request with the client address after any damaged packets', 60, () =>
    fc.asyncProperty(fc.array(damaged, { minLength: 1, maxLength: 5 }), transactionId, async (packets, tid) => {
      for (const packet of packets) client.send(packet, port, '127.0.0.1');
      const request = encodeStunMessage({ method: StunMethod.binding, cls: 'request', transactionId: tid, attributes: [] }, { fingerprint: true });
      const response = await reply(request, tid, 2_000);
      expect(response?.cls).toBe('success');
      const mapped = response!.attributes.find((a) => a.type === StunAttr.xorMappedAddress)!;
      expect(decodeXorMappedAddress(mapped.value, tid)).toStrictEqual({ address: '127.0.0.1', port: client.address().port, family: 4 });
    }),
  );
});
