import { scanHeaders, splitOutsideQuotes, type HeaderField } from './sip-header-fields.js';
import { parseViaValue } from './sip-via.js';

/**
 * Header field syntax a request must have before sip.js sees it (RFC 3261
 * section 25.1, the rules RFC 4475 section 3.1.2 tortures). sip.js drops a
 * request it cannot parse without a word; checked here, the sender gets a
 * 400 whose Warning names the problem. Only what sip.js would choke on, or
 * what makes the message ambiguous, is checked: the RFC asks receivers to be
 * liberal elsewhere (an unknown Date format, a Max-Forwards over 255).
 */

export interface SyntaxProblem {
  /** Text for the Warning header field of the 400. */
  readonly warning: string;
  /** The problem leaves the message's length in doubt: a stream it came on cannot be framed any more. */
  readonly framing: boolean;
}

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const QUOTED_STRING = /^"(?:[^"\\\r\n]|\\[^\r\n])*"$/;
/** `host` of RFC 3261 section 25.1 beyond what `token` covers: IPv6 references and bare IPv6 (Via received). */
const IPV6 = /^\[?[0-9A-Fa-f:.]+\]?$/;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"]+$/;

/**
 * What sip.js's parser may be asked to read. It is linear but slow (tens of
 * microseconds per URI parameter or list item: 25,000 Contact parameters
 * in one 50 kB datagram held the event loop for a quarter of a second), so a
 * request beyond these bounds is refused before it is parsed. Real requests,
 * even through a chain of proxies, stay far below them.
 */
const MAX_HEADER_FIELDS = 128;
const MAX_PARAMETERS_AND_ITEMS = 256;

/** Section 7.3: header fields that are not comma-separated lists appear at most once. */
const SINGLE_VALUED: ReadonlyArray<readonly [string, string]> = [
  ['call-id', 'Call-ID'],
  ['cseq', 'CSeq'],
  ['from', 'From'],
  ['to', 'To'],
  ['max-forwards', 'Max-Forwards'],
  ['content-length', 'Content-Length'],
  ['content-type', 'Content-Type'],
];

/** The first syntax problem of a request, or undefined when sip.js can take it. */
export function requestSyntaxProblem(message: string, requestUri: string): SyntaxProblem | undefined {
  const scanned = scanHeaders(message);
  if (!scanned) return { warning: 'Malformed header fields', framing: false };
  const { fields, bodyStart } = scanned;
  const budget = headerBudgetProblem(fields);
  if (budget) return { warning: budget, framing: false };
  const repeated = SINGLE_VALUED.filter(([name]) => fields.filter((field) => field.name === name).length > 1).map(([, label]) => label);
  if (repeated.length > 0) {
    return { warning: `Header fields that must appear once appear more than once: ${repeated.join(', ')}`, framing: repeated.includes('Content-Length') };
  }
  const length = contentLengthProblem(fields, Buffer.byteLength(message.slice(bodyStart), 'utf8'));
  if (length) return { warning: length, framing: true };
  const problem =
    viaProblem(fields) ??
    nameAddrFieldProblem(fields, 'from', 'From') ??
    nameAddrFieldProblem(fields, 'to', 'To') ??
    contactProblem(fields) ??
    maxForwardsProblem(fields) ??
    requestUriProblem(requestUri);
  return problem === undefined ? undefined : { warning: problem, framing: false };
}

function headerBudgetProblem(fields: readonly HeaderField[]): string | undefined {
  if (fields.length > MAX_HEADER_FIELDS) return `More than ${MAX_HEADER_FIELDS} header fields`;
  let separators = 0;
  for (const field of fields) {
    for (let i = 0; i < field.value.length; i++) {
      const char = field.value.charCodeAt(i);
      if (char === 0x3b /* ; */ || char === 0x2c /* , */) separators++;
    }
  }
  return separators > MAX_PARAMETERS_AND_ITEMS ? `More than ${MAX_PARAMETERS_AND_ITEMS} header parameters and list items` : undefined;
}

function contentLengthProblem(fields: readonly HeaderField[], bodyBytes: number): string | undefined {
  const value = fields.find((field) => field.name === 'content-length')?.value;
  if (value === undefined) return undefined;
  // RFC 4475 section 3.1.2.3: negative or non-numeric lengths are an error, never a count.
  if (!/^\d{1,9}$/.test(value)) return `Content-Length "${value}" is not a number of octets`;
  // Section 18.3 (RFC 4475 section 3.1.2.2): only a datagram can arrive shorter than it says.
  if (Number(value) > bodyBytes) return `Content-Length ${value} is larger than the ${bodyBytes} octets of body received`;
  return undefined;
}

function maxForwardsProblem(fields: readonly HeaderField[]): string | undefined {
  const value = fields.find((field) => field.name === 'max-forwards')?.value;
  return value === undefined || /^\d{1,9}$/.test(value) ? undefined : `Max-Forwards "${value}" is not a number`;
}

