/**
 * Every party is a URI: `web:alice` (a browser user), `sip:bob@pbx.example.com`,
 * `xmpp:carol@example.org`, `service:echo`. The router picks the handler by
 * scheme; adapters turn their own identifiers into these.
 */
export type AddressScheme = 'web' | 'sip' | 'sips' | 'xmpp' | 'service' | 'tel';

export interface Address {
  readonly scheme: AddressScheme;
  /** User part: the web user name, SIP user, JID local part, service name or number. */
  readonly user: string;
  /** Domain part for sip/xmpp; absent for web, service and tel. */
  readonly host?: string;
  /** XMPP resource (`xmpp:carol@example.org/phone` calls that one device, without JMI). */
  readonly resource?: string;
  /** Canonical text form, e.g. `web:alice`. */
  readonly uri: string;
}

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

const SCHEMES = new Set<AddressScheme>(['web', 'sip', 'sips', 'xmpp', 'service', 'tel']);
const WEB_USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SERVICE = /^[a-z][a-z0-9-]{0,31}$/;
const NUMBER = /^\+?[0-9*#]{1,32}$/;
// Deliberately conservative: no spaces, quotes or angle brackets may reach another protocol's wire.
const URI_USER = /^[A-Za-z0-9._~+%!$&'()*,;=:-]{1,128}$/;
// RFC 7622 allows more, but nothing here may carry markup or whitespace into a stanza or a log.
const XMPP_RESOURCE = /^[^\s<>"'&]{1,256}$/;
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?$/;

/**
 * Parses an address. A bare user name means `web:<name>` and a bare number
 * `tel:<number>`, so dial boxes can take what people type.
 */
export function parseAddress(text: string): Address {
  const input = text.trim();
  if (input.length === 0 || input.length > 300) throw new AddressError('address is empty or too long');
  const colon = input.indexOf(':');
  if (colon < 0) {
    if (NUMBER.test(input)) return { scheme: 'tel', user: input, uri: `tel:${input}` };
    if (WEB_USER.test(input)) return { scheme: 'web', user: input, uri: `web:${input}` };
    throw new AddressError(`"${input}" is not an address`);
  }
  const scheme = input.slice(0, colon).toLowerCase() as AddressScheme;
  const rest = input.slice(colon + 1);
  if (!SCHEMES.has(scheme)) throw new AddressError(`unknown address scheme "${scheme}"`);
  switch (scheme) {
    case 'web':
      if (!WEB_USER.test(rest)) throw new AddressError(`"${rest}" is not a valid user name`);
      return { scheme, user: rest, uri: `web:${rest}` };
    case 'service':
      if (!SERVICE.test(rest)) throw new AddressError(`"${rest}" is not a valid service name`);
      return { scheme, user: rest, uri: `service:${rest}` };
    case 'tel':
      if (!NUMBER.test(rest)) throw new AddressError(`"${rest}" is not a valid number`);
      return { scheme, user: rest, uri: `tel:${rest}` };
    default:
      return parseUserAtHost(scheme, rest);
  }
}

function parseUserAtHost(scheme: AddressScheme, text: string): Address {
  let rest = text;
  let resource: string | undefined;
  if (scheme === 'xmpp') {
    // RFC 7622 section 3.1: the resource is everything after the first slash; it may contain ; and ?.
    const slash = rest.indexOf('/');
    if (slash >= 0) {
      resource = rest.slice(slash + 1);
      rest = rest.slice(0, slash);
      if (!XMPP_RESOURCE.test(resource)) throw new AddressError(`"${resource}" is not a valid XMPP resource`);
    }
  }
  // URI parameters (;transport=tcp) and headers (?subject=) stay out of the core's view.
  const bare = rest.split(/[;?]/, 1)[0]!;
  const at = bare.lastIndexOf('@');
  const user = at >= 0 ? bare.slice(0, at) : '';
  const host = at >= 0 ? bare.slice(at + 1) : bare;
  if (!HOST.test(host)) throw new AddressError(`"${host}" is not a valid host`);
  if (user && !URI_USER.test(user)) throw new AddressError(`"${user}" is not a valid user part`);
  if (scheme === 'xmpp' && !user) throw new AddressError('an xmpp address needs a local part');
  const lowerHost = host.toLowerCase();
  const uri = `${scheme}:${user ? `${user}@` : ''}${lowerHost}${resource ? `/${resource}` : ''}`;
  if (resource) return { scheme, user, host: lowerHost, resource, uri };
  return user ? { scheme, user, host: lowerHost, uri } : { scheme, user: '', host: lowerHost, uri };
}

export function webAddress(user: string): Address {
  return { scheme: 'web', user, uri: `web:${user}` };
}
