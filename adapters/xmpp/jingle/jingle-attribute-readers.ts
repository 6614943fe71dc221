import type { Element } from '@xmpp/xml';
import { JingleParseError } from './jingle-parse-error.js';

/**
 * Attribute readers for Jingle import. Every value read here may end up in SDP, so they accept
 * only what SDP can carry: a token has no whitespace (Conversations rejects whitespace in names,
 * ufrag, pwd and fingerprints for the same reason, JINGLE.md section 3.1) and no value may hold
 * a control character, which would let a peer inject SDP lines.
 */

const TOKEN = /^[\x21-\x7e]+$/;
/** No control character, nor U+FFFE/U+FFFF, which XML 1.0 cannot carry either (section 2.2). */
const TEXT = /^[^\x00-\x1f\x7f\ufffe\uffff]*$/;
const DIGITS = /^\d{1,10}$/;
const WORD = /^[\w-]+$/;
const ENCODING_NAME = /^[\w.-]+$/;

export const UINT32_MAX = 2 ** 32 - 1;

/** Whether `value` is what a token attribute may hold; sdpImport checks what it read against the same rules. */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/** Whether `value` is what a free-text attribute may hold. */
export function isText(value: string): boolean {
  return TEXT.test(value);
}

function raw(el: Element, name: string): string | undefined {
  const value: unknown = el.attrs[name];
  return value === undefined || value === null ? undefined : String(value);
}

/** The error for a REQUIRED attribute that is absent. */
export function missingAttribute(el: Element, name: string): JingleParseError {
  return new JingleParseError('missing-attribute', `<${el.name}/> lacks the required "${name}" attribute`, el.name, name);
}

function invalid(el: Element, name: string, value: string): JingleParseError {
  return new JingleParseError('invalid-attribute', `<${el.name} ${name}="${value.slice(0, 64)}"/> is not acceptable`, el.name, name);
}

/** An empty value counts as absent (lib-jitsi-meet writes `name=''` for value-only fmtp tokens). */
export function optionalToken(el: Element, name: string): string | undefined {
  const value = raw(el, name)?.trim();
  if (value === undefined || value === '') return undefined;
  if (!TOKEN.test(value)) throw invalid(el, name, value);
  return value;
}

export function requiredToken(el: Element, name: string): string {
  const value = optionalToken(el, name);
  if (value === undefined) throw missingAttribute(el, name);
  return value;
}

/**
 * A token SDP readers take only as a word (letters, digits, `_`, `-`): sdp-transform reads
 * `a=rtcp-fb` types, `a=ssrc` attribute names and `a=ssrc-group` semantics so, and would cut
 * anything else short.
 */
export function optionalWord(el: Element, name: string): string | undefined {
  const value = optionalToken(el, name);
  if (value !== undefined && !WORD.test(value)) throw invalid(el, name, value);
  return value;
}

export function requiredWord(el: Element, name: string): string {
  const value = optionalWord(el, name);
  if (value === undefined) throw missingAttribute(el, name);
  return value;
}

/**
 * An rtpmap encoding name as SDP readers take it (letters, digits, `_ . -`, as every registered
 * RTP payload format name is): another would read back as a different codec, or none.
 */
export function optionalEncodingName(el: Element, name: string): string | undefined {
  const value = optionalToken(el, name);
  if (value !== undefined && !ENCODING_NAME.test(value)) throw invalid(el, name, value);
  return value;
}

/** Free text (trimmed): spaces allowed, control characters not. */
export function optionalText(el: Element, name: string): string | undefined {
  const value = raw(el, name)?.trim();
  if (value !== undefined && !TEXT.test(value)) throw invalid(el, name, value);
  return value;
}

export function optionalInt(el: Element, name: string, min: number, max: number): number | undefined {
  const value = raw(el, name)?.trim();
  if (value === undefined) return undefined;
  const n = DIGITS.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw invalid(el, name, value);
  return n;
}

export function requiredInt(el: Element, name: string, min: number, max: number): number {
  const value = optionalInt(el, name, min, max);
  if (value === undefined) throw missingAttribute(el, name);
  return value;
}

export function optionalEnum<T extends string>(el: Element, name: string, allowed: readonly T[]): T | undefined {
  const value = raw(el, name)?.trim();
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw invalid(el, name, value);
  return value as T;
}

export function requiredEnum<T extends string>(el: Element, name: string, allowed: readonly T[]): T {
  const value = optionalEnum(el, name, allowed);
  if (value === undefined) throw missingAttribute(el, name);
  return value;
}

/** Element text as a token (fingerprints, bandwidth). */
export function textToken(el: Element): string {
  const value = el.getText().trim();
  if (!TOKEN.test(value)) throw new JingleParseError('invalid-attribute', `<${el.name}/> text is not acceptable`, el.name);
  return value;
}
