import { SignJWT, base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  AccessTokenError,
  USER_NAME_PATTERN,
  signAccessToken,
  verifyAccessToken,
} from '../../../src/auth/access-token.js';

const SECRET = 'correct horse battery staple';
const NOW = 1_700_000_000_000;

async function expectTokenError(promise: Promise<unknown>, code: AccessTokenError['code']): Promise<void> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AccessTokenError);
  expect((err as AccessTokenError).code).toBe(code);
  expect((err as AccessTokenError).name).toBe('AccessTokenError');
}

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

describe('access tokens', () => {
  it('round-trips the user and expiry', async () => {
    const token = await signAccessToken({ secret: SECRET, user: 'alice', ttlSeconds: 600, now: NOW });
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'))).toEqual({ alg: 'HS256', typ: 'JWT' });
    await expect(verifyAccessToken(token, SECRET, NOW + 1000)).resolves.toEqual({
      user: 'alice',
      expiresAt: NOW / 1000 + 600,
      groups: [],
    });
  });

  it('carries the groups claim the dial plan and registration rules name', async () => {
    const token = await signAccessToken({ secret: SECRET, user: 'alice', ttlSeconds: 600, now: NOW, groups: ['staff', 'pstn:us'] });
    await expect(verifyAccessToken(token, SECRET, NOW)).resolves.toMatchObject({ groups: ['staff', 'pstn:us'] });
    await expectTokenError(signAccessToken({ secret: SECRET, user: 'alice', ttlSeconds: 60, groups: ['no spaces'] }), 'invalid');
  });

  it('rejects a genuine token whose groups claim is not a list of group names', async () => {
    const key = new TextEncoder().encode(SECRET);
    for (const groups of ['staff', [1], ['a b'], Array.from({ length: 33 }, (_, i) => `g${i}`)]) {
      const token = await new SignJWT({ groups }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime(NOW / 1000 + 60).sign(key);
      await expectTokenError(verifyAccessToken(token, SECRET, NOW), 'invalid');
    }
  });

  it('reports an expired token as expired', async () => {
    const token = await signAccessToken({ secret: SECRET, user: 'alice', ttlSeconds: 60, now: NOW });
    await expect(verifyAccessToken(token, SECRET, NOW + 59_000)).resolves.toMatchObject({ user: 'alice' });
    await expectTokenError(verifyAccessToken(token, SECRET, NOW + 61_000), 'expired');
  });

  it('rejects a token signed with another secret', async () => {
    const token = await signAccessToken({ secret: 'another secret entirely', user: 'alice', ttlSeconds: 60, now: NOW });
    await expectTokenError(verifyAccessToken(token, SECRET, NOW), 'invalid');
  });

  it('rejects an expired token signed with another secret as invalid, not expired', async () => {
    const token = await signAccessToken({ secret: 'another secret entirely', user: 'alice', ttlSeconds: 60, now: NOW });
    await expectTokenError(verifyAccessToken(token, SECRET, NOW + 3_600_000), 'invalid');
  });

  it('rejects a tampered payload', async () => {
    const token = await signAccessToken({ secret: SECRET, user: 'alice', ttlSeconds: 60, now: NOW });
    const [header, , signature] = token.split('.');
    const forged = encodeJson({ sub: 'admin', iat: NOW / 1000, exp: NOW / 1000 + 60 });
    await expectTokenError(verifyAccessToken(`${header}.${forged}.${signature}`, SECRET, NOW), 'invalid');
  });

  it('rejects an unsigned alg=none token', async () => {
    const token = `${encodeJson({ alg: 'none', typ: 'JWT' })}.${encodeJson({ sub: 'alice', exp: NOW / 1000 + 60 })}.`;
    await expectTokenError(verifyAccessToken(token, SECRET, NOW), 'invalid');
  });

  it('rejects other HMAC algorithms even with the right secret', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .setExpirationTime(NOW / 1000 + 60)
      .sign(new TextEncoder().encode(SECRET));
    await expectTokenError(verifyAccessToken(token, SECRET, NOW), 'invalid');
  });

  it('rejects tokens without an expiry or with a bad subject', async () => {
    const key = new TextEncoder().encode(SECRET);
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(key);
    await expectTokenError(verifyAccessToken(noExp, SECRET, NOW), 'invalid');

    for (const sub of ['../etc', '', 'a'.repeat(65), '-alice']) {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setExpirationTime(NOW / 1000 + 60)
        .sign(key);
      await expectTokenError(verifyAccessToken(token, SECRET, NOW), 'invalid');
    }
  });

  it('rejects garbage', async () => {
    await expectTokenError(verifyAccessToken('not-a-jwt', SECRET, NOW), 'invalid');
    await expectTokenError(verifyAccessToken('', SECRET, NOW), 'invalid');
  });

  it('refuses to sign a bad user name', async () => {
    await expectTokenError(signAccessToken({ secret: SECRET, user: 'bad name', ttlSeconds: 60 }), 'invalid');
    await expectTokenError(signAccessToken({ secret: SECRET, user: '.hidden', ttlSeconds: 60 }), 'invalid');
  });

  it('exports the user name pattern', () => {
    expect(USER_NAME_PATTERN.test('a')).toBe(true);
    expect(USER_NAME_PATTERN.test('Alice_01.b-c')).toBe(true);
    expect(USER_NAME_PATTERN.test('a'.repeat(64))).toBe(true);
    expect(USER_NAME_PATTERN.test('a'.repeat(65))).toBe(false);
    expect(USER_NAME_PATTERN.test('_a')).toBe(false);
    expect(USER_NAME_PATTERN.test('a b')).toBe(false);
  });
});
