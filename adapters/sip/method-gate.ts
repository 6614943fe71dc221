import { Core, type UserAgent } from 'sip.js';
import { ALLOW_HEADER, methodVerdict, refusalFor, requestMethod, rewriteAllowHeaders } from './sip-methods.js';

/** The two ends of a sip.js transport the gate sits on. */
interface GatedTransport {
  onMessage: ((message: string) => void) | undefined;
  send(message: string): Promise<void>;
}

export interface MethodGateOptions {
  ua: UserAgent;
  /** Allowed methods the adapter answers itself, which sip.js 0.21 would refuse with 405 (UPDATE, RFC 3311). */
  handlers: ReadonlyMap<string, (request: Core.IncomingRequestMessage) => void>;
}

/**
 * Method inspection (RFC 3261 section 8.2.1) at the edge of sip.js: requests
 * for methods the gateway does not accept are answered here (405 for known
 * methods, 501 for unknown ones, both with Allow), methods sip.js lacks go
 * to the adapter's handlers, and everything the gateway sends advertises its real Allow list.
 * Retransmissions of the requests answered here never come back up: over UDP
 * the transport hub absorbs them and repeats the response; streams do not
 * retransmit.
 */
export function gateMethods(transport: GatedTransport, options: MethodGateOptions): void {
  const deliver = transport.onMessage;
  if (!deliver) throw new Error('the user agent has not attached to its transport yet');
  const logger = options.ua.getLogger('sip.method-gate');
  transport.onMessage = (message) => {
    const method = requestMethod(message);
    if (method === undefined) return deliver(message);
    const verdict = methodVerdict(method);
    const handler = options.handlers.get(method);
    if (verdict === 'allowed' && !handler) return deliver(message);
    const request = Core.Parser.parseMessage(message, logger);
    if (!(request instanceof Core.IncomingRequestMessage)) return deliver(message); // let sip.js report what it cannot parse
    if (verdict === 'allowed') return handler?.(request);
    options.ua.userAgentCore.replyStateless(request, { ...refusalFor(verdict), extraHeaders: [ALLOW_HEADER] });
  };
  const send = transport.send.bind(transport);
  transport.send = (message: string) => send(rewriteAllowHeaders(message));
}
