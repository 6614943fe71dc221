import { findParam, parseParams } from './sip-header-fields.js';
import { parseHostPort } from './sip-via.js';

/** The transports the hub speaks, as written in a Via (RFC 3261 section 20.42, RFC 7118 section 5). */
export type SipProtocol = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

/** Where a request goes next: the transport, the host (name or IP) and port. */
export interface SipTarget {
  readonly protocol: SipProtocol;
  readonly host: string;
  readonly port: number;
  /** The port was given in the URI rather than defaulted. */
  readonly explicitPort: boolean;
}

export interface ParsedSipUri {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number | undefined;
  /** Lower-case `transport=` parameter, if any. */
  readonly transport: string | undefined;
  readonly maddr: string | undefined;
}

/**
 * The host part of a sip: or sips: URI (RFC 3261 section 19.1.1):
 * `sip:user:password@host:port;uri-parameters?headers`. The user part may
 * hold `;` and `?`, so the host starts after the `@` when there is one.
 */
export function parseSipUri(uri: string): ParsedSipUri | undefined {
  const scheme = /^(sips?):/i.exec(uri.trim());
  // A URI holds no whitespace (RFC 3261 section 25.1); sent-by's LWS rules do not apply here.
  if (!scheme?.[1] || /\s/.test(uri.trim())) return undefined;
  let rest = uri.trim().slice(scheme[0].length);
  const at = rest.indexOf('@');
  if (at !== -1) rest = rest.slice(at + 1);
  const question = rest.indexOf('?');
  if (question !== -1) rest = rest.slice(0, question);
  const semicolon = rest.indexOf(';');
  const hostPort = parseHostPort(semicolon === -1 ? rest : rest.slice(0, semicolon));
  if (!hostPort) return undefined;
  const params = semicolon === -1 ? [] : parseParams(rest.slice(semicolon));
  return {
    secure: scheme[1].toLowerCase() === 'sips',
    host: hostPort.host,
    port: hostPort.port,
    transport: findParam(params, 'transport')?.value?.toLowerCase(),
    maddr: findParam(params, 'maddr')?.value,
  };
}

const TRANSPORTS: Readonly<Record<string, SipProtocol>> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS', ws: 'WS', wss: 'WSS' };

/**
 * The next hop of a request URI, following RFC 3263 section 4 without the
 * DNS NAPTR/SRV steps: an explicit `transport=` wins, else sips: means TLS
 * and sip: means UDP; the port defaults to 5061 for TLS and 5060 otherwise
 * (RFC 3261 section 19.1.2). `maddr` overrides the host (section 19.1.1).
 * Undefined for a URI the hub cannot reach (tel:, an unknown transport).
 */
export function targetOfUri(uri: string): SipTarget | undefined {
  const parsed = parseSipUri(uri);
  if (!parsed) return undefined;
  let protocol: SipProtocol | undefined;
  if (parsed.transport === undefined) protocol = parsed.secure ? 'TLS' : 'UDP';
  else protocol = TRANSPORTS[parsed.transport];
  if (!protocol) return undefined;
  // RFC 3261 section 26.2.2: sips: over TCP means TLS; over WS, WSS (RFC 7118 section 5.2).
  if (parsed.secure && protocol === 'TCP') protocol = 'TLS';
  if (parsed.secure && protocol === 'WS') protocol = 'WSS';
  if (parsed.secure && protocol === 'UDP') return undefined;
  const defaultPort = protocol === 'TLS' ? 5061 : protocol === 'WSS' ? 443 : protocol === 'WS' ? 80 : 5060;
  return { protocol, host: parsed.maddr ?? parsed.host, port: parsed.port ?? defaultPort, explicitPort: parsed.port !== undefined };
}
