import { Registerer, RegistererState, UserAgent } from 'sip.js';
import type { Logger, RegistrationMessage, SipCredentials } from '../../src/index.js';
import { OptionsKeepAlive } from './options-keep-alive.js';
import { makeSipJsLogConnector } from './sip-js-log.js';
import { targetOfUri, transportConstructorFor, type SipTransportHub } from './transport/index.js';

export interface SipRegistrationOptions {
  webUser: string;
  credentials: SipCredentials;
  hub: SipTransportHub;
  advertisedHost: string;
  contactPort: number | undefined;
  expiresSeconds: number;
  /** OPTIONS to the registrar over UDP every this many seconds (NAT bindings); 0: off. */
  keepAliveSeconds: number;
  logger: Logger;
  report: (message: RegistrationMessage) => void;
}

/**
 * One web user's registration at a SIP registrar (RFC 3261 section 10), made
 * by a sip.js UserAgent of its own (the AOR and the digest credentials are
 * per user). Its Contact is the gateway, with the web user's name as user
 * part, so calls the registrar routes to it ring that web user. sip.js answers
 * digest challenges (MD5 and SHA-256, RFC 8760), follows 423 Min-Expires and
 * refreshes before expiry; this class reports each state to the browser.
 */
export class SipRegistration {
  readonly #options: SipRegistrationOptions;
  #ua: UserAgent | undefined;
  #registerer: Registerer | undefined;
  #keepAlive: OptionsKeepAlive | undefined;
  #stopped = false;

  constructor(options: SipRegistrationOptions) {
    this.#options = options;
  }

  get aor(): string {
    return this.#options.credentials.aor;
  }

  async start(): Promise<void> {
    const { credentials, webUser, hub, advertisedHost, logger } = this.#options;
    const aor = UserAgent.makeURI(credentials.aor);
    const registrar = credentials.registrar ? UserAgent.makeURI(credentials.registrar) : undefined;
    if (!aor || (credentials.registrar && !registrar)) {
      this.#report('failed', 400, 'not a valid SIP URI');
      return;
    }
    const transport = hub.createTransport(`registration:${webUser}`);
    // RFC 7118 section 5: registered over WebSocket, the Contact says transport=ws; the
    // registrar reaches us back over our flow, since only a WebSocket client opens connections.
    const registrarProtocol = targetOfUri(credentials.registrar ?? credentials.aor)?.protocol;
    const contactTransport = registrarProtocol === 'WS' || registrarProtocol === 'WSS' ? 'ws' : 'udp';
    const ua = new UserAgent({
      uri: aor,
      viaHost: advertisedHost,
      contactName: webUser,
      contactParams: { transport: contactTransport },
      forceRport: true,
      userAgentString: 'Switchboard',
      transportConstructor: transportConstructorFor(transport),
      authorizationUsername: credentials.username ?? aor.user ?? webUser,
      authorizationPassword: credentials.password,
      logBuiltinEnabled: false,
      logConnector: makeSipJsLogConnector(logger),
    });
    if (this.#options.contactPort !== undefined && this.#options.contactPort !== 5060) ua.contact.uri.port = this.#options.contactPort;
    this.#ua = ua;
    await ua.start();
    const registerer = new Registerer(ua, { expires: this.#options.expiresSeconds, ...(registrar ? { registrar } : {}) });
    this.#registerer = registerer;
    const registrarUri = credentials.registrar ?? `sip:${aor.host}${aor.port ? `:${aor.port}` : ''}`;
    this.#keepAlive = OptionsKeepAlive.forTarget({ ua, target: registrarUri, intervalSeconds: this.#options.keepAliveSeconds, logger });
    registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Registered) {
        this.#report('registered');
        if (!this.#stopped) this.#keepAlive?.start();
      }
      // A refresh that fails after a success shows as Unregistered without a reject: say so.
      if (state === RegistererState.Unregistered && !this.#stopped) this.#report('unregistered');
    });
    this.#report('registering');
    await registerer.register({
      requestDelegate: {
        onReject: (response) => {
          const code = response.message.statusCode ?? 500;
          this.#report('failed', code, failureReason(code, response.message.reasonPhrase ?? ''));
        },
      },
    });
  }

  /** Unregisters (expires 0) and stops the user agent; for logout and shutdown. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#keepAlive?.stop();
    const registerer = this.#registerer;
    // A registrar that never answers must not hold up a logout or the gateway's shutdown: each
    // step gets a bounded wait (sip.js's own transaction timers would take 32 s).
    if (registerer?.state === RegistererState.Registered) await withinMs(registerer.unregister(), UNREGISTER_WAIT_MS);
    if (registerer) await withinMs(registerer.dispose(), UNREGISTER_WAIT_MS);
    if (this.#ua) await withinMs(this.#ua.stop(), UNREGISTER_WAIT_MS);
    this.#report('unregistered');
  }

  #report(state: RegistrationMessage['state'], code?: number, reason?: string): void {
    const message: RegistrationMessage = { type: 'registration', aor: this.aor, state };
    if (code !== undefined) message.code = code;
    if (reason !== undefined) message.reason = reason;
    this.#options.logger.info({ aor: this.aor, state, code }, 'SIP registration');
    this.#options.report(message);
  }
}

/** Clear words for the failures users can fix (RFC 3261 sections 21.4.2, 21.4.4, 10.3 step 7). */
function failureReason(code: number, phrase: string): string {
  switch (code) {
    case 401:
    case 407:
      return 'the registrar refused the credentials';
    case 403:
      return 'the registrar forbids this account';
    case 423:
      return 'the registrar wants a longer registration interval and gave none';
    case 404:
      return 'the registrar does not know this address of record';
    default:
      return phrase || `SIP ${code}`;
  }
}

/** How long a logout waits for each unregistration step before it lets go. */
const UNREGISTER_WAIT_MS = 2000;

/** Waits for `work` (its failure ignored) at most `ms`. */
async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
