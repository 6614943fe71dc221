import { describe, expect, it } from 'vitest';
import { duplicateJsonKeys } from '../support/json-duplicate-keys.js';

describe('duplicateJsonKeys()', () => {
  it('finds a repeated key at the top and deeper, and nothing in clean JSON', () => {
    expect(duplicateJsonKeys('{"component":"sip","component":"sip.js","msg":"x"}')).toEqual(['component']);
    expect(duplicateJsonKeys('{"a":{"b":1,"b":2},"c":[{"d":1,"d":1}]}')).toEqual(['a.b', 'c.d']);
    expect(duplicateJsonKeys('{"a":"{\\"a\\":1,\\"a\\":2}","b":[1,"a","a"],"c":{"a":1}}')).toEqual([]);
  });
});
