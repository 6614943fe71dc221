import { AddressError, parseAddress, type Address } from '../../src/index.js';

export interface XmppInboundRules {
  rules: { match: string; target: string }[];
  defaultTarget?: string | undefined;
  allowedCallers?: string[];
}

/**
 * Whether `callerJid` (bare) may reach `target` through the service account: web users unless an
 * allow-list is set and the caller is not on it; anything else (a phone, a trunk) only for listed
 * callers. Pure.
 */
export function xmppCallerAllowed(callerJid: string, target: Address, allowedCallers: readonly string[] = []): boolean {
  const listed = allowedCallers.some((pattern) => (pattern.startsWith('*@') ? callerJid.endsWith(pattern.slice(1)) : callerJid === pattern));
  return target.scheme === 'web' ? allowedCallers.length === 0 || listed : listed;
}

/**
 * Who a call or message to the service account is for, by the resource it was addressed to
 * (`gateway@example.com/+15551234` → `tel:+15551234` with a rule `{ match: '^(\+\d+)$', target: 'tel:$1' }`).
 * No resource, or the gateway's own: `defaultTarget`. A resource no rule matches is a web user
 * name. Undefined when nothing valid comes out: the caller is declined. Pure.
 */
export function xmppInboundTarget(resource: string | undefined, ownResource: string, config: XmppInboundRules): Address | undefined {
  if (resource === undefined || resource === ownResource) return config.defaultTarget ? addressOrUndefined(config.defaultTarget) : undefined;
  for (const rule of config.rules) {
    const match = new RegExp(rule.match).exec(resource);
    if (!match) continue;
    return addressOrUndefined(rule.target.replace(/\$(\d)/g, (_, n: string) => match[Number(n)] ?? ''));
  }
  return addressOrUndefined(`web:${resource}`);
}

function addressOrUndefined(text: string): Address | undefined {
  try {
    return parseAddress(text);
  } catch (error) {
    if (error instanceof AddressError) return undefined;
    throw error;
  }
}
