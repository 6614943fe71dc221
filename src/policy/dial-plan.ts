import type { Address } from '../calls/address.js';
import { audienceIncludes, describeIdentity, type Audience, type PartyIdentity } from './party-identity.js';

/**
 * One line of the dial plan: a regular expression on the address as the user
 * dialled it, in its canonical form (`tel:+15551234567`, `sip:bob@pbx.example.com`;
 * no URI parameters, lower-case host), and who it applies to.
 */
export interface DialRule extends Audience {
  readonly match: string;
  /** `allow` (default) lets the audience through; `deny` stops it (for everyone when no audience is given). */
  readonly action?: 'allow' | 'deny' | undefined;
}

export type DialDecision = { readonly allowed: true } | { readonly allowed: false; readonly detail: string };

/** Addresses that can reach a SIP trunk or PBX, and so cost money or reach strangers: only these are policed. */
const POLICED_SCHEMES = new Set(['sip', 'sips', 'tel']);

interface CompiledRule {
  readonly pattern: RegExp;
  readonly action: 'allow' | 'deny';
  readonly audience: Audience;
  /** A deny rule that names nobody applies to everyone. */
  readonly everyone: boolean;
}

/**
 * Which SIP and `tel:` destinations a party may reach, as PBX operators write
 * it (an Asterisk context, a Kamailio permissions table): rules in order, the
 * first whose pattern matches the dialled address and whose audience includes
 * the party decides, and nothing that no rule allows gets through. The same
 * plan judges calls, transfers a web user asks for, and calls that follow a
 * transfer (which need the transferor's permission too: a stranger's REFER
 * must not borrow a web user's rights).
 *
 * Web users, services and XMPP addresses are not policed here: they cost
 * nothing and have their own admission rules.
 */
export class DialPlan {
  readonly #rules: CompiledRule[];

  /** `path` names the configuration key in errors (`sip.outbound.dialPlan`). */
  constructor(rules: readonly DialRule[], path = 'dialPlan') {
    this.#rules = rules.map((rule, index) => {
      let pattern: RegExp;
      try {
        pattern = new RegExp(rule.match);
      } catch (error) {
        throw new TypeError(`${path}[${index}].match is not a valid regular expression: ${(error as Error).message}`);
      }
      const action = rule.action ?? 'allow';
      const everyone = action === 'deny' && rule.users === undefined && rule.groups === undefined && rule.guests === undefined && rule.sources === undefined;
      return { pattern, action, audience: rule, everyone };
    });
  }

  get ruleCount(): number {
    return this.#rules.length;
  }

  /**
   * May `who` reach `target`, on its own and on behalf of each of `onBehalfOf`
   * (the parties whose transfer this call follows)? Every one of them must be allowed.
   */
  decide(target: Address, who: PartyIdentity, onBehalfOf: readonly PartyIdentity[] = []): DialDecision {
    if (!POLICED_SCHEMES.has(target.scheme)) return { allowed: true };
    for (const party of [who, ...onBehalfOf]) {
      const decision = this.#decideFor(target, party);
      if (!decision.allowed) return decision;
    }
    return { allowed: true };
  }

  #decideFor(target: Address, who: PartyIdentity): DialDecision {
    // The operator's own routing rule chose this destination for an admitted caller.
    if (who.kind === 'routed') return { allowed: true };
    for (const rule of this.#rules) {
      if (!rule.pattern.test(target.uri)) continue;
      if (!rule.everyone && !audienceIncludes(rule.audience, who)) continue;
      if (rule.action === 'allow') return { allowed: true };
      return { allowed: false, detail: `the dial plan denies ${target.uri} to ${describeIdentity(who)}` };
    }
    return { allowed: false, detail: `no dial plan rule allows ${target.uri} for ${describeIdentity(who)}` };
  }
}
