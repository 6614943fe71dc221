import { readFileSync } from 'node:fs';

/** Assumed where the limit cannot be read: the usual default soft limit on Linux and macOS shells. */
const ASSUMED_OPEN_FILE_LIMIT = 1024;

/**
 * The soft limit on open files (RLIMIT_NOFILE) of this process, from
 * /proc/self/limits on Linux; undefined elsewhere, and Infinity when unlimited.
 * Node has no API for it; read once when the adapter starts.
 */
export function readOpenFileLimit(limitsFile = '/proc/self/limits'): number | undefined {
  let text: string;
  try {
    text = readFileSync(limitsFile, 'utf8');
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  if (soft === 'unlimited') return Infinity;
  const value = Number(soft);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The default of `sip.limits.maxConnections`: a quarter of the descriptors
 * the process may open. Every SIP connection holds one, and the rest of the
 * gateway needs the others (the HTTP server and each browser's WebSocket, two
 * RTP sockets per anchored call, ICE sockets, log and config files); with the
 * usual 1024 that is 256 SIP connections and 768 descriptors for everything else.
 */
export function defaultMaxConnections(openFileLimit: number | undefined): number {
  const limit = openFileLimit ?? ASSUMED_OPEN_FILE_LIMIT;
  return Math.max(16, Math.min(10_000, Math.floor(limit / 4)));
}
