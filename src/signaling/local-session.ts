import type { Directory, DirectoryEntry } from '../directory/directory.js';
import type { BrowserSession } from './browser-session.js';

/**
 * Where a web user is: their session on this node, `{ elsewhere }` with the directory entry when
 * another node of the cluster has them, or undefined when they are not online.
 */
export async function findLocalSession(
  directory: Directory,
  sessions: Map<string, BrowserSession>,
  nodeId: string,
  user: string,
): Promise<BrowserSession | { elsewhere: DirectoryEntry } | undefined> {
  const entry = await directory.lookup(user);
  if (!entry) return undefined;
  if (entry.nodeId !== nodeId) return { elsewhere: entry };
  return sessions.get(entry.sessionId);
}