/** Section 19.1.1: the headers component of a SIP URI is not allowed in a Request-URI (RFC 4475 section 3.1.2.11). */
function requestUriProblem(requestUri: string): string | undefined {
  if (!/^sips?:/i.test(requestUri)) return undefined;
  // The userinfo may hold "?" (user-unreserved) but never a bare "@", which therefore ends it.
  const hostPart = requestUri.slice(requestUri.indexOf('@') + 1);
  return hostPart.includes('?') ? 'The Request-URI must not carry header fields ("?")' : undefined;
}

function viaProblem(fields: readonly HeaderField[]): string | undefined {
  for (const field of fields.filter((candidate) => candidate.name === 'via')) {
    for (const raw of splitOutsideQuotes(field.value, ',')) {
      const value = raw.trim();
      // RFC 4475 section 3.1.2.1: `;;,;,,` leaves empty values and parameters.
      if (value === '') return 'Malformed Via: an empty value between commas';
      if (!parseViaValue(value)) return `Malformed Via: "${value}"`;
      const semicolon = value.indexOf(';');
      const params = semicolon === -1 ? undefined : paramsProblem(value.slice(semicolon));
      if (params) return `Malformed Via: ${params}`;
    }
  }
  return undefined;
}

function nameAddrFieldProblem(fields: readonly HeaderField[], name: string, label: string): string | undefined {
  const field = fields.find((candidate) => candidate.name === name);
  const problem = field && nameAddrProblem(field.value);
  return problem && `Malformed ${label}: ${problem}`;
}

function contactProblem(fields: readonly HeaderField[]): string | undefined {
  for (const field of fields.filter((candidate) => candidate.name === 'contact')) {
    if (field.value === '*') continue;
    for (const value of splitOutsideQuotes(field.value, ',')) {
      const problem = nameAddrProblem(value.trim());
      if (problem) return `Malformed Contact: ${problem}`;
    }
  }
  return undefined;
}

/** `( name-addr / addr-spec ) *( SEMI generic-param )`, as in From, To and each Contact value. */
function nameAddrProblem(value: string): string | undefined {
  let rest = value;
  if (rest.startsWith('"')) {
    const close = closingQuote(rest);
    if (close === -1) return 'unterminated quoted string'; // RFC 4475 section 3.1.2.6
    rest = rest.slice(close + 1).trimStart();
    if (!rest.startsWith('<')) return 'a quoted display name must be followed by <URI>';
  }
  let uri: string;
  const open = rest.indexOf('<');
  if (open !== -1) {
    const displayName = rest.slice(0, open).trim();
    // RFC 4475 section 3.1.2.15: a display name that is not all tokens must be quoted.
    if (displayName !== '' && !displayName.split(/[ \t]+/).every((word) => TOKEN.test(word))) {
      return `display name "${displayName}" must be quoted`;
    }
    const close = rest.indexOf('>', open);
    if (close === -1) return 'missing ">"';
    uri = rest.slice(open + 1, close);
    // RFC 4475 section 3.1.2.14: no spaces inside <...>.
    if (/\s/.test(uri)) return 'whitespace inside <...>';
    rest = rest.slice(close + 1);
  } else {
    const semicolon = rest.indexOf(';');
    uri = (semicolon === -1 ? rest : rest.slice(0, semicolon)).trim();
    rest = semicolon === -1 ? '' : rest.slice(semicolon);
    if (/\s/.test(uri)) return `"${uri}" is not a URI (a display name needs <URI>)`;
    // Section 20.10 (RFC 4475 section 3.1.2.13): such a URI must be written inside <...>.
    if (/[?,]/.test(uri)) return `a URI with "?" or "," must be enclosed in <...>`;
  }
  if (!ABSOLUTE_URI.test(uri)) return `"${uri}" is not an absolute URI`;
  return paramsProblem(rest);
}

/** Index of the quote closing the quoted string `text` starts with (backslash escapes honoured); -1 when unterminated. */
function closingQuote(text: string): number {
  for (let index = 1; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === '"') return index;
  }
  return -1;
}

/** `*( SEMI generic-param )` with `generic-param = token [ EQUAL gen-value ]`, `gen-value = token / host / quoted-string`. */
function paramsProblem(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  const segments = splitOutsideQuotes(text, ';');
  if (segments[0]!.trim() !== '') return `unexpected "${segments[0]!.trim()}" after the URI`;
  for (const segment of segments.slice(1)) {
    const param = segment.trim();
    if (param === '') return 'an empty parameter between semicolons';
    const equals = param.indexOf('=');
    const name = (equals === -1 ? param : param.slice(0, equals)).trim();
    if (!TOKEN.test(name)) return `parameter name "${name}" is not a token`;
    if (equals === -1) continue;
    const paramValue = param.slice(equals + 1).trim();
    if (!TOKEN.test(paramValue) && !QUOTED_STRING.test(paramValue) && !IPV6.test(paramValue)) {
      return `parameter value "${paramValue}" is neither a token, a host nor a quoted string`;
    }
  }
  return undefined;
}
