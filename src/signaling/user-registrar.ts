import type { WebIdentity } from '../policy/party-identity.js';
import type { LoginCredentials, RegistrationMessage } from '../protocol/messages.js';

/**
 * Something that registers web users elsewhere while they are online (the
 * SIP adapter to a SIP registrar, the XMPP adapter logging in for them). The core tells it about logins and
 * logouts; it reports progress for the browser as `registration` frames.
 *
 * Contract: `loggedOut` for a session that is no longer the user's current
 * one (the user logged in again elsewhere) MUST be ignored.
 */
export interface UserRegistrar {
  /** `identity.user` logged in; `identity` also says whether by token (and in which groups) or as a guest. */
  loggedIn(
    identity: WebIdentity,
    sessionId: string,
    credentials: LoginCredentials,
    report: (message: RegistrationMessage) => void,
  ): void;
  loggedOut(user: string, sessionId: string): void;
}
