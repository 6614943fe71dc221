import { isIP } from 'node:net';
import { scanHeaders, splitOutsideQuotes } from './sip-header-fields.js';
import { formatViaValue, parseViaValue, viaParam, withViaParam, type ParsedVia } from './sip-via.js';

/**
 * Pure rewriters of the top Via value of a raw SIP message. Each one replaces
 * only the first Via field of the message and keeps every other byte (the
 * body, and with it Content-Length, is untouched). They return undefined when
 * the message has no parseable top Via.
 */

function rewriteTopVia(message: string, rewrite: (via: ParsedVia) => ParsedVia): string | undefined {
  const scanned = scanHeaders(message);
  const field = scanned?.fields.find((candidate) => candidate.name === 'via');
  if (!field) return undefined;
  const values = splitOutsideQuotes(field.value, ',').map((value) => value.trim());
  const top = values[0] === undefined ? undefined : parseViaValue(values[0]);
  if (!top) return undefined;
  // The top value gets a field of its own (RFC 3261 section 7.3.1 makes both forms equal): sip.js
  // reads `Via: a, b` as b, while the hub keys transactions and routes responses by a.
  const rest = values.slice(1).filter((value) => value !== '');
  // Header lines end like the start line (the hub refuses a mix).
  const lineEnd = /^[^\n]*\r\n/.test(message) ? '\r\n' : '\n';
  const rewritten = `${field.rawName}: ${formatViaValue(rewrite(top))}${rest.length > 0 ? `${lineEnd}${field.rawName}: ${rest.join(', ')}` : ''}`;
  return `${message.slice(0, field.start)}${rewritten}${message.slice(field.end)}`;
}

export interface ViaSentBy {
  readonly protocol: string;
  readonly host: string;
  /** Omitted from the Via when undefined. */
  readonly port?: number | undefined;
}

/**
 * Sets the transport and sent-by of the top Via (RFC 3261 section 18.1.1:
 * sent-by is where the response should come back), keeping its parameters.
 */
export function setTopViaSentBy(message: string, sentBy: ViaSentBy): string | undefined {
  return rewriteTopVia(message, (via) => ({ ...via, protocol: sentBy.protocol.toUpperCase(), host: sentBy.host, port: sentBy.port }));
}

/**
 * Removes the port from the top Via: sip.js drops any response whose Via
 * carries one (its rfc3261_18_1_2 sanity check compares host and expects no port).
 */
export function stripTopViaPort(message: string): string | undefined {
  return rewriteTopVia(message, (via) => ({ ...via, port: undefined }));
}

/** Sets the top Via's branch parameter, or removes it when `branch` is undefined. */
export function setTopViaBranch(message: string, branch: string | undefined): string | undefined {
  return rewriteTopVia(message, (via) =>
    branch === undefined ? { ...via, params: via.params.filter((param) => param.name.toLowerCase() !== 'branch') } : withViaParam(via, 'branch', branch),
  );
}

/** Compares addresses as written in Via (IPv4-mapped IPv6 and case folded). */
function sameAddress(a: string, b: string): boolean {
  const normalize = (address: string) => address.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return normalize(a) === normalize(b);
}

/**
 * The server side of RFC 3261 section 18.2.1 and RFC 3581 section 4 for a
 * request that arrived from `sourceAddress:sourcePort`:
 * - `received=<source address>` is added when sent-by is a domain name or an
 *   IP address other than the source (18.2.1), and always when the client
 *   asked for `rport` (3581 section 4: "even if it is identical");
 * - an `rport` gets the source port (3581 section 4); without an `rport`
 *   parameter the port is not added, since the client did not ask for
 *   symmetric response routing.
 * Both parameters are the server's to write: a `received` or an `rport`
 * value the client wrote itself is replaced by the real source, never kept,
 * since responses (and their retransmissions) go where they say and the
 * gateway would otherwise reflect them to any host the client names.
 */
export function addReceivedRport(message: string, sourceAddress: string, sourcePort: number): string | undefined {
  const source = sourceAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return rewriteTopVia(message, (via) => {
    const rport = viaParam(via, 'rport');
    const forgedReceived = viaParam(via, 'received') !== undefined;
    const needsReceived = forgedReceived || rport !== undefined || isIP(via.host) === 0 || !sameAddress(via.host, source);
    let result = needsReceived ? withViaParam(via, 'received', source) : via;
    if (rport !== undefined) result = withViaParam(result, 'rport', String(sourcePort));
    return result;
  });
}
