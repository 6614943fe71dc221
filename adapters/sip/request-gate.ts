import { Core, type UserAgent } from 'sip.js';
import { buildStatelessResponse } from './transport/index.js';
import { ALLOW_HEADER, methodVerdict, refusalFor, requestMethod, rewriteAllowHeaders } from './sip-methods.js';
import { acceptRefusal, requestUriSchemeRefusal, requireRefusal, type Refusal } from './uas-request-checks.js';

/** The two ends of a sip.js transport the gate sits on. */
interface GatedTransport {
  onMessage: ((message: string) => void) | undefined;
  send(message: string): Promise<void>;
}

export interface RequestGateOptions {
  ua: UserAgent;
  /** Allowed methods the adapter answers itself, which sip.js 0.21 would refuse with 405 (UPDATE, RFC 3311). */
  handlers: ReadonlyMap<string, (request: Core.IncomingRequestMessage) => void>;
  /** The host the gateway's Warning header fields name (RFC 3261 section 20.43). */
  warningAgent: string;
}

/**
 * The UAS checks of RFC 3261 section 8.2 that sip.js lacks, at sip.js's
 * edge and in the section's order: method (8.2.1: 405 for methods the
 * gateway knows but does not accept, 501 for unknown ones, both with Allow),
 * Request-URI scheme (8.2.2.1: 416), then what sip.js cannot parse (400,
 * where sip.js would drop the request without a word), Require (8.2.2.3:
 * 420) and Accept (406). Methods sip.js lacks go to the adapter's handlers,
 * and everything the gateway sends advertises its real Allow list. An ACK is
 * never answered (section 17.2.1). Answers are stateless; over UDP the
 * transport hub absorbs retransmissions and repeats the answer, and streams
 * do not retransmit.
 */
export function gateRequests(transport: GatedTransport, options: RequestGateOptions): void {
  const deliver = transport.onMessage;
  if (!deliver) throw new Error('the user agent has not attached to its transport yet');
  const logger = options.ua.getLogger('sip.request-gate');
  const refuse = (message: string, refusal: Refusal): void => {
    const response = buildStatelessResponse(message, {
      status: refusal.statusCode,
      reason: refusal.reasonPhrase,
      ...(refusal.extraHeaders ? { extraHeaders: refusal.extraHeaders } : {}),
      ...(refusal.warning ? { warning: { agent: options.warningAgent, text: refusal.warning } } : {}),
    });
    transport.send(response).catch((error: unknown) => logger.warn(`stateless ${refusal.statusCode} failed: ${String(error)}`));
  };
  transport.onMessage = (message) => {
    const method = requestMethod(message);
    if (method === undefined) return deliver(message);
    const verdict = methodVerdict(method);
    if (verdict !== 'allowed') return refuse(message, { ...refusalFor(verdict), extraHeaders: [ALLOW_HEADER] });
    // Section 17.2.1: an ACK is never answered; one the gateway cannot take is dropped.
    const answer = method === 'ACK' ? () => undefined : (refusal: Refusal) => refuse(message, refusal);
    const scheme = requestUriSchemeRefusal(message);
    if (scheme) return answer(scheme);
    const request = Core.Parser.parseMessage(message, logger);
    if (!(request instanceof Core.IncomingRequestMessage)) {
      return answer({ statusCode: 400, reasonPhrase: 'Bad Request', warning: 'Malformed request: a header field does not follow RFC 3261 section 25' });
    }
    const refusal = requireRefusal(request) ?? acceptRefusal(request);
    if (refusal) return answer(refusal);
    const handler = options.handlers.get(method);
    return handler ? handler(request) : deliver(message);
  };
  const send = transport.send.bind(transport);
  transport.send = (message: string) => send(rewriteAllowHeaders(message));
}
