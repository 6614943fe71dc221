import { BlockList, isIP } from 'node:net';

/**
 * Who a party is, as far as the gateway's policies care: what a dial plan
 * rule's audience is matched against. Web users are `user` (they proved it
 * with a signed token) or `guest` (they only chose a name); everyone the
 * gateway did not authenticate itself is `external` and may reach no
 * destination that costs money. `routed` marks a call whose destination the
 * operator's own routing rules chose for an admitted caller (an XMPP contact
 * sent to a phone by `xmpp.inbound.rules`): the rule is the permission.
 */
export type PartyIdentity =
  | { readonly kind: 'user'; readonly user: string; readonly groups: readonly string[] }
  | { readonly kind: 'guest'; readonly user: string }
  /** `source`: the IP address its signaling really came from (a PBX the operator trusts by address). */
  | { readonly kind: 'external'; readonly source?: string | undefined }
  | { readonly kind: 'routed'; readonly by: string };

/** A logged-in web user: a token user or a guest. */
export type WebIdentity = Extract<PartyIdentity, { kind: 'user' | 'guest' }>;

/** SIP callers, XMPP contacts, services: parties with no permissions of their own. */
export const EXTERNAL_PARTY: PartyIdentity = Object.freeze({ kind: 'external' });

/** Who may use a rule: token users (all, or those named or in a listed group), and guests only when asked. */
export interface Audience {
  /** Token users by name; unset with `groups` unset: every token user. */
  readonly users?: readonly string[] | undefined;
  /** Token users whose `groups` claim holds one of these. */
  readonly groups?: readonly string[] | undefined;
  /** Anonymous (guest) web users as well. */
  readonly guests?: boolean | undefined;
  /**
   * Outside parties (SIP) whose signaling comes from these networks (CIDR): a PBX of the operator's
   * whose REFERs may send web users to its extensions. Never matched on header values.
   */
  readonly sources?: readonly string[] | undefined;
}

export function audienceIncludes(audience: Audience, who: PartyIdentity): boolean {
  switch (who.kind) {
    case 'guest':
      return audience.guests === true;
    case 'user': {
      if (audience.users === undefined && audience.groups === undefined) return true;
      if (audience.users?.includes(who.user)) return true;
      return audience.groups?.some((group) => who.groups.includes(group)) ?? false;
    }
    case 'external':
      return who.source !== undefined && audience.sources !== undefined && networksInclude(audience.sources, who.source);
    case 'routed':
      return false;
  }
}

/** Whether `address` is inside one of `networks` (addresses or CIDR blocks). */
export function networksInclude(networks: readonly string[], address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const list = new BlockList();
  for (const network of networks) {
    const [base, bits] = network.split('/');
    const type = isIP(base ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(base!, type);
    else list.addSubnet(base!, Number(bits), type);
  }
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** How logs and refusals name a party. */
export function describeIdentity(who: PartyIdentity): string {
  switch (who.kind) {
    case 'user':
      return `user ${who.user}`;
    case 'guest':
      return `guest ${who.user}`;
    case 'external':
      return who.source ? `an outside party at ${who.source}` : 'an outside party';
    case 'routed':
      return `a route of ${who.by}`;
  }
}
