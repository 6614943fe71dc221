import type { DirectoryEntry, Directory, DirectoryEvents, RegisterOutcome } from '../directory/directory.js';
import { GatewayError } from '../errors/gateway-error.js';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Logger } from '../logging/logger.js';
import type { PresenceStatus } from '../protocol/messages.js';
import type { ClusterKeys } from './cluster-keys.js';
import type { ClusterScripts } from './cluster-scripts.js';
import type { RedisSubscriber } from './redis-subscriber.js';

export interface RedisDirectoryOptions {
  nodeId: string;
  keys: ClusterKeys;
  scripts: ClusterScripts;
  /** HGETALL / HLEN on the users hash. */
  redis: { hgetall(key: string): Promise<Record<string, string>>; hlen(key: string): Promise<number> };
  subscriber: RedisSubscriber;
  logger: Logger;
}

/** How many of this node's entries one RESYNC call carries. */
const RESYNC_BATCH = 500;

/**
 * The directory of a cluster, in Redis: one hash of who is where, changed only by Lua scripts
 * (directory-scripts.ts) so the replacement rule holds across nodes. Presence changes are
 * published on one channel that every node hears; a session replaced by a login on another node
 * is told on its node's directory channel and closed there (`evicted`).
 *
 * This node's own entries are also kept here, so its users keep reaching each other while Redis
 * is gone, and so they can be written again when it comes back (`resync`), empty after a
 * restart or after this node was taken for lost.
 */
export class RedisDirectory extends TypedEmitter<DirectoryEvents> implements Directory {
  readonly #options: RedisDirectoryOptions;
  readonly #local = new Map<string, DirectoryEntry>();

  constructor(options: RedisDirectoryOptions) {
    super();
    this.#options = options;
  }

  /** Starts hearing presence and evictions. */
  async start(): Promise<void> {
    const { subscriber, keys, nodeId } = this.#options;
    await subscriber.subscribe(keys.presenceChannel, (message) => this.#onPresence(message));
    await subscriber.subscribe(keys.directoryChannel(nodeId), (message) => this.#onEviction(message));
  }

  /** Users of this node, by name (what it would write back after a loss). */
  get localEntries(): DirectoryEntry[] {
    return [...this.#local.values()];
  }

  async register(entry: DirectoryEntry): Promise<RegisterOutcome> {
    let reply: unknown;
    try {
      reply = await this.#options.scripts.register(entry.user, JSON.stringify(entry), entry.sessionId, entry.nodeId, entry.guest ? '1' : '0');
    } catch (error) {
      throw unavailable(error);
    }
    const [status, holderJson] = reply as [number, string | undefined];
    const holder = holderJson === undefined ? undefined : (JSON.parse(holderJson) as DirectoryEntry);
    if (status === 0) return { registered: false, holder: holder! };
    this.#local.set(entry.user, entry);
    if (status === 1) this.safeEmit('presence', entry.user, 'online');
    return holder ? { registered: true, replaced: holder } : { registered: true };
  }

  async unregister(user: string, sessionId: string): Promise<boolean> {
    const local = this.#local.get(user);
    if (local?.sessionId === sessionId) this.#local.delete(user);
    try {
      const removed = (await this.#options.scripts.unregister(user, sessionId, this.#options.nodeId)) === 1;
      if (removed) this.safeEmit('presence', user, 'offline');
      return removed;
    } catch (error) {
      // Written back right by the resync once Redis is back; for this node the user is gone now.
      this.#options.logger.warn({ err: error, user }, 'directory unregister failed; the resync will remove the entry');
      if (local?.sessionId !== sessionId) return false;
      this.safeEmit('presence', user, 'offline');
      return true;
    }
  }

  async lookup(user: string): Promise<DirectoryEntry | undefined> {
    const local = this.#local.get(user);
    if (local) return local;
    let reply: unknown;
    try {
      reply = await this.#options.scripts.lookup(user);
    } catch (error) {
      throw unavailable(error);
    }
    return typeof reply === 'string' ? (JSON.parse(reply) as DirectoryEntry) : undefined;
  }

  async list(): Promise<DirectoryEntry[]> {
    try {
      const all = await this.#options.redis.hgetall(this.#options.keys.users);
      return Object.values(all).map((json) => JSON.parse(json) as DirectoryEntry);
    } catch {
      // Without Redis this node only knows its own users.
      return this.localEntries;
    }
  }

  async count(): Promise<number> {
    try {
      return await this.#options.redis.hlen(this.#options.keys.users);
    } catch {
      return this.#local.size;
    }
  }

  /**
   * Writes this node's users back after its connection returned, and gives up those whose name
   * a live session on another node took meanwhile (they are evicted: closed as replaced).
   */
  async resync(): Promise<void> {
    const entries = this.localEntries;
    const lost: string[] = [];
    for (let start = 0; start === 0 || start < entries.length; start += RESYNC_BATCH) {
      const batch = entries.slice(start, start + RESYNC_BATCH).map((entry) => JSON.stringify(entry));
      lost.push(...((await this.#options.scripts.resync(this.#options.nodeId, ...batch)) as string[]));
    }
    for (const user of lost) {
      const entry = this.#local.get(user);
      if (!entry) continue;
      this.#local.delete(user);
      this.#options.logger.info({ user }, 'a login on another node took this user while Redis was unreachable');
      this.safeEmit('evicted', entry);
    }
    this.#options.logger.info({ users: entries.length, evicted: lost.length }, 'directory written back');
  }

  /** Removes this node and its users from the directory (graceful stop). */
  async leave(): Promise<void> {
    this.#local.clear();
    await this.#options.scripts.leave(this.#options.nodeId);
  }

  async close(): Promise<void> {
    this.#local.clear();
    this.removeAllListeners();
  }

  #onPresence(message: string): void {
    const parsed = JSON.parse(message) as { user?: unknown; status?: unknown; node?: unknown };
    if (typeof parsed.user !== 'string' || (parsed.status !== 'online' && parsed.status !== 'offline')) return;
    // This node announced its own changes as it made them.
    if (parsed.node === this.#options.nodeId) return;
    this.safeEmit('presence', parsed.user, parsed.status as PresenceStatus);
  }

  #onEviction(message: string): void {
    const parsed = JSON.parse(message) as { user?: unknown; sessionId?: unknown };
    if (typeof parsed.user !== 'string' || typeof parsed.sessionId !== 'string') return;
    const entry = this.#local.get(parsed.user);
    // Only the session named, and only while it is still the user's here.
    if (!entry || entry.sessionId !== parsed.sessionId) return;
    this.#local.delete(parsed.user);
    this.safeEmit('evicted', entry);
  }
}

function unavailable(error: unknown): GatewayError {
  return new GatewayError('unavailable', 'the cluster directory (Redis) cannot be reached right now; try again', { cause: error });
}
