import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import type { Logger } from '../../src/index.js';
import { NS_JMI } from './jingle/namespaces.js';

/** What @xmpp/client and @xmpp/component emit for every element read from and written to the stream. */
interface StanzaStream {
  on(event: 'element' | 'send', listener: (element: Element) => void): unknown;
}

/** Authentication exchanges, whose text is credentials: SASL (PLAIN carries the password in base64), SASL2, FAST tokens. */
const AUTH_NAMESPACES = new Set(['urn:ietf:params:xml:ns:xmpp-sasl', 'urn:xmpp:sasl:2', 'urn:xmpp:fast:0']);
const REDACTED = '[redacted]';
/** Attributes that carry secrets: ICE passwords (XEP-0176 `pwd`), XEP-0215 TURN passwords, SDES keys (XEP-0167 `key-params`). */
const SECRET_ATTRIBUTES = new Set(['pwd', 'password', 'secret', 'token', 'credential', 'key-params']);
/** Elements whose text is a secret wherever they appear (XEP-0077 `<password/>`, tokens). */
const SECRET_ELEMENTS = new Set(['password', 'token', 'secret']);
/** A stanza longer than this is cut in the log (a Jingle offer with video is ~10 kB). */
const MAX_LOGGED_CHARS = 16_000;

/**
 * With `log.level: debug`, the stanzas an XMPP connection exchanges go to the log, redacted
 * (`xmpp stanza`, `direction` in/out, the `account` it belongs to): IQs (Jingle and everything
 * else), JMI messages, and the SASL and component handshakes. Chat messages and presence are left
 * out: they are the users' content and the bulk of the traffic. The level is read per stanza, so a
 * reload that turns debug on or off applies at once.
 */
export function logStanzas(stream: StanzaStream, logger: Logger, account: string): void {
  const log = (direction: 'in' | 'out') => (element: Element) => {
    if (!logger.isLevelEnabled('debug') || !isLogged(element)) return;
    const text = redactedStanza(element).toString();
    logger.debug({ account, direction, stanza: text.length > MAX_LOGGED_CHARS ? `${text.slice(0, MAX_LOGGED_CHARS)}…` : text }, 'xmpp stanza');
  };
  stream.on('element', log('in'));
  stream.on('send', log('out'));
}

function isLogged(element: Element): boolean {
  if (element.is('iq')) return true;
  if (element.is('message')) return element.getChildElements().some((child) => child.attrs.xmlns === NS_JMI);
  return isAuthentication(element);
}

function isAuthentication(element: Element): boolean {
  return AUTH_NAMESPACES.has(String(element.attrs.xmlns)) || element.name === 'handshake';
}

/**
 * A copy of `element` with its secrets replaced: SASL exchanges (PLAIN carries the password in
 * base64) and the component handshake (a hash of the shared secret, XEP-0114 section 3) lose
 * their text; secret attributes and elements lose their values. Pure.
 */
export function redactedStanza(element: Element): Element {
  return redactedCopy(element, isAuthentication(element));
}

function redactedCopy(element: Element, hideText: boolean): Element {
  const attrs: Record<string, string> = {};
  for (const [name, value] of Object.entries(element.attrs)) attrs[name] = SECRET_ATTRIBUTES.has(name) ? REDACTED : String(value);
  const hide = hideText || SECRET_ELEMENTS.has(element.name) || AUTH_NAMESPACES.has(String(element.attrs.xmlns));
  const children = element.children.map((child) => (typeof child === 'string' ? (hide && child !== '' ? REDACTED : child) : redactedCopy(child, hide)));
  return xml(element.name, attrs, ...children);
}
