import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../../src/signaling/replay-buffer.js';

describe('ReplayBuffer', () => {
  it('gives back the frames after what the client got, in order', () => {
    const buffer = new ReplayBuffer(10, 10_000);
    for (const text of ['a', 'b', 'c', 'd']) buffer.push(text);
    expect(buffer.sent).toBe(4);
    expect(buffer.after(4)).toEqual([]);
    expect(buffer.after(2)).toEqual(['c', 'd']);
    expect(buffer.after(0)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses a count beyond what was sent, and one that reaches back past what it keeps', () => {
    const buffer = new ReplayBuffer(3, 10_000);
    for (const text of ['a', 'b', 'c', 'd', 'e']) buffer.push(text);
    expect(buffer.after(6)).toBeUndefined();
    expect(buffer.after(1)).toBeUndefined();
    expect(buffer.after(2)).toEqual(['c', 'd', 'e']);
  });

  it('keeps at most maxBytes (but always the newest frame) and says when it is full', () => {
    const buffer = new ReplayBuffer(100, 10);
    buffer.push('12345');
    expect(buffer.full).toBe(false);
    buffer.push('67890');
    expect(buffer.full).toBe(true);
    buffer.push('abcdefghijklmnop');
    expect(buffer.after(2)).toEqual(['abcdefghijklmnop']);
    expect(buffer.after(1)).toBeUndefined();
  });
});
