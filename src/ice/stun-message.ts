import { isIPv4, isIPv6 } from 'node:net';
import { crc32 } from 'node:zlib';

/**
 * STUN message codec (RFC 5389). Pure functions over Buffers: no sockets, no
 * clocks, no randomness, so the responder and the tests share one definition
 * of the wire format.
 */

export interface StunAttribute {
  type: number;
  value: Buffer;
}

export interface StunMessage {
  method: number;
  cls: 'request' | 'indication' | 'success' | 'error';
  /** 96 bits (RFC 5389 section 6). */
  transactionId: Buffer;
  attributes: StunAttribute[];
}

export const StunMethod = { binding: 0x001 } as const;

export const StunAttr = {
  mappedAddress: 0x0001,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  unknownAttributes: 0x000a,
  xorMappedAddress: 0x0020,
  software: 0x8022,
  fingerprint: 0x8028,
} as const;

export const MAGIC_COOKIE = 0x2112a442;

export type StunDecodeErrorCode = 'too-short' | 'not-stun' | 'bad-length' | 'bad-attribute' | 'bad-fingerprint';

export class StunDecodeError extends Error {
  readonly code: StunDecodeErrorCode;

  constructor(code: StunDecodeErrorCode, message: string) {
    super(message);
    this.name = 'StunDecodeError';
    this.code = code;
  }
}

const HEADER_LENGTH = 20;
const ATTRIBUTE_HEADER_LENGTH = 4;
const TRANSACTION_ID_LENGTH = 12;
/** RFC 5389 section 15.5: the CRC is XORed so it differs from the CRC an enclosing protocol might carry. */
const FINGERPRINT_XOR = 0x5354554e;
const FINGERPRINT_LENGTH = 4;

type StunClass = StunMessage['cls'];

/** The two class bits, C1 C0 (RFC 5389 section 6). */
const CLASS_BITS: Record<StunClass, number> = { request: 0b00, indication: 0b01, success: 0b10, error: 0b11 };
const CLASS_BY_BITS: readonly StunClass[] = ['request', 'indication', 'success', 'error'];

/**
 * RFC 5389 section 6, figure 3: the class bits are interleaved with the
 * method bits (C0 at bit 4, C1 at bit 8) so the type stays compatible with
 * RFC 3489's message type values.
 */
function encodeMessageType(method: number, cls: StunClass): number {
  const c = CLASS_BITS[cls];
  return (
    (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((c & 0b01) << 4) | ((c & 0b10) << 7)
  );
}

function decodeMessageType(type: number): { method: number; cls: StunClass } {
  const method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
  const c = ((type >> 4) & 0b01) | ((type >> 7) & 0b10);
  // c is two bits, so the lookup cannot miss.
  return { method, cls: CLASS_BY_BITS[c] as StunClass };
}

/** Attribute values are padded to a multiple of four bytes (RFC 5389 section 15). */
function padded(length: number): number {
  return (length + 3) & ~3;
}

/**
 * Cheap demultiplexing test (RFC 5389 section 7.3 and RFC 7983): STUN shares
 * its port with DTLS, RTP and TURN channel data, and only STUN has the top two
 * bits clear, the magic cookie and a length that accounts for every byte.
 */
export function isStunMessage(buf: Buffer): boolean {
  if (buf.length < HEADER_LENGTH) return false;
  if ((buf.readUInt8(0) & 0xc0) !== 0) return false;
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) return false;
  const length = buf.readUInt16BE(2);
  return length % 4 === 0 && length + HEADER_LENGTH === buf.length;
}

/**
 * Parses a STUN message and checks its FINGERPRINT when present. Attributes
 * are returned undecoded, in wire order, FINGERPRINT included; attributes
 * that follow MESSAGE-INTEGRITY (other than FINGERPRINT) are left out because
 * RFC 5389 section 15.4 requires receivers to ignore them.
 */
