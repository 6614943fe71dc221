import { BlockList, isIP } from 'node:net';
import { Core, type UserAgent } from 'sip.js';
import type { Logger } from '../../src/index.js';
import { requestMethod } from './sip-methods.js';
import { sourceOfMessage, ThrottledLog, type SipSource } from './transport/index.js';

/** The two ends of a sip.js transport the gate sits on. */
interface GatedTransport {
  onMessage: ((message: string) => void) | undefined;
}

/**
 * Methods that start nothing by themselves: sip.js matches them to a
 * transaction it has (CANCEL, RFC 3261 section 9.2; ACK, section 17.2.1) or
 * drops them, so a source outside the list gains nothing by sending them, and
 * a proxy that forwards a caller's CANCEL from another address still works.
 */
const TRANSACTION_BOUND = new Set(['ACK', 'CANCEL']);

/** An address list (`192.0.2.0/24`, `2001:db8::/32`, `192.0.2.7`); empty: everyone. */
export class SourceAllowList {
  readonly #list: BlockList | undefined;

  constructor(networks: readonly string[]) {
    if (networks.length === 0) return;
    const list = new BlockList();
    for (const network of networks) {
      const [address, bits] = network.split('/');
      const type = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) list.addAddress(address!, type);
      else list.addSubnet(address!, Number(bits), type);
    }
    this.#list = list;
  }

  get restricted(): boolean {
    return this.#list !== undefined;
  }

  /** Whether `source` may start something; an unknown source never may when the list is set. */
  allows(source: SipSource | undefined): boolean {
    if (!this.#list) return true;
    if (!source) return false;
    const family = isIP(source.address);
    return family !== 0 && this.#list.check(source.address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/**
 * `sip.inbound.allowedSources` at sip.js's edge. The source is the one the
 * transport hub stamped from the datagram or connection (transport/
 * sip-source-stamp.ts), never a Via value the peer wrote. Every request
 * outside a dialog (no To tag, as sip.js itself reads it) from a source
 * outside the list is answered 403 before sip.js makes anything of it:
 * INVITE, and also MESSAGE, SUBSCRIBE, REFER, NOTIFY, OPTIONS, PUBLISH and
 * methods nobody knows, so a stranger can neither ring, nor write to, nor
 * probe the gateway. In-dialog requests (the BYE of a party a web user
 * called), ACK, CANCEL and all responses pass: sip.js matches them to a
 * dialog or transaction the gateway created, or refuses them (481).
 */
export function gateSources(transport: GatedTransport, options: { ua: UserAgent; allowList: SourceAllowList; logger: Logger }): void {
  if (!options.allowList.restricted) return;
  const deliver = transport.onMessage;
  if (!deliver) throw new Error('the user agent has not attached to its transport yet');
  const parserLogger = options.ua.getLogger('sip.source-gate');
  // A scan or a flood must not become a flood of log lines.
  const log = new ThrottledLog(options.logger);
  transport.onMessage = (message) => {
    const method = requestMethod(message);
    if (method === undefined || TRANSACTION_BOUND.has(method)) return deliver(message);
    const source = sourceOfMessage(message);
    if (options.allowList.allows(source)) return deliver(message);
    // Parsed by sip.js, so the To tag judged here is the one sip.js will route on.
    const request = Core.Parser.parseMessage(message, parserLogger);
    if (!(request instanceof Core.IncomingRequestMessage)) return deliver(message); // let sip.js report what it cannot parse
    if (request.toTag) return deliver(message);
    log.warn('source-not-allowed', { method, source }, 'SIP request from a source outside sip.inbound.allowedSources refused');
    options.ua.userAgentCore.replyStateless(request, { statusCode: 403, reasonPhrase: 'Source Not Allowed' });
  };
}
