import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import fc from 'fast-check';
import { clone } from 'ltx';
import { count, EDGE_NUMBERS } from './text-mutations.js';

/**
 * Mutations of a parsed stanza (an ltx tree), for parsers that read elements rather than text:
 * set an attribute to an odd value or drop it, drop, repeat (thousands of times) or swap
 * children, rename an element or move it to another namespace, add children and text, or nest
 * elements very deep. Targets are picked by their index in document order, modulo the size.
 */
export type ElementMutation =
  | { readonly kind: 'set-attr'; readonly at: number; readonly name: string; readonly value: string }
  | { readonly kind: 'remove-attr'; readonly at: number; readonly index: number }
  | { readonly kind: 'remove-child'; readonly at: number; readonly index: number }
  | { readonly kind: 'repeat-child'; readonly at: number; readonly index: number; readonly times: number }
  | { readonly kind: 'swap-children'; readonly at: number; readonly a: number; readonly b: number }
  | { readonly kind: 'rename'; readonly at: number; readonly name: string }
  | { readonly kind: 'add-child'; readonly at: number; readonly name: string; readonly xmlns: string | undefined }
  | { readonly kind: 'add-text'; readonly at: number; readonly text: string }
  | { readonly kind: 'nest'; readonly at: number; readonly depth: number };

export interface ElementDictionary {
  readonly names: readonly string[];
  readonly attributes: readonly string[];
  readonly values: readonly string[];
  readonly namespaces: readonly string[];
}

/** Attribute values that break readers: numbers at the edges, whitespace, control and line-break characters, size. */
const ODD_VALUES: readonly string[] = [
  ...EDGE_NUMBERS, ' ', 'a b', ' x ', 'a\tb', 'x\r\na=injected:1', '\n', 'a;b', 'a=b', 'a,b', '*', '<', '"', "'", '&', '\0', '\x7f',
  '\u00a0', '\u2028', 'é', '😀', 'x'.repeat(5000), 'urn:x', 'BUNDLE', 'sha-256', 'AB:CD',
];

export function elementMutation(dictionary: ElementDictionary): fc.Arbitrary<ElementMutation> {
  const at = fc.nat({ max: 100_000 });
  const index = fc.nat({ max: 1000 });
  const value = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...dictionary.values) }, { weight: 2, arbitrary: fc.constantFrom(...ODD_VALUES) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('set-attr' as const), at, name: fc.constantFrom(...dictionary.attributes), value }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove-attr' as const), at, index }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove-child' as const), at, index }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('repeat-child' as const), at, index, times: count }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('swap-children' as const), at, a: index, b: index }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('rename' as const), at, name: fc.constantFrom(...dictionary.names) }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('add-child' as const), at, name: fc.constantFrom(...dictionary.names), xmlns: fc.option(fc.constantFrom(...dictionary.namespaces), { nil: undefined }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('add-text' as const), at, text: value }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('nest' as const), at, depth: fc.integer({ min: 1, max: 50 }) }) },
  );
}

function elements(root: Element): Element[] {
  const all: Element[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const el = pending.pop()!;
    all.push(el);
    pending.push(...el.getChildElements().reverse());
  }
  return all;
}

function childElements(el: Element): Element[] {
  return el.children.filter((child): child is Element => typeof child !== 'string');
}

function applyOne(root: Element, mutation: ElementMutation): void {
  const all = elements(root);
  const el = all[mutation.at % all.length]!;
  const children = childElements(el);
  const child = (n: number) => (children.length === 0 ? undefined : children[n % children.length]);
  switch (mutation.kind) {
    case 'set-attr':
      el.attrs[mutation.name] = mutation.value;
      return;
    case 'remove-attr': {
      const names = Object.keys(el.attrs);
      if (names.length > 0) delete el.attrs[names[mutation.index % names.length]!];
      return;
    }
    case 'remove-child': {
      const target = child(mutation.index);
      if (target) el.children.splice(el.children.indexOf(target), 1);
      return;
    }
    case 'repeat-child': {
      const target = child(mutation.index);
      if (target) for (let i = 1; i < mutation.times; i++) el.append(clone(target));
      return;
    }
    case 'swap-children': {
      const a = child(mutation.a);
      const b = child(mutation.b);
      if (!a || !b) return;
      const ia = el.children.indexOf(a);
      const ib = el.children.indexOf(b);
      [el.children[ia], el.children[ib]] = [b, a];
      return;
    }
    case 'rename':
      el.name = mutation.name;
      return;
    case 'add-child':
      el.append(xml(mutation.name, mutation.xmlns === undefined ? {} : { xmlns: mutation.xmlns }));
      return;
    case 'add-text':
      el.append(mutation.text);
      return;
    case 'nest': {
      let inner = el;
      for (let i = 0; i < mutation.depth; i++) inner = inner.cnode(xml(el.name, { ...el.attrs }));
      return;
    }
  }
}

/** A copy of `root` with the mutations applied in order. */
export function mutateElement(root: Element, mutations: readonly ElementMutation[]): Element {
  const copy = clone(root);
  for (const mutation of mutations) applyOne(copy, mutation);
  return copy;
}

/** A sample tree, mutated a few times (sometimes not at all). */
export function mutatedElement(samples: readonly Element[], dictionary: ElementDictionary, maxMutations = 5): fc.Arbitrary<Element> {
  return fc.tuple(fc.constantFrom(...samples), fc.array(elementMutation(dictionary), { maxLength: maxMutations })).map(([sample, list]) => mutateElement(sample, list));
}
