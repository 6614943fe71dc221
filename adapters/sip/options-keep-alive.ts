import { Core, UserAgent } from 'sip.js';
import type { Logger } from '../../src/index.js';
import { targetOfUri } from './transport/index.js';

export interface OptionsKeepAliveOptions {
  ua: UserAgent;
  /** The proxy or registrar whose NAT binding must stay open. */
  target: string;
  intervalSeconds: number;
  logger: Logger;
}

/**
 * OPTIONS pings (RFC 3261 section 11) to an outbound proxy or registrar over
 * UDP: NATs and firewalls drop idle UDP bindings within 30 to 180 s, after
 * which calls and re-registrations from the far side no longer reach the
 * gateway. Any response, even an error, proves the path and refreshes the
 * binding. Streams need none of this: CRLF keep-alives (RFC 5626 section
 * 3.5.1) are answered by the transport hub, and a connection's state is
 * kept by both ends.
 */
export class OptionsKeepAlive {
  readonly #options: OptionsKeepAliveOptions;
  readonly #target: Core.URI;
  #interval: NodeJS.Timeout | undefined;
  #inFlight = false;
  /** Pings sent and those that got no response at all (Timer F: 408 from sip.js). */
  readonly counters = { sent: 0, unanswered: 0 };

  private constructor(options: OptionsKeepAliveOptions, target: Core.URI) {
    this.#options = options;
    this.#target = target;
  }

  /** A keep-alive for `target`, or undefined when it is not reached over UDP or the interval is 0 (off). */
  static forTarget(options: OptionsKeepAliveOptions): OptionsKeepAlive | undefined {
    if (options.intervalSeconds <= 0 || targetOfUri(options.target)?.protocol !== 'UDP') return undefined;
    const target = UserAgent.makeURI(options.target);
    return target ? new OptionsKeepAlive(options, target) : undefined;
  }

  start(): void {
    if (this.#interval) return;
    this.#interval = setInterval(() => this.#ping(), this.#options.intervalSeconds * 1000);
    this.#interval.unref();
  }

  stop(): void {
    clearInterval(this.#interval);
    this.#interval = undefined;
  }

  #ping(): void {
    // One at a time: over a dead path Timer F (32 s) is longer than the interval.
    if (this.#inFlight) return;
    const { ua, logger } = this.#options;
    const from = ua.configuration.uri;
    const message = ua.userAgentCore.makeOutgoingRequestMessage(Core.C.OPTIONS, this.#target, from, this.#target, {}, ['Accept: application/sdp']);
    this.#inFlight = true;
    this.counters.sent += 1;
    const done = (response: Core.IncomingResponse) => {
      this.#inFlight = false;
      const status = response.message.statusCode ?? 0;
      if (status === 408) this.counters.unanswered += 1;
      logger.debug({ target: this.#options.target, status }, 'OPTIONS keep-alive');
    };
    ua.userAgentCore.request(message, { onAccept: done, onReject: done, onRedirect: done });
  }
}
