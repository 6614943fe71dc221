import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/load-config.js';
import { FileSubscriptionStore, SubscriberFileTooLargeError } from '../../../src/directory/file-subscription-store.js';
import { createSilentLogger } from '../../../src/logging/logger.js';

// xmpp.component.subscribersFile: the component's presence subscriptions on disk, written whole
// and atomically, read back at start.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-subscriptions-'));
  dirs.push(dir);
  return join(dir, 'subscribers.json');
}

describe('FileSubscriptionStore', () => {
  it('keeps every change of a burst (writes folded together), removes, and a new store reads it back', async () => {
    const file = tempFile();
    const store = new FileSubscriptionStore(file, createSilentLogger());
    expect(await store.load()).toEqual([]);
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.add({ owner: i % 2 ? 'alice' : 'bob', subscriber: `c${i}@example.org` })));
    await store.remove({ owner: 'bob', subscriber: 'c0@example.org' });
    const again = await new FileSubscriptionStore(file, createSilentLogger()).load();
    expect(again).toHaveLength(49);
    expect(again).toContainEqual({ owner: 'alice', subscriber: 'c1@example.org' });
    expect(again).not.toContainEqual({ owner: 'bob', subscriber: 'c0@example.org' });
    // Only the file itself is left: temporary files were renamed over it.
    expect(readdirSync(join(file, '..'))).toEqual(['subscribers.json']);
  });

  it('moves a file that is no subscriber list aside and starts empty; refuses a file too large to be one', async () => {
    const file = tempFile();
    writeFileSync(file, '{"version":1,"subscriptions":{"alice":[42]}}');
    expect(await new FileSubscriptionStore(file, createSilentLogger()).load()).toEqual([]);
    const names = readdirSync(join(file, '..'));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^subscribers\.json\.corrupt-\d+$/);
    expect(readFileSync(join(file, '..', names[0]!), 'utf8')).toContain('[42]');

    writeFileSync(file, '');
    truncateSync(file, 65 * 1024 * 1024);
    await expect(new FileSubscriptionStore(file, createSilentLogger()).load()).rejects.toBeInstanceOf(SubscriberFileTooLargeError);
  });

  it('the config schema wants an absolute path and a bounded cap', () => {
    const component = { domain: 'gw.example.org', password: 'secret' };
    const xmpp = (extra: object) => ({ xmpp: { enabled: true, component: { ...component, ...extra } } });
    expect(validateConfig(xmpp({ subscribersFile: '/var/lib/switchboard/subscribers.json' })).xmpp.component).toMatchObject({ maxSubscriptions: 10_000 });
    expect(() => validateConfig(xmpp({ subscribersFile: 'subscribers.json' }))).toThrow(/absolute file path/);
    expect(() => validateConfig(xmpp({ maxSubscriptions: 0 }))).toThrow();
  });
});
