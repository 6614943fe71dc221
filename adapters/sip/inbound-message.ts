import { randomUUID } from 'node:crypto';
import type { Message } from 'sip.js';
import { AddressError, EXTERNAL_PARTY, GatewayError, parseAddress, type Address, type ChatRouter, type GatewayConfig, type Logger } from '../../src/index.js';
import { REQUEST_USER_HEADER } from './request-user-rewrite.js';
import { compileInboundRules, webUserFor } from './sip-routing-rules.js';
import { parseSource, SOURCE_HEADER, SourceRateLimiter } from './transport/index.js';

/** The browser protocol's own limit on a chat body (parse-client-message.ts): what a web user could send back. */
export const MAX_MESSAGE_CHARACTERS = 4096;

/** What a SIP answer to a MESSAGE is made of. */
export interface MessageRefusal {
  statusCode: number;
  reasonPhrase: string;
  extraHeaders?: string[];
}

/**
 * RFC 3428 section 7: a UAS answers a body it cannot render with 415 and an
 * Accept header. Chat in the gateway is plain text (the `message` frame), so
 * only `text/plain` in UTF-8 is taken (US-ASCII is a subset of it; a body
 * without a charset is read as UTF-8). Pure.
 */
export function bodyRefusal(contentType: string | undefined, body: string): MessageRefusal | undefined {
  const [mediaType, ...parameters] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/^"|"$/g, '');
  if (mediaType !== 'text/plain' || (charset !== undefined && charset !== 'utf-8' && charset !== 'us-ascii')) {
    return { statusCode: 415, reasonPhrase: 'Unsupported Media Type', extraHeaders: ['Accept: text/plain'] };
  }
  // RFC 3261 section 21.4.11: 413 for a body larger than the server will process.
  if ([...body].length > MAX_MESSAGE_CHARACTERS) return { statusCode: 413, reasonPhrase: 'Request Entity Too Large' };
  if (body.trim() === '') return { statusCode: 400, reasonPhrase: 'Empty Message' };
  return undefined;
}

/** The SIP answer to a chat the core could not hand on (the codes of ChatRouter.deliver). */
export function statusForChatError(error: unknown): MessageRefusal {
  const code = error instanceof GatewayError ? error.code : 'internal';
  switch (code) {
    case 'offline':
      return { statusCode: 480, reasonPhrase: 'Temporarily Unavailable' };
    case 'not-found':
    case 'bad-address':
      return { statusCode: 404, reasonPhrase: 'Not Found' };
    case 'forbidden':
      return { statusCode: 403, reasonPhrase: 'Forbidden' };
    default:
      return { statusCode: 500, reasonPhrase: 'Server Internal Error' };
  }
}

/**
 * MESSAGE requests from SIP parties (RFC 3428) to web users, through the
 * core's chat router. A SIP party may write to whom it may call: sources
 * outside `sip.inbound.allowedSources` were refused before sip.js
 * (inbound-source-gate.ts), and the Request-URI user is mapped by the same
 * `sip.inbound` rules as an INVITE's (404 when no web user stands for it).
 * On top of that: a per-source and total rate (503 + Retry-After), plain
 * text only (415), a body no larger than a web user's own messages (413).
 * 200 means the message was handed to the web user's connection
 * (no store-and-forward: an offline user is 480). A MESSAGE inside a call's
 * dialog (RFC 3428 section 4 allows it, some phones chat that way) goes to
 * the party of that call, under the same limits.
 */
export class InboundMessages {
  readonly #rules;
  readonly #rate: SourceRateLimiter;

  constructor(
    private readonly options: {
      inbound: GatewayConfig['sip']['inbound'];
      chat: ChatRouter;
      logger: Logger;
    },
  ) {
    this.#rules = compileInboundRules(options.inbound.rules);
    this.#rate = new SourceRateLimiter({ perSource: options.inbound.messagesPerSecond, total: options.inbound.messagesPerSecondTotal });
  }

  /**
   * A MESSAGE outside a dialog, for the web user its Request-URI maps to; or, with `dialogPeer`,
   * one inside a call's dialog, for the party the SIP party is in the call with.
   */
  receive(message: Message, dialogPeer?: Address): void {
    const { request } = message;
    const reject = (refusal: MessageRefusal) => void message.reject(refusal).catch(() => {});
    // The transport hub's stamp: the datagram's or connection's address, whatever the Via says.
    const source = parseSource(request.getHeader(SOURCE_HEADER));
    if (!this.#rate.take(source?.address)) return reject({ statusCode: 503, reasonPhrase: 'Too Many Messages', extraHeaders: ['Retry-After: 5'] });
    const body = request.body ?? '';
    const refusal = bodyRefusal(request.getHeader('content-type'), body);
    if (refusal) return reject(refusal);
    const webUser = dialogPeer ? undefined : webUserFor(request.getHeader(REQUEST_USER_HEADER) ?? request.ruri?.user ?? '', this.#rules, this.options.inbound.defaultUser);
    if (!dialogPeer && !webUser) return reject({ statusCode: 404, reasonPhrase: 'No Such User' });
    let from: Address;
    let to: Address;
    try {
      from = senderAddress(request.from.uri.user, request.from.uri.host, request.from.uri.port);
      to = dialogPeer ?? parseAddress(webUser!.startsWith('service:') ? webUser! : `web:${webUser}`);
    } catch (error) {
      if (error instanceof AddressError) return reject({ statusCode: 400, reasonPhrase: 'Bad From' });
      throw error;
    }
    this.options.chat
      .deliver({ id: randomUUID(), from, sender: EXTERNAL_PARTY, to, body })
      .then(() => message.accept())
      .catch((error: unknown) => {
        if (!(error instanceof GatewayError)) this.options.logger.error({ err: error }, 'inbound SIP MESSAGE failed');
        reject(statusForChatError(error));
      });
  }
}

/** The address a web user sees the message from and replies to: the From URI with its port (a phone on a port of its own). */
function senderAddress(user: string | undefined, host: string, port: number | undefined): Address {
  return parseAddress(`sip:${user ? `${user}@` : ''}${host}${port ? `:${port}` : ''}`);
}