export function decodeStunMessage(buf: Buffer): StunMessage {
  if (buf.length < HEADER_LENGTH) {
    throw new StunDecodeError('too-short', `${buf.length} bytes is shorter than a STUN header`);
  }
  if ((buf.readUInt8(0) & 0xc0) !== 0 || buf.readUInt32BE(4) !== MAGIC_COOKIE) {
    throw new StunDecodeError('not-stun', 'first two bits or magic cookie do not match RFC 5389');
  }
  const length = buf.readUInt16BE(2);
  if (length % 4 !== 0 || length + HEADER_LENGTH !== buf.length) {
    throw new StunDecodeError('bad-length', `header length ${length} does not match ${buf.length - HEADER_LENGTH} bytes of body`);
  }

  const { method, cls } = decodeMessageType(buf.readUInt16BE(0));
  const transactionId = Buffer.from(buf.subarray(8, HEADER_LENGTH));
  const attributes: StunAttribute[] = [];
  let afterIntegrity = false;
  let offset = HEADER_LENGTH;

  while (offset < buf.length) {
    if (offset + ATTRIBUTE_HEADER_LENGTH > buf.length) {
      throw new StunDecodeError('bad-attribute', `truncated attribute header at offset ${offset}`);
    }
    const type = buf.readUInt16BE(offset);
    const valueLength = buf.readUInt16BE(offset + 2);
    const valueStart = offset + ATTRIBUTE_HEADER_LENGTH;
    const next = valueStart + padded(valueLength);
    if (next > buf.length) {
      throw new StunDecodeError('bad-attribute', `attribute 0x${type.toString(16)} runs past the end of the message`);
    }
    const value = Buffer.from(buf.subarray(valueStart, valueStart + valueLength));

    if (type === StunAttr.fingerprint) {
      // RFC 5389 section 15.5: FINGERPRINT is always the last attribute.
      if (next !== buf.length) {
        throw new StunDecodeError('bad-attribute', 'FINGERPRINT is not the last attribute');
      }
      if (valueLength !== FINGERPRINT_LENGTH) {
        throw new StunDecodeError('bad-attribute', `FINGERPRINT is ${valueLength} bytes, expected 4`);
      }
      // The CRC covers everything before the attribute, with the header length
      // already counting the FINGERPRINT itself, which is what is on the wire.
      const expected = (crc32(buf.subarray(0, offset)) ^ FINGERPRINT_XOR) >>> 0;
      if (value.readUInt32BE(0) !== expected) {
        throw new StunDecodeError('bad-fingerprint', 'FINGERPRINT does not match the message');
      }
      attributes.push({ type, value });
    } else if (!afterIntegrity) {
      attributes.push({ type, value });
    }
    if (type === StunAttr.messageIntegrity) afterIntegrity = true;
    offset = next;
  }

  return { method, cls, transactionId, attributes };
}

function attributeBytes(type: number, value: Buffer): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0xffff) {
    throw new RangeError(`attribute type ${type} is not a 16-bit value`);
  }
  if (value.length > 0xffff) {
    throw new RangeError(`attribute 0x${type.toString(16)} value is ${value.length} bytes, more than 65535`);
  }
  // Buffer.alloc zero-fills, which gives the zero padding RFC 5389 section 15 asks senders for.
  const out = Buffer.alloc(ATTRIBUTE_HEADER_LENGTH + padded(value.length));
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  value.copy(out, ATTRIBUTE_HEADER_LENGTH);
  return out;
}

/**
 * Serialises a message. With `fingerprint`, any FINGERPRINT in the attribute
 * list is replaced by a freshly computed one appended last (RFC 5389 section
 * 15.5), so re-encoding a decoded message never carries a stale CRC.
 */
export function encodeStunMessage(msg: StunMessage, opts: { fingerprint?: boolean } = {}): Buffer {
  if (!Number.isInteger(msg.method) || msg.method < 0 || msg.method > 0x0fff) {
    throw new RangeError(`method ${msg.method} is not a 12-bit value`);
  }
  if (msg.transactionId.length !== TRANSACTION_ID_LENGTH) {
    throw new RangeError(`transaction id is ${msg.transactionId.length} bytes, expected 12`);
  }
  const attributes = opts.fingerprint ? msg.attributes.filter((a) => a.type !== StunAttr.fingerprint) : msg.attributes;
  const body = attributes.map((a) => attributeBytes(a.type, a.value));
  const bodyLength = body.reduce((sum, b) => sum + b.length, 0);
  const totalBodyLength = bodyLength + (opts.fingerprint ? ATTRIBUTE_HEADER_LENGTH + FINGERPRINT_LENGTH : 0);
  if (totalBodyLength > 0xffff) {
    throw new RangeError(`message body is ${totalBodyLength} bytes, more than the 16-bit length field allows`);
  }

  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt16BE(encodeMessageType(msg.method, msg.cls), 0);
  header.writeUInt16BE(totalBodyLength, 2);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  msg.transactionId.copy(header, 8);
  const unsigned = Buffer.concat([header, ...body]);
  if (!opts.fingerprint) return unsigned;

  const crc = Buffer.alloc(FINGERPRINT_LENGTH);
  crc.writeUInt32BE((crc32(unsigned) ^ FINGERPRINT_XOR) >>> 0, 0);
  return Buffer.concat([unsigned, attributeBytes(StunAttr.fingerprint, crc)]);
}

