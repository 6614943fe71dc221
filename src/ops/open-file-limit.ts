import { readFileSync } from 'node:fs';

/** Assumed where the limit cannot be read: the usual default soft limit on Linux and macOS shells. */
const ASSUMED_OPEN_FILE_LIMIT = 1024;

/**
 * The soft limit on open files (RLIMIT_NOFILE) of this process, from
 * /proc/self/limits on Linux; undefined elsewhere, and Infinity when unlimited.
 * Node has no API for it; read once at start.
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
 * A share of the descriptors the process may open, for one kind of inbound
 * connection (SIP's TCP/TLS/WebSocket flows, browsers' WebSockets): every
 * connection holds one, and the rest of the gateway needs the others (two RTP
 * sockets and ICE sockets per anchored call, listeners, log and config files).
 * With the usual 1024 and a quarter, 256 connections.
 */
export function shareOfOpenFiles(openFileLimit: number | undefined, fraction: number, bounds: { min: number; max: number }): number {
  const limit = openFileLimit ?? ASSUMED_OPEN_FILE_LIMIT;
  return Math.max(bounds.min, Math.min(bounds.max, Math.floor(limit * fraction)));
}

/** The default of `sip.limits.maxConnections`: a quarter of the open-file limit, 16 to 10,000. */
export function defaultMaxConnections(openFileLimit: number | undefined): number {
  return shareOfOpenFiles(openFileLimit, 1 / 4, { min: 16, max: 10_000 });
}
