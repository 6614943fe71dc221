import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { NS_JINGLE_ERRORS } from './jingle/namespaces.js';

/** RFC 6120 section 8.3 stanza error namespace. */
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';
export type StanzaErrorCondition =
  | 'bad-request'
  | 'conflict'
  | 'feature-not-implemented'
  | 'forbidden'
  | 'item-not-found'
  | 'not-acceptable'
  | 'recipient-unavailable'
  | 'service-unavailable'
  | 'unexpected-request';
/** XEP-0166 section 10 application-specific conditions. */
export type JingleErrorCondition = 'out-of-order' | 'tie-break' | 'unknown-session' | 'unsupported-info';

/** `<error type><condition/></error>`; @xmpp/iq's callee turns a returned `<error/>` into an error reply. */
export function stanzaError(type: StanzaErrorType, condition: StanzaErrorCondition): Element {
  return xml('error', { type }, xml(condition, { xmlns: NS_STANZAS }));
}

/** A stanza error with a Jingle condition beside it (XEP-0166 section 10). */
export function jingleError(type: StanzaErrorType, condition: StanzaErrorCondition, jingle: JingleErrorCondition): Element {
  return xml('error', { type }, xml(condition, { xmlns: NS_STANZAS }), xml(jingle, { xmlns: NS_JINGLE_ERRORS }));
}
