import { SignJWT, errors, jwtVerify, type JWTPayload } from 'jose';

/**
 * Access tokens for browser login: compact JWS (RFC 7515) JWTs (RFC 7519)
 * signed with HMAC-SHA256 under the configured secret, with the user name in
 * `sub`. The verifier pins HS256 so a token cannot choose its own algorithm
 * ("none", or an asymmetric one with the secret misused as a public key;
 * RFC 8725 sections 2.1 and 3.1). An optional `groups` claim (an array of
 * names) carries what the gateway's policies grant by group: dial plan rules
 * and SIP registration domains name groups, the issuer decides who is in them.
 */

/** Letters, digits, dot, underscore and dash; starts with a letter or digit; at most 64 characters. */
export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const ALGORITHM = 'HS256';

/** A group name in the `groups` claim. */
export const GROUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const MAX_GROUPS = 32;

export interface VerifiedAccessToken {
  user: string;
  /** Unix seconds. */
  expiresAt: number;
  /** The `groups` claim; empty when absent. */
  groups: string[];
}

export type AccessTokenErrorCode = 'expired' | 'invalid';

export class AccessTokenError extends Error {
  readonly code: AccessTokenErrorCode;

  constructor(code: AccessTokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AccessTokenError';
    this.code = code;
  }
}

function keyFrom(secret: string): Uint8Array {
  if (secret === '') throw new TypeError('access token secret must not be empty');
  return new TextEncoder().encode(secret);
}

export async function signAccessToken(o: {
  secret: string;
  user: string;
  ttlSeconds: number;
  groups?: string[];
  /** Current time in milliseconds; defaults to Date.now(). */
  now?: number;
}): Promise<string> {
  if (!USER_NAME_PATTERN.test(o.user)) {
    throw new AccessTokenError('invalid', `user name ${JSON.stringify(o.user)} does not match ${USER_NAME_PATTERN}`);
  }
  if (!Number.isInteger(o.ttlSeconds) || o.ttlSeconds <= 0) {
    throw new RangeError(`ttlSeconds must be a positive integer, got ${o.ttlSeconds}`);
  }
  const groups = o.groups ?? [];
  const badGroup = groups.find((group) => !GROUP_NAME_PATTERN.test(group));
  if (badGroup !== undefined || groups.length > MAX_GROUPS) {
    throw new AccessTokenError('invalid', `groups must be at most ${MAX_GROUPS} names matching ${GROUP_NAME_PATTERN}`);
  }
  const issuedAt = Math.floor((o.now ?? Date.now()) / 1000);
  return new SignJWT(groups.length > 0 ? { groups } : {})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(o.user)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + o.ttlSeconds)
    .sign(keyFrom(o.secret));
}

/**
 * Returns the user and expiry (unix seconds) of a valid token. Any failure is
 * an AccessTokenError: 'expired' for a genuine token past its `exp`, so the
 * client can offer to log in again, and 'invalid' for everything else.
 */
export async function verifyAccessToken(
  token: string,
  secret: string,
  /** Current time in milliseconds; defaults to Date.now(). */
  now?: number,
): Promise<VerifiedAccessToken> {
  const key = keyFrom(secret);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      // A token without an expiry would be valid forever; demand one.
      requiredClaims: ['sub', 'exp'],
      ...(now === undefined ? {} : { currentDate: new Date(now) }),
    }));
  } catch (err) {
    // jose checks the signature before the claims, so JWTExpired implies a genuine token.
    if (err instanceof errors.JWTExpired) throw new AccessTokenError('expired', 'access token has expired', { cause: err });
    throw new AccessTokenError('invalid', 'access token is invalid', { cause: err });
  }
  const { sub, exp, groups } = payload;
  if (typeof sub !== 'string' || !USER_NAME_PATTERN.test(sub)) {
    throw new AccessTokenError('invalid', 'access token subject is not a valid user name');
  }
  if (typeof exp !== 'number') throw new AccessTokenError('invalid', 'access token has no expiry');
  if (groups !== undefined && !isGroupList(groups)) {
    throw new AccessTokenError('invalid', `access token groups must be an array of at most ${MAX_GROUPS} group names`);
  }
  return { user: sub, expiresAt: exp, groups: groups ?? [] };
}

function isGroupList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= MAX_GROUPS && value.every((group) => typeof group === 'string' && GROUP_NAME_PATTERN.test(group));
}
