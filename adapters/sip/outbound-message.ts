import { Messager, UserAgent } from 'sip.js';
import { CallFailedError, GatewayError, type ChatDelivery, type ChatMessage, type Logger } from '../../src/index.js';
import { describeStatus } from './sip-reasons.js';
import type { SipDialPolicy } from './sip-dial-policy.js';
import type { SipTransportHub } from './transport/index.js';

/**
 * Chat messages to `sip:` and `tel:` addresses as MESSAGE requests (RFC 3428),
 * text/plain. The dial plan judges them exactly as a call to the same address
 * by the same sender (a web user who may not call a number may not write to
 * it either, and nothing is sent). `deliver` resolves once the request is on
 * its way; the far end's final answer comes later: a 2xx means delivered
 * (RFC 3428 section 7: 200 or 202), anything else (a 4xx-6xx, sip.js's 408
 * after Timer F, its 503 for a transport error) is reported to the sender
 * through `undeliverable`, a `message-error` frame for a web user.
 */
export class OutboundMessages implements ChatDelivery {
  constructor(
    private readonly options: {
      domain: string;
      /**
       * Where web users' addresses live in From: the domain, or without `sip.domain` the advertised
       * host with the port the gateway listens on unless it is 5060, so a phone's reply finds us.
       */
      fromAuthority: () => string;
      dialPolicy: SipDialPolicy;
      logger: Logger;
      ua: () => UserAgent | undefined;
      hub: () => SipTransportHub | undefined;
    },
  ) {}

  async deliver(message: ChatMessage): Promise<void> {
    const { to } = message;
    try {
      this.options.dialPolicy.check(to, message.sender);
    } catch (error) {
      // The chat router would read a CallFailedError as not-found; this is a refusal.
      if (error instanceof CallFailedError) throw new GatewayError('forbidden', error.message);
      throw error;
    }
    const ua = this.options.ua();
    if (!ua) throw new GatewayError('undeliverable', 'SIP is not running');
    const target = UserAgent.makeURI(this.#targetUri(message));
    if (!target) throw new GatewayError('bad-address', `${to.uri} is not a valid SIP URI`);
    const messager = new Messager(ua, target, message.body, 'text/plain;charset=utf-8', { params: this.#fromParams(message) });
    const reported = (statusCode: number, reasonPhrase: string) => {
      this.options.logger.info({ to: to.uri, statusCode }, 'SIP MESSAGE not delivered');
      message.undeliverable?.('undeliverable', `${to.uri} did not take the message (${describeStatus(statusCode, reasonPhrase)})`);
    };
    await messager.message({
      requestDelegate: {
        onReject: (response) => reported(response.message.statusCode ?? 500, response.message.reasonPhrase ?? ''),
      },
    });
  }

  #targetUri({ to }: ChatMessage): string {
    if (to.scheme === 'tel') return `sip:${to.user}@${this.options.domain};user=phone`;
    // A SIP-over-WebSocket client is known by the flow it opened (outbound-legs.ts does the same for calls).
    const webSocket = to.host ? this.options.hub()?.webSocketClientTransport(to.host) : undefined;
    return webSocket ? `${to.uri};transport=${webSocket}` : to.uri;
  }

  /**
   * A web user writes as `sip:<user>@<domain>`, the URI the gateway's inbound
   * rules map back to them, so the phone's reply reaches them. Anyone else
   * (an XMPP contact) writes as the gateway's own user, named in the display name.
   */
  #fromParams({ from }: ChatMessage): { fromUri?: string; fromDisplayName: string } {
    if (from.scheme === 'web') return { fromUri: `sip:${from.user}@${this.options.fromAuthority()}`, fromDisplayName: from.user };
    return { fromDisplayName: from.uri };
  }
}
