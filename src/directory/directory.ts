import type { TypedEmitter } from '../events/typed-emitter.js';
import type { PresenceStatus } from '../protocol/messages.js';

/** Where a logged-in user can be reached: which gateway node, which connection. */
export interface DirectoryEntry {
  user: string;
  sessionId: string;
  nodeId: string;
  /** Unix ms of the login. */
  since: number;
}

export type DirectoryEvents = {
  presence: [user: string, status: PresenceStatus];
  listenererror: [event: string, error: unknown];
};

/**
 * Who is online, and on which connection. One user has one entry: a new login
 * replaces the old one (the caller closes the old connection). In-memory on a
 * single node; a shared store when several nodes serve the same users.
 *
 * Contract: `presence` is emitted on every node when a user comes online or
 * goes offline, not when one connection replaces another.
 */
export interface Directory extends TypedEmitter<DirectoryEvents> {
  /** Records the entry; returns the entry it replaced, if any. */
  register(entry: DirectoryEntry): Promise<DirectoryEntry | undefined>;
  /** Removes the user only if `sessionId` is still theirs; true when removed. */
  unregister(user: string, sessionId: string): Promise<boolean>;
  lookup(user: string): Promise<DirectoryEntry | undefined>;
  list(): Promise<DirectoryEntry[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}
