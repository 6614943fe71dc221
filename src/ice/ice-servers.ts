import type { GatewayConfig } from '../config/config-schema.js';
import type { IceServer } from '../protocol/messages.js';
import { makeTurnCredentials } from './turn-credentials.js';

/**
 * The iceServers a browser gets in its welcome frame: the embedded STUN
 * responder (reached at the configured public host, or else at the host the
 * browser itself used to reach the gateway), extra STUN servers, and TURN
 * servers with fresh ephemeral credentials for this user.
 */
export function buildIceServers(
  config: Pick<GatewayConfig, 'ice' | 'stun'>,
  user: string,
  requestHost: string | undefined,
  stunPort: number | undefined,
  now = Date.now(),
): IceServer[] {
  const servers: IceServer[] = [];
  const stunHost = config.ice.publicHost ?? hostOnly(requestHost);
  if (config.stun.enabled && stunHost && stunPort) {
    servers.push({ urls: [`stun:${bracketIPv6(stunHost)}:${stunPort}`] });
  }
  if (config.ice.stun.length > 0) servers.push({ urls: [...config.ice.stun] });
  for (const turn of config.ice.turn) {
    const { username, credential } = makeTurnCredentials({ secret: turn.secret, user, ttlSeconds: turn.ttlSeconds, now });
    servers.push({ urls: [...turn.urls], username, credential });
  }
  return servers;
}

/** `example.org:8080` -> `example.org`, `[::1]:8080` -> `::1`. */
function hostOnly(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const bracketed = /^\[([^\]]+)\](:\d+)?$/.exec(hostHeader);
  if (bracketed) return bracketed[1];
  return hostHeader.replace(/:\d+$/, '');
}

function bracketIPv6(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
