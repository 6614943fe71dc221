import {
  AddressError,
  CallFailedError,
  DialPlan,
  parseAddress,
  type Address,
  type DialRule,
  type PartyIdentity,
} from '../../src/index.js';

const WEB_USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NUMBER = /^\+?[0-9*#]{1,32}$/;

/**
 * The dial plan as the SIP adapter applies it (sip.outbound.dialPlan): to web
 * users' calls out, to transfers they ask of a SIP party (our REFER), and to
 * REFERs a SIP party sends (whose follow-up call the core checks again on the
 * referrer's behalf). Also translates between the gateway's addresses and the
 * SIP URIs that stand for them in Refer-To.
 */
export class SipDialPolicy {
  readonly #plan: DialPlan;
  readonly #domain: string;
  readonly #ownHosts: string[];
  /** host and host:port forms that reach this gateway's own SIP listeners. */
  readonly #ownAuthorities = new Set<string>();

  constructor(options: { rules: readonly DialRule[]; domain: string; ownHosts: readonly string[] }) {
    this.#plan = new DialPlan(options.rules, 'sip.outbound.dialPlan');
    this.#domain = options.domain;
    this.#ownHosts = [options.domain, ...options.ownHosts].map((host) => host.toLowerCase());
    this.listeningOn([5060]);
  }

  /** The SIP ports the gateway listens on: `host:port` with one of them is the gateway too. */
  listeningOn(ports: readonly number[]): void {
    this.#ownAuthorities.clear();
    for (const host of this.#ownHosts) {
      // A URI without a port means 5060 (RFC 3263 aside), so a bare host is ours only when we listen there.
      if (ports.includes(5060)) this.#ownAuthorities.add(host);
      for (const port of ports) this.#ownAuthorities.add(`${host}:${port}`);
    }
    // The domain is ours whatever the port: it is the name users and PBXs address us by.
    this.#ownAuthorities.add(this.#domain.toLowerCase());
  }

  /** Throws CallFailedError('forbidden') unless `who` (and everyone it acts for) may reach `target`. */
  check(target: Address, who: PartyIdentity, onBehalfOf: readonly PartyIdentity[] = []): void {
    const decision = this.#plan.decide(target, who, onBehalfOf);
    if (!decision.allowed) throw new CallFailedError('forbidden', decision.detail);
  }

  /**
   * The address a Refer-To URI from a SIP party stands for: our own domain's users are web users
   * (`sip:bob@<domain>` → `web:bob`) and its numbers `tel:` numbers, the rest is a SIP address.
   * Undefined when it is no address the gateway can call.
   */
  referTarget(uri: string): Address | undefined {
    try {
      const address = parseAddress(uri);
      if ((address.scheme === 'sip' || address.scheme === 'sips') && address.host && this.#ownAuthorities.has(address.host)) {
        if (NUMBER.test(address.user)) return parseAddress(`tel:${address.user}`);
        if (WEB_USER.test(address.user)) return parseAddress(`web:${address.user}`);
      }
      return address.scheme === 'xmpp' ? undefined : address;
    } catch (error) {
      if (error instanceof AddressError) return undefined;
      throw error;
    }
  }

  /** The SIP URI a SIP party is REFERred to for a gateway address (RFC 3515 Refer-To). */
  referToUri(target: string): string {
    if (target.startsWith('web:')) return `sip:${target.slice(4)}@${this.#domain}`;
    if (target.startsWith('tel:')) return `sip:${target.slice(4)}@${this.#domain};user=phone`;
    return target;
  }
}
