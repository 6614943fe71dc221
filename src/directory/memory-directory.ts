import { TypedEmitter } from '../events/typed-emitter.js';
import { mayReplace, type Directory, type DirectoryEntry, type DirectoryEvents, type RegisterOutcome } from './directory.js';

/** The single-node directory: a map in this process. */
export class MemoryDirectory extends TypedEmitter<DirectoryEvents> implements Directory {
  readonly #entries = new Map<string, DirectoryEntry>();

  async register(entry: DirectoryEntry): Promise<RegisterOutcome> {
    const previous = this.#entries.get(entry.user);
    if (previous && previous.sessionId !== entry.sessionId && !mayReplace(entry, previous)) return { registered: false, holder: previous };
    this.#entries.set(entry.user, entry);
    if (!previous) this.safeEmit('presence', entry.user, 'online');
    return previous ? { registered: true, replaced: previous } : { registered: true };
  }

  async unregister(user: string, sessionId: string): Promise<boolean> {
    const current = this.#entries.get(user);
    if (!current || current.sessionId !== sessionId) return false;
    this.#entries.delete(user);
    this.safeEmit('presence', user, 'offline');
    return true;
  }

  async lookup(user: string): Promise<DirectoryEntry | undefined> {
    return this.#entries.get(user);
  }

  async list(): Promise<DirectoryEntry[]> {
    return [...this.#entries.values()];
  }

  async count(): Promise<number> {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.removeAllListeners();
  }
}
