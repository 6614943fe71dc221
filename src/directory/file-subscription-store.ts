import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import type { PresenceSubscription, PresenceSubscriptionStore } from './presence-subscriptions.js';

/** The file's shape, versioned so a later format can read this one: owner -> bare JIDs that subscribed to it. */
const SUBSCRIPTIONS_FILE = z.object({ version: z.literal(1), subscriptions: z.record(z.string(), z.array(z.string())) });
type SubscriptionsFile = z.infer<typeof SUBSCRIPTIONS_FILE>;

/** What a file may hold at most: the adapter refuses subscriptions beyond `maxSubscriptions`, this guards reading. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** The file is larger than any list the gateway writes: not read (it would be held in memory whole). */
export class SubscriberFileTooLargeError extends Error {
  readonly code = 'subscriber-file-too-large';

  constructor(
    readonly path: string,
    readonly size: number,
  ) {
    super(`${path} is ${size} bytes, more than a subscriber list can be (${MAX_FILE_BYTES})`);
    this.name = 'SubscriberFileTooLargeError';
  }
}

/**
 * Subscriptions in a JSON file (`xmpp.component.subscribersFile`), for a gateway without Redis.
 * Every change rewrites the whole file atomically: written to a temporary file beside it, flushed
 * to disk, then renamed over it (rename is atomic within a file system, so a crash leaves the old
 * file or the new one, never half of one). Changes that come while a write runs are folded into
 * the next write. A file that cannot be parsed is moved aside (`<file>.corrupt-<time>`) and the
 * lists start empty: losing the lists only means contacts subscribe again, refusing to start would
 * take calls down for it.
 */
export class FileSubscriptionStore implements PresenceSubscriptionStore {
  readonly #path: string;
  readonly #logger: Logger;
  readonly #lists = new Map<string, Set<string>>();
  #writing: Promise<void> | undefined;
  #again = false;

  constructor(path: string, logger: Logger) {
    this.#path = path;
    this.#logger = logger;
  }

  async load(): Promise<PresenceSubscription[]> {
    let text: string;
    try {
      const file = await open(this.#path, 'r');
      try {
        const { size } = await file.stat();
        if (size > MAX_FILE_BYTES) throw new SubscriberFileTooLargeError(this.#path, size);
        text = await file.readFile('utf8');
      } finally {
        await file.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const parsed = parseSubscriptionsFile(text);
    if (!parsed) {
      const aside = `${this.#path}.corrupt-${Date.now()}`;
      await rename(this.#path, aside);
      this.#logger.error({ file: this.#path, movedTo: aside }, 'the subscriber file is not a subscriber list; moved aside, starting with none');
      return [];
    }
    const loaded: PresenceSubscription[] = [];
    for (const [owner, subscribers] of Object.entries(parsed.subscriptions)) {
      for (const subscriber of subscribers) {
        this.#listOf(owner).add(subscriber);
        loaded.push({ owner, subscriber });
      }
    }
    return loaded;
  }

  add({ owner, subscriber }: PresenceSubscription): Promise<void> {
    this.#listOf(owner).add(subscriber);
    return this.#write();
  }

  remove({ owner, subscriber }: PresenceSubscription): Promise<void> {
    const list = this.#lists.get(owner);
    if (!list?.delete(subscriber)) return Promise.resolve();
    if (list.size === 0) this.#lists.delete(owner);
    return this.#write();
  }

  #listOf(owner: string): Set<string> {
    let list = this.#lists.get(owner);
    if (!list) {
      list = new Set();
      this.#lists.set(owner, list);
    }
    return list;
  }

  /** Resolves once a write that includes every change so far is on disk. */
  #write(): Promise<void> {
    if (this.#writing) {
      this.#again = true;
      return this.#writing.then(() => this.#writing ?? Promise.resolve());
    }
    const run = async (): Promise<void> => {
      do {
        this.#again = false;
        await this.#writeOnce();
      } while (this.#again);
    };
    this.#writing = run()
      .catch((error: unknown) => this.#logger.error({ err: error, file: this.#path }, 'could not write the subscriber file'))
      .finally(() => {
        this.#writing = undefined;
      });
    return this.#writing;
  }

  async #writeOnce(): Promise<void> {
    const content: SubscriptionsFile = { version: 1, subscriptions: Object.fromEntries([...this.#lists].map(([owner, list]) => [owner, [...list]])) };
    const temporary = `${this.#path}.${randomBytes(6).toString('hex')}.tmp`;
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(`${JSON.stringify(content)}\n`, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temporary, this.#path);
    } catch (error) {
      await unlink(temporary).catch(() => {});
      throw error;
    }
  }
}

/** The file's content when it is a subscriber list, else undefined. */
export function parseSubscriptionsFile(text: string): SubscriptionsFile | undefined {
  try {
    const parsed = SUBSCRIPTIONS_FILE.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
