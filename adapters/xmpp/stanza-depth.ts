import type { Element } from '@xmpp/xml';

/**
 * The deepest nesting a stanza may have here. Jingle needs six levels (iq, jingle, content,
 * description, payload-type, parameter); Prosody relays stanzas of up to 25,000 elements. One
 * nested a few thousand deep cannot be answered: @xmpp/iq's error reply carries the request's
 * child, and ltx writes elements recursively, so the reply died with "Maximum call stack size
 * exceeded", the sender waited for its timeout, and each such stanza logged an error.
 */
export const MAX_STANZA_DEPTH = 64;

/** Whether `stanza` nests deeper than `limit` levels; iterative, and it stops at the limit. */
export function nestsDeeperThan(stanza: Element, limit: number): boolean {
  const pending: { element: Element; depth: number }[] = [{ element: stanza, depth: 1 }];
  while (pending.length > 0) {
    const { element, depth } = pending.pop()!;
    if (depth > limit) return true;
    for (const child of element.children) if (typeof child !== 'string') pending.push({ element: child, depth: depth + 1 });
  }
  return false;
}

/**
 * Empties a stanza nested too deep before anything reads it (register it ahead of the
 * entity's middleware): an IQ without its child is answered bad-request, a message or
 * presence without content is ignored.
 */
export function flattenTooDeep(stanza: Element): void {
  if (nestsDeeperThan(stanza, MAX_STANZA_DEPTH)) stanza.children = [];
}
