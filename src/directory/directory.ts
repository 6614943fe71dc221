import type { TypedEmitter } from '../events/typed-emitter.js';
import type { PresenceStatus } from '../protocol/messages.js';

/** Where a logged-in user can be reached: which gateway node, which connection. */
export interface DirectoryEntry {
  user: string;
  sessionId: string;
  nodeId: string;
  /** Unix ms of the login. */
  since: number;
  /** An anonymous login (a name the user picked, no token). */
  guest: boolean;
}

/** What a registration did: took the name (maybe from an older session of it), or left it to its holder. */
export type RegisterOutcome = { readonly registered: true; readonly replaced?: DirectoryEntry } | { readonly registered: false; readonly holder: DirectoryEntry };

/**
 * Whether a new login may take a name someone holds. A token proves the name, so a token login
 * replaces the older session (the user moved to another tab or device). A guest proves nothing:
 * it never replaces anyone, or anybody could pick a logged-in user's name and take their calls.
 */
export function mayReplace(incoming: DirectoryEntry, _holder: DirectoryEntry): boolean {
  return !incoming.guest;
}

export type DirectoryEvents = {
  presence: [user: string, status: PresenceStatus];
  /**
   * A session of this node lost its name to a login on another node (a shared directory only;
   * on one node the login closes the old session itself). The session must close as replaced.
   */
  evicted: [entry: DirectoryEntry];
  listenererror: [event: string, error: unknown];
};

/**
 * Who is online, and on which connection. One user has one entry: a new token
 * login replaces the old one (the caller closes the old connection); a guest
 * login never replaces anyone. In-memory on a
 * single node; a shared store when several nodes serve the same users.
 *
 * Contract: `presence` is emitted on every node when a user comes online or
 * goes offline, not when one connection replaces another.
 */
export interface Directory extends TypedEmitter<DirectoryEvents> {
  /** Records the entry unless its name is held by a session `mayReplace` protects (atomically). */
  register(entry: DirectoryEntry): Promise<RegisterOutcome>;
  /** Removes the user only if `sessionId` is still theirs; true when removed. */
  unregister(user: string, sessionId: string): Promise<boolean>;
  /** Where the user is; rejects with GatewayError('unavailable') when a shared directory cannot be reached. */
  lookup(user: string): Promise<DirectoryEntry | undefined>;
  list(): Promise<DirectoryEntry[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}
