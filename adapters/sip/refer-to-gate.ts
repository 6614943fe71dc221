import { Core, type UserAgent } from 'sip.js';
import { requestMethod } from './sip-methods.js';

/** A sip.js transport's receiving end. */
interface GatedTransport {
  onMessage: ((message: string) => void) | undefined;
}

const REFER_TO_LINE = /^(?:Refer-To|r)[ \t]*:(.*)$/im;
/** The whole field with the line break before it, to take it out. */
const REFER_TO_FIELD = /\r\n(?:Refer-To|r)[ \t]*:[^\r\n]*/gi;
const URI_SCHEME = /^\s*(?:"(?:[^"\\]|\\.)*"\s*)?<?\s*([A-Za-z][A-Za-z0-9+.-]*):/;
const TEL_URI = /^\s*(?:"(?:[^"\\]|\\.)*"\s*)?<?\s*tel:([+0-9*#().-]+)(?:;[^>]*)?>?\s*(?:;.*)?$/i;

/**
 * sip.js 0.21 parses Refer-To only as a SIP URI: a REFER whose Refer-To is a
 * `tel:` URI (RFC 3966, common from PBXs) or anything else makes it throw
 * before any answer, and the transferor retransmits into silence. At its edge,
 * a `tel:` target is rewritten to the gateway's own SIP form of that number
 * (`sip:<number>@<domain>;user=phone`, which the adapter reads back as
 * `tel:`), other schemes get 416 and an unreadable header 400 (RFC 3515
 * section 2.4.1), so every REFER is answered and the dial plan judges the rest.
 */
export function gateReferTo(transport: GatedTransport, options: { ua: UserAgent; domain: string }): void {
  const deliver = transport.onMessage;
  if (!deliver) throw new Error('the user agent has not attached to its transport yet');
  const logger = options.ua.getLogger('sip.refer-to-gate');
  transport.onMessage = (message) => {
    if (requestMethod(message) !== 'REFER') return deliver(message);
    const headersEnd = message.indexOf('\r\n\r\n');
    const referTo = REFER_TO_LINE.exec(headersEnd < 0 ? message : message.slice(0, headersEnd))?.[1];
    // No Refer-To: sip.js itself answers 400 (RFC 3515 section 2.4.1).
    if (referTo === undefined) return deliver(message);
    const tel = TEL_URI.exec(referTo);
    if (tel) {
      const number = tel[1]!.replace(/[().-]/g, '');
      return deliver(message.replace(REFER_TO_LINE, `Refer-To: <sip:${number}@${options.domain};user=phone>`));
    }
    const scheme = URI_SCHEME.exec(referTo)?.[1];
    // A SIP URI sip.js can read goes on; the rest is refused here, or sip.js would throw.
    if (scheme && /^sips?$/i.test(scheme) && Core.Parser.parseMessage(message, logger) instanceof Core.IncomingRequestMessage) return deliver(message);
    const request = Core.Parser.parseMessage(message.replace(REFER_TO_FIELD, ''), logger);
    if (!(request instanceof Core.IncomingRequestMessage)) return deliver(message);
    const refusal =
      scheme && !/^sips?$/i.test(scheme)
        ? { statusCode: 416, reasonPhrase: 'Unsupported URI Scheme', warning: `cannot transfer to a ${scheme.toLowerCase()}: URI` }
        : { statusCode: 400, reasonPhrase: 'Bad Request', warning: 'malformed Refer-To' };
    options.ua.userAgentCore.replyStateless(request, {
      statusCode: refusal.statusCode,
      reasonPhrase: refusal.reasonPhrase,
      extraHeaders: [`Warning: 399 switchboard "${refusal.warning}"`],
    });
  };
}
