import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as connectTcp, type Socket } from 'node:net';

/**
 * Hand-made SIP on raw loopback sockets, for wire-level tests of what a
 * hostile or odd peer sends: any source address in 127.0.0.0/8 (Linux
 * routes the whole block to lo, so a socket can bind 127.0.0.2 without setup).
 */

export interface RawRequestOptions {
  method: string;
  /** Request-URI user. */
  user: string;
  /** host:port the request is sent to (for the Request-URI and To). */
  target: string;
  /** Via transport token (UDP, TCP...). */
  transport: string;
  /** Via sent-by, `host:port`. */
  sentBy: string;
  branch: string;
  /** Extra Via parameters, e.g. `;received=127.0.0.1`. */
  viaParams?: string;
  /** Header lines added before Content-Length. */
  extra?: string[];
  /** SDP or other body; Content-Type is added for a body. */
  body?: string;
  toTag?: string;
}

export function rawRequest(options: RawRequestOptions): string {
  const body = options.body ?? '';
  return [
    `${options.method} sip:${options.user}@${options.target} SIP/2.0`,
    `Via: SIP/2.0/${options.transport} ${options.sentBy};branch=${options.branch}${options.viaParams ?? ''}`,
    'Max-Forwards: 70',
    `To: <sip:${options.user}@${options.target}>${options.toTag ? `;tag=${options.toTag}` : ''}`,
    `From: <sip:raw@${options.sentBy}>;tag=from-${options.branch}`,
    `Call-ID: call-${options.branch}`,
    `CSeq: 1 ${options.method}`,
    `Contact: <sip:raw@${options.sentBy}>`,
    ...(options.extra ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** A minimal audio offer a SIP phone would send (PCMU, plain RTP). */
export function phoneOffer(address: string, port: number): string {
  return ['v=0', `o=- 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
}

export interface RawUdpPeer {
  readonly socket: UdpSocket;
  readonly address: string;
  readonly port: number;
  readonly received: string[];
  send(message: string, port: number, host?: string): void;
  /** The first datagram received (already or later) that matches. */
  next(match: (message: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): void;
}

/** A UDP socket on `address` (a free port unless `port` is given). */
export async function openRawUdp(address: string, port = 0): Promise<RawUdpPeer> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  const received: string[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    received.push(data.toString());
    for (const waiter of [...waiters]) waiter();
  });
  return {
    socket,
    address,
    port: socket.address().port,
    received,
    send: (message, port, host = '127.0.0.1') => socket.send(message, port, host),
    next(match, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(match);
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching datagram within ${timeoutMs} ms; got ${JSON.stringify(received.map((m) => m.split('\r\n')[0]))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => socket.close(),
  };
}

export interface RawTcpPeer {
  readonly socket: Socket;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the received text matches, rejects when the connection closes or the time is up. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the time it took (ms) once the gateway closes the connection; rejects after `timeoutMs`. */
  closedWithin(timeoutMs: number): Promise<number>;
}

/** Connects from `localAddress` (127.0.0.1 by default) to a TCP port on 127.0.0.1. */
export async function openRawTcp(port: number, localAddress = '127.0.0.1'): Promise<RawTcpPeer> {
  const socket = connectTcp({ host: '127.0.0.1', port, localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const openedAt = Date.now();
  let text = '';
  let closed = false;
  const listeners = new Set<() => void>();
  socket.on('data', (data: Buffer) => {
    text += data.toString();
    for (const listener of [...listeners]) listener();
  });
  // A reset counts as closed too (the gateway may destroy the socket with unread data).
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    for (const listener of [...listeners]) listener();
  });
  return {
    socket,
    text: () => text,
    waitFor(pattern, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(text);
          if (match) finish(() => resolve(match[0]));
          else if (closed) finish(() => reject(new Error(`connection closed before ${pattern}; got ${JSON.stringify(text.slice(0, 500))}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 500))}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    closedWithin(timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (closed) finish(() => resolve(Date.now() - openedAt));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`connection still open after ${timeoutMs} ms`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
  };
}
