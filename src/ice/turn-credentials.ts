import { createHmac } from 'node:crypto';

/**
 * Ephemeral TURN credentials in the "TURN REST API" convention
 * (draft-uberti-behave-turn-rest-00, section 2.2), which coturn checks with
 * `use-auth-secret` / `static-auth-secret`: the username carries its own
 * expiry, and the password is an HMAC of the username under the shared
 * secret, so the TURN server can validate it without talking to us.
 */
export function makeTurnCredentials(o: {
  secret: string;
  user: string;
  ttlSeconds: number;
  /** Current time in milliseconds; defaults to Date.now(). */
  now?: number;
}): { username: string; credential: string; expiresAt: number } {
  if (o.secret === '') throw new TypeError('TURN secret must not be empty');
  if (o.user === '') throw new TypeError('TURN user must not be empty');
  if (!Number.isInteger(o.ttlSeconds) || o.ttlSeconds <= 0) {
    throw new RangeError(`ttlSeconds must be a positive integer, got ${o.ttlSeconds}`);
  }
  const expiresAt = Math.floor((o.now ?? Date.now()) / 1000) + o.ttlSeconds;
  // The timestamp comes first: coturn reads the expiry from the leading digits before the separator.
  const username = `${expiresAt}:${o.user}`;
  const credential = createHmac('sha1', o.secret).update(username, 'utf8').digest('base64');
  return { username, credential, expiresAt };
}
