import { scanHeaders, splitNameAddr, splitOutsideQuotes, type HeaderField } from './sip-header-fields.js';
import { parsePort, parseViaValue, viaParam, type ParsedVia } from './sip-via.js';

/**
 * Cheap reading of what the transport layer needs to route a raw SIP
 * message (RFC 3261 section 18), without a full parse: sip.js parses the
 * message again once it is handed up.
 */

export interface PeekedVia {
  /** Upper-case transport token: `UDP`, `TCP`, `TLS`, `WS`, `WSS`... */
  readonly protocol: string;
  /** sent-by host, IPv6 without brackets. */
  readonly host: string;
  readonly port: number | undefined;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  /** RFC 3581: the `rport` parameter is present (with or without a value). */
  readonly hasRport: boolean;
  readonly rport: number | undefined;
}

export interface PeekedCSeq {
  readonly sequence: number;
  readonly method: string;
}

interface PeekedFields {
  /** First value of the first Via field: the hop closest to us. */
  readonly topVia: PeekedVia | undefined;
  /** Number of Via values over all Via fields. */
  readonly viaCount: number;
  /** Call-ID, CSeq, From and To are undefined (or false) when malformed or repeated (a From or To with two tags too). */
  readonly callId: string | undefined;
  readonly cseq: PeekedCSeq | undefined;
  /** URI of the first Route value (RFC 3261 section 8.1.2: the next hop when present). */
  readonly firstRoute: string | undefined;
  /** URI of the first Contact value. */
  readonly contactUri: string | undefined;
  readonly contentLength: number | undefined;
  readonly fromTag: string | undefined;
  readonly toTag: string | undefined;
  readonly hasFrom: boolean;
  readonly hasTo: boolean;
}

export interface PeekedRequest extends PeekedFields {
  readonly kind: 'request';
  readonly method: string;
  readonly requestUri: string;
}

export interface PeekedResponse extends PeekedFields {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

export type PeekedMessage = PeekedRequest | PeekedResponse;

/** Section 7.1: exactly one SP between the elements; request-line.ts tells what is wrong with other start lines. */
const REQUEST_LINE = /^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP\/2\.0$/i;
const STATUS_LINE = /^SIP\/2\.0 +([1-6]\d\d)(?: +(.*))?$/i;
const CSEQ = /^(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)$/;
/** RFC 3261 section 8.1.1.5: the sequence number MUST be less than 2**31. */
const MAX_CSEQ = 2 ** 31 - 1;

function toPeekedVia(via: ParsedVia): PeekedVia {
  const rport = viaParam(via, 'rport');
  return {
    protocol: via.protocol,
    host: via.host,
    port: via.port,
    branch: viaParam(via, 'branch')?.value,
    received: viaParam(via, 'received')?.value,
    hasRport: rport !== undefined,
    rport: rport?.value === undefined ? undefined : parsePort(rport.value),
  };
}

function first(fields: readonly HeaderField[], name: string): HeaderField | undefined {
  return fields.find((field) => field.name === name);
}

/**
 * The one field `name` of a header that may appear only once (RFC 3261 section 7.3.1: only
 * comma-separated lists may repeat). A repeated one is malformed, not read: the hub routes by
 * the first and sip.js keeps the last, so reading either would let the two disagree.
 */
function single(fields: readonly HeaderField[], name: string): HeaderField | undefined {
  const found = fields.filter((field) => field.name === name);
  return found.length === 1 ? found[0] : undefined;
}

/**
 * The `tag` of a From or To value, or `null` when the value is malformed for routing: a second
 * `tag` parameter, which the hub would read first and sip.js last.
 */
function tagOf(field: HeaderField | undefined): string | undefined | null {
  if (!field) return undefined;
  const nameAddr = splitNameAddr(field.value);
  const tags = nameAddr?.params.filter((param) => param.name.toLowerCase() === 'tag') ?? [];
  if (tags.length > 1) return null;
  const tag = tags[0];
  return tag?.value === undefined || tag.value === '' ? undefined : tag.value;
}

function firstUri(field: HeaderField | undefined): string | undefined {
  if (!field) return undefined;
  const value = splitOutsideQuotes(field.value, ',')[0];
  if (value === undefined || value.trim() === '*') return undefined;
  return splitNameAddr(value)?.uri;
}

function peekFields(fields: readonly HeaderField[]): PeekedFields {
  const vias = fields.filter((field) => field.name === 'via').flatMap((field) => splitOutsideQuotes(field.value, ','));
  const topVia = vias[0] === undefined ? undefined : parseViaValue(vias[0].trim());
  const cseqMatch = CSEQ.exec(single(fields, 'cseq')?.value ?? '');
  const sequence = cseqMatch ? Number(cseqMatch[1]) : NaN;
  const callId = single(fields, 'call-id')?.value;
  const contentLength = first(fields, 'content-length')?.value;
  const from = single(fields, 'from');
  const to = single(fields, 'to');
  const fromTag = tagOf(from);
  const toTag = tagOf(to);
  return {
    topVia: topVia && toPeekedVia(topVia),
    viaCount: vias.filter((via) => via.trim() !== '').length,
    callId: callId === undefined || callId === '' || /\s/.test(callId) ? undefined : callId,
    cseq: cseqMatch && sequence <= MAX_CSEQ ? { sequence, method: cseqMatch[2]! } : undefined,
    firstRoute: firstUri(first(fields, 'route')),
    contactUri: firstUri(first(fields, 'contact')),
    contentLength: contentLength !== undefined && /^\d{1,9}$/.test(contentLength) ? Number(contentLength) : undefined,
    fromTag: fromTag ?? undefined,
    toTag: toTag ?? undefined,
    hasFrom: from !== undefined && fromTag !== null,
    hasTo: to !== undefined && toTag !== null,
  };
}

/** Reads the routing facts of a raw SIP message; undefined when it is not one. */
export function peekSipMessage(message: string): PeekedMessage | undefined {
  const scanned = scanHeaders(message);
  if (!scanned) return undefined;
  const status = STATUS_LINE.exec(scanned.startLine);
  if (status) {
    return { kind: 'response', status: Number(status[1]), reason: status[2] ?? '', ...peekFields(scanned.fields) };
  }
  const request = REQUEST_LINE.exec(scanned.startLine);
  if (!request?.[1] || !request[2]) return undefined;
  // Methods are case-sensitive (RFC 3261 section 7.1); only a URI with a scheme is a Request-URI.
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(request[2])) return undefined;
  return { kind: 'request', method: request[1], requestUri: request[2], ...peekFields(scanned.fields) };
}

/**
 * The mandatory header fields (RFC 3261 section 8.1.1) a request lacks, in
 * the words of a Warning text; empty when it has them all. Max-Forwards is
 * left out on purpose: RFC 3261 section 16.6 lets the next hop add it, and
 * sip.js does not insist either.
 */
export function missingMandatoryFields(request: PeekedRequest): string[] {
  const missing: string[] = [];
  if (!request.topVia) missing.push('Via');
  if (!request.hasFrom) missing.push('From');
  if (!request.hasTo) missing.push('To');
  if (!request.callId) missing.push('Call-ID');
  if (!request.cseq) missing.push('CSeq');
  // RFC 3261 section 8.1.1.5: the CSeq method MUST match the request's method (ACK and CANCEL included).
  else if (request.cseq.method !== request.method) missing.push('matching CSeq method');
  return missing;
}
