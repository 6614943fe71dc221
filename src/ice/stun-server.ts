import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Logger } from '../logging/logger.js';
import {
  StunAttr,
  StunDecodeError,
  StunMethod,
  decodeStunMessage,
  encodeErrorCode,
  encodeMappedAddress,
  encodeStunMessage,
  encodeXorMappedAddress,
  type StunAttribute,
  type StunMessage,
} from './stun-message.js';

export interface StunServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** SOFTWARE attribute (RFC 5389 section 15.10); fewer than 128 characters. */
  software?: string;
}

export interface StunServerStats {
  requests: number;
  responses: number;
  dropped: number;
}

/** REALM and NONCE (RFC 5389 sections 15.7 and 15.8) are understood even though this responder never asks for them. */
const REALM = 0x0014;
const NONCE = 0x0015;

/** Comprehension-required attributes this responder understands (RFC 5389 section 18.2). */
const KNOWN_REQUIRED = new Set<number>([
  StunAttr.mappedAddress,
  StunAttr.username,
  StunAttr.messageIntegrity,
  StunAttr.errorCode,
  StunAttr.unknownAttributes,
  REALM,
  NONCE,
  StunAttr.xorMappedAddress,
]);

/** RFC 5389 section 15: types 0x0000-0x7FFF must be understood by the receiver or the request rejected. */
function isComprehensionRequired(type: number): boolean {
  return type < 0x8000;
}

/**
 * A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 addresses
 * (RFC 4291 section 2.5.5.2); the client sent over IPv4, so that is the
 * family its reflexive address must have.
 */
function unmapIpv4(address: string): string {
  const prefix = '::ffff:';
  if (address.toLowerCase().startsWith(prefix)) {
    const v4 = address.slice(prefix.length);
    if (isIPv4(v4)) return v4;
  }
  return address;
}

/** UNKNOWN-ATTRIBUTES value (RFC 5389 section 15.9): a list of 16-bit types. */
function unknownAttributesValue(types: number[]): Buffer {
  const value = Buffer.alloc(types.length * 2);
  types.forEach((type, i) => value.writeUInt16BE(type, i * 2));
  return value;
}

/**
 * The embedded STUN responder: answers Binding requests over UDP with the
 * source address it saw, which is all browsers need to learn a
 * server-reflexive candidate (RFC 8445 section 5.1.1.2). It keeps no state
 * per client and never authenticates: a Binding response only reflects the
 * requester's own address back at it.
 */
export class StunServer {
  private readonly options: StunServerOptions;
  private readonly log: Logger;
  private readonly software: Buffer | undefined;
  private socket: Socket | undefined;
  private closing: Promise<void> | undefined;
  private readonly counters: StunServerStats = { requests: 0, responses: 0, dropped: 0 };

  constructor(options: StunServerOptions) {
    const software = options.software ?? 'switchboard';
    if ([...software].length >= 128) throw new RangeError('software must be fewer than 128 characters');
    this.options = options;
    this.log = options.logger;
    this.software = software === '' ? undefined : Buffer.from(software, 'utf8');
  }

  get stats(): StunServerStats {
    return { ...this.counters };
  }

