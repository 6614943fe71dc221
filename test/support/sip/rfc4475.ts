import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The RFC 4475 torture messages kept in test/sip/rfc4475/, one file per
 * message under the RFC's own name, written in the RFC's notation (section 2):
 * - every line break is CRLF on the wire (the files use LF);
 * - `<allOneLine>` ... `</allOneLine>`: the lines between are one line;
 * - `<hex>...</hex>`: the bytes given in hex (whitespace inside is ignored),
 *   for control characters, non-ASCII UTF-8, trailing spaces and binary bodies.
 */

export const RFC4475_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../sip/rfc4475');

const ALL_ONE_LINE = /<allOneLine>\n([\s\S]*?)\n<\/allOneLine>/g;
const HEX = /<hex>([0-9A-Fa-f\s]*)<\/hex>/g;

/** Turns the RFC notation into the message's bytes. */
export function decodeRfc4475(text: string): Buffer {
  const joined = text.replace(ALL_ONE_LINE, (_block, lines: string) => lines.replace(/\n/g, ''));
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of joined.matchAll(HEX)) {
    parts.push(Buffer.from(joined.slice(last, match.index).replace(/\n/g, '\r\n'), 'latin1'));
    parts.push(Buffer.from(match[1]!.replace(/\s+/g, ''), 'hex'));
    last = match.index + match[0].length;
  }
  parts.push(Buffer.from(joined.slice(last).replace(/\n/g, '\r\n'), 'latin1'));
  return Buffer.concat(parts);
}

/** The bytes of one RFC 4475 message, by its name in the RFC (`wsinv`, `badvers`...). */
export function rfc4475Message(name: string): Buffer {
  return decodeRfc4475(readFileSync(resolve(RFC4475_DIR, `${name}.txt`), 'latin1'));
}

/**
 * The message as a client on loopback would send it: the transport and
 * sent-by of its top Via become the socket it really uses (RFC 3261 section
 * 18.1.1), so responses find their way back. Everything else, folding and
 * oddities of that Via included, stays byte for byte.
 */
export function fromLoopbackClient(message: Buffer, via: { transport: 'UDP' | 'TCP'; port: number }): Buffer {
  const text = message.toString('latin1');
  const headerEnd = text.indexOf('\r\n\r\n');
  const head = headerEnd === -1 ? text : text.slice(0, headerEnd);
  // The first Via field (long or compact name), with its continuation lines.
  const field = /\r\n(?:via|v)[ \t]*:(?:[^\r]|\r\n[ \t])*/i.exec(head);
  if (!field) return message;
  const adapted = field[0].replace(
    /(SIP\s*\/\s*\d+\.\d+\s*\/\s*)[A-Za-z0-9]+(\s+)[^\s;,]+/,
    (_whole, prefix: string, space: string) => `${prefix}${via.transport}${space}127.0.0.1:${via.port}`,
  );
  return Buffer.concat([
    Buffer.from(text.slice(0, field.index) + adapted, 'latin1'),
    message.subarray(Buffer.byteLength(text.slice(0, field.index + field[0].length), 'latin1')),
  ]);
}
