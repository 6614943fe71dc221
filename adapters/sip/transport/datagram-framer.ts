import { readContentLength } from './stream-framer.js';

/**
 * One UDP datagram is one SIP message (RFC 3261 section 18.3). Content-Length
 * is optional on datagrams; when present, bytes past the body MUST be
 * discarded. A body shorter than Content-Length is passed on unchanged: for a
 * request sip.js answers it with the 400 that section 18.3 asks for, and it
 * drops such a response.
 */

export type DatagramContent =
  | { readonly kind: 'message'; readonly message: string }
  /** CRLF keep-alives that phones send on UDP, and STUN packets (RFC 5626 section 4.4.2): ignored. */
  | { readonly kind: 'keep-alive' }
  | { readonly kind: 'invalid'; readonly detail: string };

const HEADER_END = Buffer.from('\r\n\r\n');

function isKeepAlive(datagram: Buffer): boolean {
  // STUN messages start with two zero bits (RFC 5389 section 6); SIP starts with a letter.
  if ((datagram[0] ?? 0) < 0x04) return true;
  return datagram.every((byte) => byte === 13 || byte === 10 || byte === 32 || byte === 0);
}

export function frameDatagram(datagram: Buffer, maxMessageBytes: number): DatagramContent {
  if (datagram.length === 0 || isKeepAlive(datagram)) return { kind: 'keep-alive' };
  if (datagram.length > maxMessageBytes) {
    return { kind: 'invalid', detail: `${datagram.length} byte datagram exceeds the ${maxMessageBytes} byte limit` };
  }
  const headerEnd = datagram.indexOf(HEADER_END);
  if (headerEnd === -1) return { kind: 'message', message: datagram.toString('utf8') };
  const contentLength = readContentLength(datagram.toString('latin1', 0, headerEnd));
  const bodyStart = headerEnd + HEADER_END.length;
  if (contentLength === undefined || Number.isNaN(contentLength) || bodyStart + contentLength >= datagram.length) {
    return { kind: 'message', message: datagram.toString('utf8') };
  }
  return { kind: 'message', message: datagram.toString('utf8', 0, bodyStart + contentLength) };
}
