/**
 * Who an inbound SIP call is for: pure rules from the `sip.inbound`
 * configuration (whom callers may reach outwards is the dial plan's matter,
 * sip-dial-policy.ts).
 */

const WEB_USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A rule may send callers to a built-in service instead (`service:echo`: a cluster edge's dispatcher spreads such calls over the nodes). */
const SERVICE = /^service:[a-z][a-z0-9-]{0,31}$/;

export interface InboundRule {
  match: string;
  user: string;
}

/** Compiles rules once; a bad pattern is a configuration error naming it. */
export function compileInboundRules(rules: InboundRule[]): { pattern: RegExp; user: string }[] {
  return rules.map((rule, index) => {
    try {
      return { pattern: new RegExp(rule.match), user: rule.user };
    } catch (error) {
      throw new TypeError(`sip.inbound.rules[${index}].match is not a valid regular expression: ${(error as Error).message}`);
    }
  });
}

/**
 * The web user a Request-URI user part rings: the first matching rule's
 * replacement (`$1` refers to the match's groups; a rule may name a `service:`
 * address instead), else the user itself when it is a valid web user name, else
 * the default destination.
 */
export function webUserFor(
  requestUser: string,
  rules: { pattern: RegExp; user: string }[],
  defaultUser: string | undefined,
): string | undefined {
  for (const rule of rules) {
    if (!rule.pattern.test(requestUser)) continue;
    const user = requestUser.replace(rule.pattern, rule.user);
    return WEB_USER.test(user) || SERVICE.test(user) ? user : undefined;
  }
  if (WEB_USER.test(requestUser)) return requestUser;
  return defaultUser;
}
