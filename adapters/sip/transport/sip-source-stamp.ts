import { isIP } from 'node:net';
import type { SipSource } from './hub-routing-tables.js';
import type { SipProtocol } from './sip-uri-target.js';

/**
 * sip.js hands its UserAgent a string and never says where it came from, so
 * the hub writes the real source of each request it delivers (the datagram's
 * address, the connection's peer) in a header field of the gateway's own
 * namespace. A peer must never be able to write there: every field whose name
 * starts with `X-Switchboard-` is removed from what arrives before the stamp
 * is added, and the stamp is the first field after the start line, the one
 * sip.js's `getHeader` returns. The Via is no substitute: its `received`
 * is only written when the sent-by differs, so a client can put its own there.
 */

export const SOURCE_HEADER = 'X-Switchboard-Source';

/** Header fields in this namespace are the gateway's alone (RFC 6648 leaves X- names to private use). */
const PRIVATE_PREFIX = 'x-switchboard-';

/** `UDP 192.0.2.1:5060`, `WS [2001:db8::1]:443`. */
export function formatSource(source: SipSource): string {
  const host = isIP(source.address) === 6 ? `[${source.address}]` : source.address;
  return `${source.protocol} ${host}:${source.port}`;
}

const STAMP = /^(UDP|TCP|TLS|WSS|WS) (?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/;

/** The source a stamp names; undefined for anything the hub would not have written. */
export function parseSource(value: string | undefined): SipSource | undefined {
  const match = STAMP.exec(value?.trim() ?? '');
  if (!match) return undefined;
  const address = match[2] ?? match[3]!;
  if (isIP(address) === 0) return undefined;
  return { protocol: match[1] as SipProtocol, address, port: Number(match[4]) };
}

/**
 * The request without any private header field a peer wrote, and with the
 * stamp. Fields are found the way sip.js's parser finds them (a field ends
 * at a CRLF not followed by whitespace, the header block at an empty CRLF
 * line), so no field sip.js will see escapes the filter. Undefined when the
 * start line has no CRLF (sip.js would drop the message anyway).
 */
export function stampSource(message: string, source: SipSource): string | undefined {
  const startLineEnd = message.indexOf('\r\n');
  if (startLineEnd === -1) return undefined;
  const parts = [message.slice(0, startLineEnd + 2), `${SOURCE_HEADER}: ${formatSource(source)}\r\n`];
  let position = startLineEnd + 2;
  // One pass over the header block; every step moves `position` forward.
  while (position < message.length && !message.startsWith('\r\n', position)) {
    const end = fieldEnd(message, position);
    if (end === -1) {
      // No CRLF closes this field: sip.js refuses such a message; keep the bytes as they are.
      parts.push(message.slice(position));
      return parts.join('');
    }
    const colon = message.indexOf(':', position);
    const name = message.slice(position, colon === -1 || colon > end ? end : colon).trim().toLowerCase();
    if (!name.startsWith(PRIVATE_PREFIX)) parts.push(message.slice(position, end + 2));
    position = end + 2;
  }
  parts.push(message.slice(position));
  return parts.join('');
}

/** Where the field starting at `start` ends (its last CRLF), following folded lines; -1 without CRLF. */
function fieldEnd(message: string, start: number): number {
  let from = start;
  for (;;) {
    const crlf = message.indexOf('\r\n', from);
    if (crlf === -1) return -1;
    const continues = !message.startsWith('\r\n', crlf + 2) && /^\s/.test(message.charAt(crlf + 2));
    if (!continues) return crlf;
    from = crlf + 2;
  }
}

const STAMP_LINE = new RegExp(`\\r\\n${SOURCE_HEADER}:[ \\t]*([^\\r\\n]*)\\r\\n`, 'i');

/**
 * The stamped source of a raw request on its way to sip.js, without a full
 * parse. After `stampSource` the only field of that name in the header block
 * is the hub's, wherever later rewriters moved it.
 */
export function sourceOfMessage(message: string): SipSource | undefined {
  const headerEnd = message.indexOf('\r\n\r\n');
  const match = STAMP_LINE.exec(headerEnd === -1 ? message : message.slice(0, headerEnd + 2));
  return parseSource(match?.[1]);
}
