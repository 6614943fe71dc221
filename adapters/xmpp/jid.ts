/** `user@domain/resource` → `user@domain` (RFC 7622 section 3.1). */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

/** The resource part of a full JID, or undefined for a bare one. */
export function jidResource(jid: string): string | undefined {
  const slash = jid.indexOf('/');
  return slash < 0 ? undefined : jid.slice(slash + 1);
}

/** The local part (`user` of `user@domain`), or undefined for a domain JID. */
export function jidLocal(jid: string): string | undefined {
  const bare = bareJid(jid);
  const at = bare.indexOf('@');
  return at < 0 ? undefined : bare.slice(0, at);
}

export function jidDomain(jid: string): string {
  const bare = bareJid(jid);
  return bare.slice(bare.indexOf('@') + 1);
}