const FAMILY_IPV4 = 0x01;
const FAMILY_IPV6 = 0x02;

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** Parses a textual IPv6 address (RFC 4291 section 2.2, including the embedded-IPv4 form) into 16 bytes. */
function ipv6Bytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  // Zone identifiers (RFC 6874) are local to this host and have no place on the wire.
  let text = address.split('%')[0] ?? '';
  const groups: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const headGroups = parse(head);
  if (rest === undefined) {
    groups.push(...headGroups);
  } else {
    const restGroups = parse(rest);
    groups.push(...headGroups, ...new Array<number>(8 - headGroups.length - restGroups.length).fill(0), ...restGroups);
  }
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** Formats 16 bytes as the canonical text of RFC 5952 section 4 (lower case, longest zero run compressed). */
function formatIpv6(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    // RFC 5952 section 4.2.2: a single zero group is not compressed; 4.2.3: the first longest run wins.
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function addressBytes(address: string): { family: 4 | 6; bytes: Buffer } {
  if (isIPv4(address)) return { family: 4, bytes: ipv4Bytes(address) };
  if (isIPv6(address.split('%')[0] ?? '')) return { family: 6, bytes: ipv6Bytes(address) };
  throw new TypeError(`${JSON.stringify(address)} is not an IP address`);
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`port ${port} is out of range`);
}

/** MAPPED-ADDRESS (RFC 5389 section 15.1), still read by RFC 3489 clients that predate XOR-MAPPED-ADDRESS. */
export function encodeMappedAddress(address: string, port: number): Buffer {
  checkPort(port);
  const { family, bytes } = addressBytes(address);
  const header = Buffer.alloc(4);
  header.writeUInt8(family === 4 ? FAMILY_IPV4 : FAMILY_IPV6, 1);
  header.writeUInt16BE(port, 2);
  return Buffer.concat([header, bytes]);
}

/**
 * The XOR mask of RFC 5389 section 15.2: the magic cookie for IPv4, the
 * cookie followed by the transaction id for IPv6. XORing keeps NATs that
 * rewrite every copy of their public address in payloads from "fixing" it.
 */
function xorMask(family: 4 | 6, transactionId: Buffer): Buffer {
  if (transactionId.length !== TRANSACTION_ID_LENGTH) {
    throw new RangeError(`transaction id is ${transactionId.length} bytes, expected 12`);
  }
  const cookie = Buffer.alloc(4);
  cookie.writeUInt32BE(MAGIC_COOKIE, 0);
  return family === 4 ? cookie : Buffer.concat([cookie, transactionId]);
}

function xorInto(bytes: Buffer, mask: Buffer): Buffer {
  return Buffer.from(bytes.map((b, i) => b ^ (mask[i] ?? 0)));
}

export function encodeXorMappedAddress(address: string, port: number, transactionId: Buffer): Buffer {
  checkPort(port);
  const { family, bytes } = addressBytes(address);
  const header = Buffer.alloc(4);
  header.writeUInt8(family === 4 ? FAMILY_IPV4 : FAMILY_IPV6, 1);
  header.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 2);
  return Buffer.concat([header, xorInto(bytes, xorMask(family, transactionId))]);
}

/** Throws StunDecodeError('bad-attribute') when the value is not a well-formed IPv4 or IPv6 XOR-MAPPED-ADDRESS. */
export function decodeXorMappedAddress(
  value: Buffer,
  transactionId: Buffer,
): { address: string; port: number; family: 4 | 6 } {
  if (value.length < 4) throw new StunDecodeError('bad-attribute', 'XOR-MAPPED-ADDRESS is too short');
  const familyByte = value.readUInt8(1);
  const family = familyByte === FAMILY_IPV4 ? 4 : familyByte === FAMILY_IPV6 ? 6 : undefined;
  if (family === undefined) {
    throw new StunDecodeError('bad-attribute', `XOR-MAPPED-ADDRESS has unknown family 0x${familyByte.toString(16)}`);
  }
  const expectedLength = family === 4 ? 8 : 20;
  if (value.length !== expectedLength) {
    throw new StunDecodeError('bad-attribute', `IPv${family} XOR-MAPPED-ADDRESS is ${value.length} bytes, expected ${expectedLength}`);
  }
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  const bytes = xorInto(value.subarray(4), xorMask(family, transactionId));
  const address = family === 4 ? Array.from(bytes).join('.') : formatIpv6(bytes);
  return { address, port, family };
}

/**
 * ERROR-CODE (RFC 5389 section 15.6): the hundreds digit and the remainder
 * are carried separately (Class and Number), followed by a UTF-8 reason
 * phrase of fewer than 128 characters.
 */
export function encodeErrorCode(code: number, reason: string): Buffer {
  if (!Number.isInteger(code) || code < 300 || code > 699) {
    throw new RangeError(`error code ${code} is outside 300-699`);
  }
  if ([...reason].length >= 128) throw new RangeError('reason phrase must be fewer than 128 characters');
  const header = Buffer.alloc(4);
  header.writeUInt8(Math.floor(code / 100), 2);
  header.writeUInt8(code % 100, 3);
  return Buffer.concat([header, Buffer.from(reason, 'utf8')]);
}
