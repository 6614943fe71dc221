import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { flattenTooDeep, MAX_STANZA_DEPTH, nestsDeeperThan } from '../../../adapters/xmpp/stanza-depth.js';

function nested(levels: number): Element {
  let element = xml('leaf', {});
  for (let i = 1; i < levels; i++) element = xml('n', {}, element);
  return element;
}

describe('stanza depth', () => {
  it('counts levels up to the limit, however deep the stanza', () => {
    expect(nestsDeeperThan(nested(MAX_STANZA_DEPTH), MAX_STANZA_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(MAX_STANZA_DEPTH + 1), MAX_STANZA_DEPTH)).toBe(true);
    expect(nestsDeeperThan(nested(100_000), MAX_STANZA_DEPTH)).toBe(true);
  });

  it('empties a stanza nested too deep and leaves a Jingle-deep one alone', () => {
    const deep = xml('iq', { type: 'set' }, nested(MAX_STANZA_DEPTH));
    flattenTooDeep(deep);
    expect(deep.children).toStrictEqual([]);
    const jingle = xml('iq', { type: 'set' }, xml('jingle', {}, xml('content', {}, xml('description', {}, xml('payload-type', {}, xml('parameter', {}))))));
    flattenTooDeep(jingle);
    expect(jingle.getChild('jingle')?.getChild('content')).toBeDefined();
  });
});
