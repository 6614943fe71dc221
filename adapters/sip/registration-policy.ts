import { AddressError, audienceIncludes, describeIdentity, parseAddress, type Audience, type SipCredentials, type WebIdentity } from '../../src/index.js';

/** One domain web users may register accounts in (sip.registration.domains). */
export interface RegistrationDomain extends Audience {
  /** The AOR's host part as written, with its port if the AORs carry one (`pbx.example.com`, `10.0.0.5:5080`). */
  readonly domain: string;
  /** Where REGISTERs for this domain go; default `sip:<domain>` (RFC 3261 section 10.2.6). */
  readonly registrar?: string | undefined;
}

export type RegistrationDecision = { readonly allowed: true; readonly registrar: string } | { readonly allowed: false; readonly detail: string };

/**
 * Which SIP accounts a login may have the gateway register: only AORs in a
 * configured domain, at that domain's registrar, for the domain's audience.
 * Otherwise anyone reaching the gateway could make it send REGISTERs (and
 * their digest retries) to any host: a scanner or reflector with the
 * gateway's address. A login may not choose another registrar.
 */
export class SipRegistrationPolicy {
  readonly #domains: readonly RegistrationDomain[];

  constructor(domains: readonly RegistrationDomain[]) {
    this.#domains = domains;
  }

  decide(credentials: SipCredentials, who: WebIdentity): RegistrationDecision {
    let host: string | undefined;
    try {
      const aor = parseAddress(credentials.aor);
      if (aor.scheme === 'sip' || aor.scheme === 'sips') host = aor.host;
    } catch (error) {
      if (!(error instanceof AddressError)) throw error;
    }
    if (!host) return { allowed: false, detail: `${credentials.aor} is not a SIP address of record` };
    const domain = this.#domains.find((entry) => entry.domain.toLowerCase() === host && audienceIncludes(entry, who));
    if (!domain) return { allowed: false, detail: `registering ${host} accounts is not allowed for ${describeIdentity(who)}` };
    const registrar = domain.registrar ?? `sip:${domain.domain}`;
    if (credentials.registrar !== undefined && credentials.registrar.toLowerCase() !== registrar.toLowerCase()) {
      return { allowed: false, detail: `the registrar for ${host} is set by the gateway` };
    }
    return { allowed: true, registrar };
  }
}