  async start(): Promise<{ address: string; port: number }> {
    if (this.socket || this.closing) throw new Error('StunServer can only be started once');
    const { host, port } = this.options;
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    this.socket = socket;

    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        socket.off('error', onError);
        resolve();
      };
      socket.once('error', onError);
      socket.once('listening', onListening);
      socket.bind(port, host);
    }).catch((err: unknown) => {
      this.socket = undefined;
      try {
        socket.close();
      } catch {
        // Never bound, so there is nothing to release.
      }
      throw err;
    });

    // After binding, socket errors (e.g. ICMP-induced send failures on some
    // platforms) concern one client at most; they must not take the gateway down.
    socket.on('error', (err) => this.log.warn({ err }, 'STUN socket error'));
    socket.on('message', (packet, rinfo) => this.onPacket(packet, rinfo));

    const bound = socket.address();
    this.log.info({ address: bound.address, port: bound.port }, 'STUN responder listening');
    return { address: bound.address, port: bound.port };
  }

  async close(): Promise<void> {
    if (this.closing) return this.closing;
    const socket = this.socket;
    this.closing = socket
      ? new Promise<void>((resolve) => {
          socket.close(() => resolve());
        })
      : Promise.resolve();
    return this.closing;
  }

  private onPacket(packet: Buffer, rinfo: RemoteInfo): void {
    try {
      this.handle(packet, rinfo);
    } catch (err) {
      // Anything the network can send must end here, never as an uncaught exception.
      this.counters.dropped += 1;
      this.log.warn({ err, remote: `${rinfo.address}:${rinfo.port}` }, 'STUN packet handling failed');
    }
  }

  private handle(packet: Buffer, rinfo: RemoteInfo): void {
    let request: StunMessage;
    try {
      request = decodeStunMessage(packet);
    } catch (err) {
      if (!(err instanceof StunDecodeError)) throw err;
      this.counters.dropped += 1;
      this.log.debug({ reason: err.code, remote: `${rinfo.address}:${rinfo.port}` }, 'dropped non-STUN packet');
      return;
    }

    // RFC 5389 section 7.3: only requests get an answer; indications have
    // none, and responses were not asked for by this stateless responder.
    if (request.cls !== 'request') {
      this.counters.dropped += 1;
      this.log.debug({ cls: request.cls, remote: `${rinfo.address}:${rinfo.port}` }, 'dropped STUN non-request');
      return;
    }
    this.counters.requests += 1;

    // RFC 5389 section 7.3: a method the server does not implement is a 400.
    if (request.method !== StunMethod.binding) {
      this.sendError(request, rinfo, 400, 'Bad Request');
      return;
    }

    // RFC 5389 section 7.3.1: unknown comprehension-required attributes are
    // listed back in a 420 so the client knows what to drop.
    const unknown = [
      ...new Set(
        request.attributes
          .map((a) => a.type)
          .filter((type) => isComprehensionRequired(type) && !KNOWN_REQUIRED.has(type)),
      ),
    ];
    if (unknown.length > 0) {
      this.sendError(request, rinfo, 420, 'Unknown Attribute', [
        { type: StunAttr.unknownAttributes, value: unknownAttributesValue(unknown) },
      ]);
      return;
    }

    const address = unmapIpv4(rinfo.address);
    this.send(request, 'success', rinfo, [
      { type: StunAttr.xorMappedAddress, value: encodeXorMappedAddress(address, rinfo.port, request.transactionId) },
      { type: StunAttr.mappedAddress, value: encodeMappedAddress(address, rinfo.port) },
    ]);
  }

  private sendError(
    request: StunMessage,
    rinfo: RemoteInfo,
    code: number,
    reason: string,
    extra: StunAttribute[] = [],
  ): void {
    this.log.debug({ code, method: request.method, remote: `${rinfo.address}:${rinfo.port}` }, 'STUN error response');
    this.send(request, 'error', rinfo, [{ type: StunAttr.errorCode, value: encodeErrorCode(code, reason) }, ...extra]);
  }

  private send(request: StunMessage, cls: 'success' | 'error', rinfo: RemoteInfo, attributes: StunAttribute[]): void {
    const socket = this.socket;
    if (!socket || this.closing) return;
    if (this.software) attributes.push({ type: StunAttr.software, value: this.software });
    // RFC 5389 section 7.3.1: the response echoes the request's method and transaction id.
    const response = encodeStunMessage(
      { method: request.method, cls, transactionId: request.transactionId, attributes },
      // FINGERPRINT lets ICE agents that multiplex STUN with media tell our
      // responses apart reliably (RFC 5389 section 8).
      { fingerprint: true },
    );
    this.counters.responses += 1;
    socket.send(response, rinfo.port, rinfo.address, (err) => {
      if (err) this.log.warn({ err, remote: `${rinfo.address}:${rinfo.port}` }, 'STUN response send failed');
    });
  }
}
