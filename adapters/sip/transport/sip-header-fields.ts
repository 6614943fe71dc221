/**
 * Just enough of the RFC 3261 section 7 message grammar to find header
 * fields in a raw SIP message without building a full parse tree: the start
 * line, each header field with its span in the text (so rewriters can replace
 * one field and keep every other byte), and helpers that split values on
 * commas and semicolons while respecting quoted strings and <...>.
 */

/** RFC 3261 section 7.3.3 compact forms (plus the ones later RFCs registered). */
const COMPACT_NAMES: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** RFC 3261 section 25.1 `token` characters. */
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

export interface HeaderField {
  /** Lower-case long form: `v` and `VIA` both become `via`. */
  readonly name: string;
  /** The name as written, kept when a rewriter re-emits the field. */
  readonly rawName: string;
  /** Value with folding undone (RFC 3261 section 7.3.1: folded LWS counts as one SP), trimmed. */
  readonly value: string;
  /** Offset of the field's first character in the message. */
  readonly start: number;
  /** Offset just past the field's last value character (its line break excluded). */
  readonly end: number;
}

export interface ScannedHeaders {
  readonly startLine: string;
  readonly fields: readonly HeaderField[];
  /** Offset of the body, or the message length when there is no empty line. */
  readonly bodyStart: number;
}

export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT_NAMES[lower] ?? lower;
}

type LineEnding = 'crlf' | 'lf' | 'none';

/** The message's lines with their offsets; a line excludes its CR LF (or bare LF, accepted leniently). */
function* lines(message: string, from: number): Generator<{ text: string; start: number; next: number; ending: LineEnding }> {
  let position = from;
  while (position < message.length) {
    const newline = message.indexOf('\n', position);
    const lineEnd = newline === -1 ? message.length : newline;
    const crlf = lineEnd > position && message.charCodeAt(lineEnd - 1) === 13;
    const textEnd = crlf ? lineEnd - 1 : lineEnd;
    const ending: LineEnding = newline === -1 ? 'none' : crlf ? 'crlf' : 'lf';
    yield { text: message.slice(position, textEnd), start: position, next: newline === -1 ? message.length : newline + 1, ending };
    position = newline === -1 ? message.length : newline + 1;
  }
}

/**
 * Scans the start line and header fields. Returns undefined when a header
 * line is not `token *WSP ":" value`, a continuation line has nothing to
 * continue, or the header lines do not all end like the start line; those
 * messages are not worth guessing at. Bare LF throughout is read leniently,
 * but a mix is refused: the stream framer and sip.js split only at CRLF, so
 * a bare LF inside a CRLF message would end a line (or the headers) here and
 * not there, and the hub would route by fields sip.js never reads.
 */
export function scanHeaders(message: string): ScannedHeaders | undefined {
  // RFC 3261 section 7.5: CRLFs before the start line are ignored.
  let offset = 0;
  while (message.startsWith('\r\n', offset) || message.startsWith('\n', offset)) {
    offset += message.startsWith('\r\n', offset) ? 2 : 1;
  }
  let startLine: string | undefined;
  const fields: HeaderField[] = [];
  let current: { rawName: string; parts: string[]; start: number; end: number } | undefined;
  const flush = (): boolean => {
    if (!current) return true;
    const rawName = current.rawName;
    if (!TOKEN.test(rawName)) return false;
    const value = current.parts.map((part) => part.trim()).filter((part) => part !== '').join(' ');
    fields.push({ name: canonicalHeaderName(rawName), rawName, value, start: current.start, end: current.end });
    current = undefined;
    return true;
  };
  let ending: LineEnding = 'none';
  for (const line of lines(message, offset)) {
    if (startLine === undefined) {
      startLine = line.text;
      ending = line.ending;
      continue;
    }
    if (line.ending !== 'none' && line.ending !== ending) return undefined;
    if (line.text === '') {
      return flush() ? { startLine, fields, bodyStart: line.next } : undefined;
    }
    const first = line.text.charCodeAt(0);
    if (first === 32 || first === 9) {
      if (!current) return undefined;
      current.parts.push(line.text);
      current.end = line.start + line.text.length;
      continue;
    }
    if (!flush()) return undefined;
    const colon = line.text.indexOf(':');
    if (colon <= 0) return undefined;
    current = {
      rawName: line.text.slice(0, colon).trimEnd(),
      parts: [line.text.slice(colon + 1)],
      start: line.start,
      end: line.start + line.text.length,
    };
  }
  if (startLine === undefined || !flush()) return undefined;
  // No empty line: a datagram that ends right after its last header field.
  return { startLine, fields, bodyStart: message.length };
}

/**
 * Splits `text` at each `separator` that is outside a quoted string (with
 * backslash escapes, RFC 3261 section 25.1) and outside <...>.
 */
export function splitOutsideQuotes(text: string, separator: ',' | ';'): string[] {
  const parts: string[] = [];
  let quoted = false;
  let angle = false;
  let partStart = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '\\') index++;
      else if (char === '"') quoted = false;
    } else if (char === '"') {
      quoted = true;
    } else if (char === '<') {
      angle = true;
    } else if (char === '>') {
      angle = false;
    } else if (char === separator && !angle) {
      parts.push(text.slice(partStart, index));
      partStart = index + 1;
    }
  }
  parts.push(text.slice(partStart));
  return parts;
}

export interface HeaderParam {
  readonly name: string;
  /** Undefined for a flag parameter such as `;lr` or an empty `;rport`. */
  readonly value: string | undefined;
}

/** Parses `;name=value;flag` (LWS around `;` and `=` allowed, RFC 3261 section 25.1 SEMI/EQUAL). */
export function parseParams(text: string): HeaderParam[] {
  const params: HeaderParam[] = [];
  for (const segment of splitOutsideQuotes(text, ';')) {
    const trimmed = segment.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    if (equals === -1) params.push({ name: trimmed, value: undefined });
    else params.push({ name: trimmed.slice(0, equals).trim(), value: trimmed.slice(equals + 1).trim() });
  }
  return params;
}

export function findParam(params: readonly HeaderParam[], name: string): HeaderParam | undefined {
  const lower = name.toLowerCase();
  return params.find((param) => param.name.toLowerCase() === lower);
}

/**
 * The URI and the header parameters of a name-addr or addr-spec (From, To,
 * Contact, Route). In the addr-spec form everything after the first `;` is a
 * header parameter (RFC 3261 section 20.10), so a URI with parameters must be
 * written inside <...>.
 */
export function splitNameAddr(value: string): { uri: string; params: HeaderParam[] } | undefined {
  let quoted = false;
  for (let index = 0; index < value.length; index++) {
    const char = value[index];
    if (quoted) {
      if (char === '\\') index++;
      else if (char === '"') quoted = false;
    } else if (char === '"') {
      quoted = true;
    } else if (char === '<') {
      const close = value.indexOf('>', index + 1);
      if (close === -1) return undefined;
      return { uri: value.slice(index + 1, close).trim(), params: parseParams(value.slice(close + 1)) };
    }
  }
  if (quoted) return undefined;
  const semicolon = value.indexOf(';');
  const uri = (semicolon === -1 ? value : value.slice(0, semicolon)).trim();
  if (uri === '' || /\s/.test(uri)) return undefined;
  return { uri, params: semicolon === -1 ? [] : parseParams(value.slice(semicolon)) };
}
