/**
 * A listener that could not open, said the way a person can act on: which
 * port, what it is for, and the configuration key and environment variable
 * that move it. The system's own error text (`listen EADDRINUSE: address
 * already in use 0.0.0.0:8080`) says the same thing less usefully, so it is
 * not repeated.
 */

import { ENV_PREFIX } from '../config/load-config.js';

/** One listening socket the gateway opens at start. */
export interface Listener {
  /** What it serves, e.g. `HTTP and WebSocket`. */
  what: string;
  /** The configuration key of its port, e.g. `server.port`. */
  portKey: string;
  /** The configuration key of its address, e.g. `server.host`. */
  hostKey: string;
}

export type ListenFailure = 'port-in-use' | 'port-not-permitted' | 'address-not-available';

/** `server.port` -> `SWITCHBOARD_SERVER__PORT`, `media.rtpPortMin` -> `SWITCHBOARD_MEDIA__RTP_PORT_MIN` (load-config's mapping, reversed). */
export function environmentVariableFor(key: string): string {
  return ENV_PREFIX + key.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

/** A listener that could not open, with the key to change. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  /** The key to change: the port's, or the address's for an address the machine does not have. */
  readonly key: string;
  readonly environmentVariable: string;

  constructor(
    readonly code: ListenFailure,
    readonly protocol: 'TCP' | 'UDP',
    readonly host: string,
    readonly port: number,
    readonly listener: Listener,
  ) {
    const key = code === 'address-not-available' ? listener.hostKey : listener.portKey;
    const variable = environmentVariableFor(key);
    const where = `${protocol} port ${port} on ${host} (${listener.what})`;
    const change = `set ${key} in the config file or ${variable} in the environment`;
    super(
      code === 'port-in-use'
        ? `${where} is already in use by another program: stop it, or ${change} to another port`
        : code === 'port-not-permitted'
          ? `${where} may not be opened by this user (ports below 1024 need privileges): ${change} to a port from 1024 up`
          : `${where}: this machine has no address ${host}; ${change} to one of its addresses, or 0.0.0.0`,
    );
    this.key = key;
    this.environmentVariable = variable;
  }
}

const FAILURES: Record<string, ListenFailure> = {
  EADDRINUSE: 'port-in-use',
  EACCES: 'port-not-permitted',
  EADDRNOTAVAIL: 'address-not-available',
};

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  cause?: unknown;
}

/** The system error inside `error` (adapters wrap it as their `cause`), if any. */
function systemErrorIn(error: unknown): SystemError | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    const candidate = current as SystemError;
    if (typeof candidate.code === 'string' && candidate.code in FAILURES) return candidate;
    current = candidate.cause;
  }
  return undefined;
}

/**
 * `error` as a ListenError when it is a bind or listen failure a setting can
 * fix; otherwise `error` itself. `listenerOf` picks the listener from the
 * failed socket's protocol and port (one adapter may open several).
 */
export function explainListenError(error: unknown, listenerOf: (protocol: 'TCP' | 'UDP', port: number) => Listener, fallbackHost: string): unknown {
  const system = systemErrorIn(error);
  if (!system) return error;
  // UDP sockets fail in bind(), TCP servers in listen().
  const protocol = system.syscall === 'bind' ? 'UDP' : 'TCP';
  const port = typeof system.port === 'number' ? system.port : 0;
  const host = typeof system.address === 'string' ? system.address : fallbackHost;
  return new ListenError(FAILURES[system.code as string]!, protocol, host, port, listenerOf(protocol, port));
}
