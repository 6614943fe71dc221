import { randomBytes } from 'node:crypto';

/**
 * The resume tokens of this node's sessions: opaque, random (256 bits), one per session at a time
 * and spent when used, so a token seen once (a log, a shoulder) cannot take a session over. A
 * token is only known to the node that issued it: a `resume` on another node of a cluster fails
 * and the client logs in again.
 */
export class ResumeTokens<Session> {
  readonly #sessions = new Map<string, Session>();
  readonly #tokens = new Map<Session, string>();

  /** A new token for `session`; its previous one no longer works. */
  issue(session: Session): string {
    this.revoke(session);
    const token = randomBytes(32).toString('base64url');
    this.#sessions.set(token, session);
    this.#tokens.set(session, token);
    return token;
  }

  /** The session `token` belongs to, once: the token is spent. */
  take(token: string): Session | undefined {
    const session = this.#sessions.get(token);
    if (session === undefined) return undefined;
    this.revoke(session);
    return session;
  }

  revoke(session: Session): void {
    const token = this.#tokens.get(session);
    if (token === undefined) return;
    this.#tokens.delete(session);
    this.#sessions.delete(token);
  }

  get size(): number {
    return this.#sessions.size;
  }
}
