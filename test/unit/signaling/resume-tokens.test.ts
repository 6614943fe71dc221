import { describe, expect, it } from 'vitest';
import { ResumeTokens } from '../../../src/signaling/resume-tokens.js';

describe('ResumeTokens', () => {
  it('issues 256-bit url-safe tokens, each good once', () => {
    const tokens = new ResumeTokens<string>();
    const token = tokens.issue('session-1');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.take(token)).toBe('session-1');
    expect(tokens.take(token)).toBeUndefined();
  });

  it('a new token for a session voids its last one; a revoked session has none', () => {
    const tokens = new ResumeTokens<string>();
    const first = tokens.issue('s');
    const second = tokens.issue('s');
    expect(second).not.toBe(first);
    expect(tokens.take(first)).toBeUndefined();
    expect(tokens.size).toBe(1);
    tokens.revoke('s');
    expect(tokens.take(second)).toBeUndefined();
    expect(tokens.size).toBe(0);
  });
});
