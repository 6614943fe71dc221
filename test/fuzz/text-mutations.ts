import fc from 'fast-check';

/**
 * Mutations of real protocol text (SIP messages, SDP, XML), in the manner of a mutating fuzzer:
 * start from a valid sample so most inputs get deep into the parser, then damage it a little:
 * change, insert or delete characters (often a token from the protocol's own dictionary), cut
 * it short, repeat a slice or a whole line many times, drop or swap lines, change line endings.
 * Positions are taken modulo the text's length, so every mutation applies to any sample and
 * shrinks towards the start of the text.
 */
export type TextMutation =
  | { readonly kind: 'replace'; readonly at: number; readonly text: string }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'repeat'; readonly at: number; readonly length: number; readonly times: number }
  | { readonly kind: 'duplicate-line'; readonly line: number; readonly times: number }
  | { readonly kind: 'delete-line'; readonly line: number }
  | { readonly kind: 'swap-lines'; readonly a: number; readonly b: number }
  | { readonly kind: 'line-ending'; readonly ending: string };

/** Mostly a few, sometimes thousands: parsers must cope with huge counts of anything. */
export const count: fc.Arbitrary<number> = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 3000 }) });

const position = fc.nat({ max: 1_000_000 });

/** What gets inserted: a token of the protocol, a few random characters, or raw bytes. */
function insertion(dictionary: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...dictionary) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom('\0', '\x7f', '\u00a0', '\u2028', '\ufeff', '\ud800', '\u{1F600}', '\xff') },
  );
}

export function textMutation(dictionary: readonly string[]): fc.Arbitrary<TextMutation> {
  const text = insertion(dictionary);
  return fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), at: position, text }),
    fc.record({ kind: fc.constant('insert' as const), at: position, text }),
    fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: position }),
    fc.record({ kind: fc.constant('repeat' as const), at: position, length: fc.integer({ min: 1, max: 40 }), times: count }),
    fc.record({ kind: fc.constant('duplicate-line' as const), line: position, times: count }),
    fc.record({ kind: fc.constant('delete-line' as const), line: position }),
    fc.record({ kind: fc.constant('swap-lines' as const), a: position, b: position }),
    fc.record({ kind: fc.constant('line-ending' as const), ending: fc.constantFrom('\n', '\r', '\r\n', '\n\r', '\r\r\n') }),
  );
}

/** Lines with their own line ending kept, so joining them gives the text back. */
function lines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

function applyOne(text: string, mutation: TextMutation): string {
  const at = (n: number) => n % (text.length + 1);
  switch (mutation.kind) {
    case 'replace':
      return text.slice(0, at(mutation.at)) + mutation.text + text.slice(at(mutation.at) + 1);
    case 'insert':
      return text.slice(0, at(mutation.at)) + mutation.text + text.slice(at(mutation.at));
    case 'delete':
      return text.slice(0, at(mutation.at)) + text.slice(at(mutation.at) + mutation.length);
    case 'truncate':
      return text.slice(0, at(mutation.at));
    case 'repeat': {
      const start = at(mutation.at);
      const slice = text.slice(start, start + mutation.length);
      return text.slice(0, start) + slice.repeat(mutation.times) + text.slice(start + slice.length);
    }
    case 'duplicate-line': {
      const all = lines(text);
      const index = mutation.line % all.length;
      const line = all[index] ?? '';
      const copy = line.endsWith('\n') ? line : `${line}\r\n`;
      return [...all.slice(0, index), ...Array<string>(mutation.times).fill(copy), ...all.slice(index)].join('');
    }
    case 'delete-line': {
      const all = lines(text);
      all.splice(mutation.line % all.length, 1);
      return all.join('');
    }
    case 'swap-lines': {
      const all = lines(text);
      const a = mutation.a % all.length;
      const b = mutation.b % all.length;
      [all[a], all[b]] = [all[b] ?? '', all[a] ?? ''];
      return all.join('');
    }
    case 'line-ending':
      return text.replace(/\r?\n/g, mutation.ending);
  }
}

/** Applies the mutations in order; one that would grow the text past `maxLength` is skipped. */
export function applyMutations(text: string, mutations: readonly TextMutation[], maxLength: number): string {
  let result = text;
  for (const mutation of mutations) {
    const next = applyOne(result, mutation);
    if (next.length <= maxLength) result = next;
  }
  return result;
}

export interface MutatedTextOptions {
  /** Tokens of the protocol that mutations insert (separators, keywords, numbers at the edges). */
  readonly dictionary: readonly string[];
  readonly maxMutations?: number;
  readonly maxLength?: number;
}

/** A sample, mutated a few times (sometimes not at all: valid input must pass too). */
export function mutatedText(samples: readonly string[], options: MutatedTextOptions): fc.Arbitrary<string> {
  const mutations = fc.array(textMutation(options.dictionary), { maxLength: options.maxMutations ?? 6 });
  return fc.tuple(fc.constantFrom(...samples), mutations).map(([sample, list]) => applyMutations(sample, list, options.maxLength ?? 100_000));
}

/** Numbers at the edges of what protocol fields hold, and things that look like numbers but are not. */
export const EDGE_NUMBERS: readonly string[] = [
  '0', '1', '-1', '00', '007', '127', '128', '255', '256', '65535', '65536', '2147483647', '2147483648',
  '4294967295', '4294967296', '9999999999', '99999999999999999999', '1e3', '0x10', '1.5', ' 1', '1 ', 'NaN', '',
];
