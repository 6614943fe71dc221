/**
 * Who an inbound SIP call is for, and whom web users may call: pure rules
 * from the `sip.inbound` and `sip.outbound` configuration.
 */

const WEB_USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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
 * replacement (`$1` refers to the match's groups), else the user itself when
 * it is a valid web user name, else the default destination.
 */
export function webUserFor(
  requestUser: string,
  rules: { pattern: RegExp; user: string }[],
  defaultUser: string | undefined,
): string | undefined {
  for (const rule of rules) {
    if (!rule.pattern.test(requestUser)) continue;
    const user = requestUser.replace(rule.pattern, rule.user);
    return WEB_USER.test(user) ? user : undefined;
  }
  if (WEB_USER.test(requestUser)) return requestUser;
  return defaultUser;
}

/**
 * The dial policy against toll fraud: a web user may call a SIP URI only when
 * it matches an allowed pattern, or, with no patterns configured, when its
 * host is the gateway's own domain or the outbound proxy's host.
 */
export function makeDialPolicy(options: { allow: string[]; ownHosts: string[] }): (uri: string) => boolean {
  const patterns = options.allow.map((pattern, index) => {
    try {
      return new RegExp(pattern);
    } catch (error) {
      throw new TypeError(`sip.outbound.allow[${index}] is not a valid regular expression: ${(error as Error).message}`);
    }
  });
  const hosts = new Set(options.ownHosts.map((host) => host.toLowerCase()));
  return (uri) => {
    if (patterns.length > 0) return patterns.some((pattern) => pattern.test(uri));
    const host = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?]+)/i.exec(uri)?.[1]?.toLowerCase();
    return host !== undefined && hosts.has(host);
  };
}
