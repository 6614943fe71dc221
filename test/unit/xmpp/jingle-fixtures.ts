import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Element } from '@xmpp/xml';
import { parse } from 'ltx';
import { NS_JINGLE } from '../../../adapters/xmpp/jingle/namespaces.js';
import type { SessionDescription } from '../../../adapters/xmpp/jingle/session-description.js';

// Golden files for the Jingle <-> SDP tests (stanza's protocol-cases idea, STYLE-ANCHORS section 8).

const DIR = resolve(import.meta.dirname, '../../fixtures/jingle');

export function fixtureText(name: string): string {
  return readFileSync(resolve(DIR, name), 'utf8');
}

export function fixtureModel(name: string): SessionDescription {
  return JSON.parse(fixtureText(name)) as SessionDescription;
}

/** Parses XML and drops whitespace-only text, as an XMPP stream parser sees pretty-printed input. */
export function parseXml(text: string): Element {
  const root = parse(text.replace(/<!--[\s\S]*?-->/g, '').trim()) as Element;
  stripWhitespace(root);
  return root;
}

function stripWhitespace(el: Element): void {
  el.children = el.children.filter((child) => typeof child !== 'string' || child.trim() !== '');
  for (const child of el.children) if (typeof child !== 'string') stripWhitespace(child);
}

/** The `<jingle/>` inside a fixture's `<iq/>`. */
export function fixtureJingle(name: string): Element {
  const jingle = parseXml(fixtureText(name)).getChild('jingle', NS_JINGLE);
  if (!jingle) throw new Error(`${name} has no <jingle/>`);
  return jingle;
}

/** Attribute values as strings and children in order: two elements are equal on the wire iff these are. */
export interface CanonicalElement {
  name: string;
  ns: string | undefined;
  attrs: Record<string, string>;
  children: (CanonicalElement | string)[];
}

export function canonical(el: Element): CanonicalElement {
  const attrs = Object.fromEntries(
    Object.entries(el.attrs as Record<string, unknown>)
      .filter(([name]) => name !== 'xmlns')
      .map(([name, value]) => [name, String(value)] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return { name: el.getName(), ns: el.getNS(), attrs, children: el.children.map((child) => (typeof child === 'string' ? child : canonical(child))) };
}
