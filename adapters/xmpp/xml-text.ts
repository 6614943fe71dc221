import type { Element } from '@xmpp/xml';
import { GatewayError } from '../../src/index.js';

/**
 * Characters XML 1.0 cannot carry at all, escaped or not (section 2.2, Char): C0 controls other
 * than TAB, LF and CR, and U+FFFE/U+FFFF. ltx writes them as they are, and a server that gets one
 * takes the whole stream for not-well-formed and closes it (RFC 6120 section 4.9.3.13; Prosody
 * does), ending every call and chat on that identity: one web user's chat message must not do that.
 */
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;

/** Throws GatewayError('bad-message') for a stanza that would break the stream it is sent on. */
export function assertXmlText(stanza: Element): void {
  if (NOT_XML.test(stanza.toString())) {
    throw new GatewayError('bad-message', 'the message holds control characters, which XMPP cannot carry');
  }
}
