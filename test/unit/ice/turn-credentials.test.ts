import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeTurnCredentials } from '../../../src/ice/turn-credentials.js';

describe('makeTurnCredentials', () => {
  // Expected credentials were computed outside this code base with:
  //   printf '%s' '1700003600:alice' | openssl dgst -sha1 -hmac 'north-wind-secret' -binary | base64
  it('matches an openssl-computed known answer', () => {
    expect(makeTurnCredentials({ secret: 'north-wind-secret', user: 'alice', ttlSeconds: 3600, now: 1_700_000_000_000 })).toEqual(
      { username: '1700003600:alice', credential: 'Ev9WJy6IiNjALah9jF2ImB4FP0Y=', expiresAt: 1_700_003_600 },
    );
  });

  //   printf '%s' '1700086400:bob.smith' | openssl dgst -sha1 -hmac 'north-wind-secret' -binary | base64
  it('rounds the current time down to whole seconds', () => {
    expect(
      makeTurnCredentials({ secret: 'north-wind-secret', user: 'bob.smith', ttlSeconds: 86_400, now: 1_700_000_000_999 }),
    ).toEqual({ username: '1700086400:bob.smith', credential: 'JsIs0Ro8AWv8uX/r44jAKS7FwD0=', expiresAt: 1_700_086_400 });
  });

  it('defaults to the current clock', () => {
    const before = Math.floor(Date.now() / 1000);
    const { username, credential, expiresAt } = makeTurnCredentials({ secret: 's', user: 'carol', ttlSeconds: 60 });
    const after = Math.floor(Date.now() / 1000);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 60);
    expect(expiresAt).toBeLessThanOrEqual(after + 60);
    expect(username).toBe(`${expiresAt}:carol`);
    expect(credential).toBe(createHmac('sha1', 's').update(username).digest('base64'));
  });

  it('rejects an empty secret, empty user or non-positive ttl', () => {
    expect(() => makeTurnCredentials({ secret: '', user: 'a', ttlSeconds: 1 })).toThrow(TypeError);
    expect(() => makeTurnCredentials({ secret: 's', user: '', ttlSeconds: 1 })).toThrow(TypeError);
    expect(() => makeTurnCredentials({ secret: 's', user: 'a', ttlSeconds: 0 })).toThrow(RangeError);
    expect(() => makeTurnCredentials({ secret: 's', user: 'a', ttlSeconds: 1.5 })).toThrow(RangeError);
  });
});
