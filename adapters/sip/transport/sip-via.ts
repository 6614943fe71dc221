import { findParam, parseParams, type HeaderParam } from './sip-header-fields.js';

/**
 * One Via header field value (RFC 3261 section 20.42):
 * `SIP / 2.0 / transport SP sent-by *( SEMI via-params )`, with LWS allowed
 * around every `/`, `:` and `;`.
 */
export interface ParsedVia {
  /** Transport token as written, upper-cased: `UDP`, `TCP`, `TLS`, `WS`, `WSS`, `SCTP`... */
  readonly protocol: string;
  /** Host without IPv6 brackets. */
  readonly host: string;
  readonly port: number | undefined;
  readonly params: readonly HeaderParam[];
}

const VIA_PREFIX = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s*/i;
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
/** RFC 3261 section 25.1 `gen-value`: token, host (IPv6 references included) or quoted-string; empty as written by some phones. */
const GEN_VALUE = /^(?:[A-Za-z0-9.!%*_+`'~:[\]-]*|"(?:[^"\\]|\\[\s\S])*")$/;
const HOSTNAME = /^[A-Za-z0-9_.-]+$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** Parses `host[:port]` where host may be `[IPv6]`; undefined when malformed. */
export function parseHostPort(text: string): { host: string; port: number | undefined } | undefined {
  const compact = text.replace(/\s+/g, '');
  let host: string;
  let rest: string;
  if (compact.startsWith('[')) {
    const close = compact.indexOf(']');
    if (close === -1) return undefined;
    host = compact.slice(1, close);
    if (!IPV6.test(host)) return undefined;
    rest = compact.slice(close + 1);
  } else {
    const colon = compact.indexOf(':');
    host = colon === -1 ? compact : compact.slice(0, colon);
    if (!HOSTNAME.test(host)) return undefined;
    rest = colon === -1 ? '' : compact.slice(colon);
  }
  if (rest === '') return { host, port: undefined };
  if (!rest.startsWith(':')) return undefined;
  const port = parsePort(rest.slice(1));
  return port === undefined ? undefined : { host, port };
}

/** `host` for a URI or sent-by: IPv6 literals get their brackets back. */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Parses one Via value; undefined when malformed. Parameters must be `token [= gen-value]`
 * (RFC 3261 section 20.42 via-params): anything else, such as a `<`, would be split one way
 * here (parseParams keeps `<...>` together, as in name-addr) and another way by sip.js, and a
 * `received` added by the hub could end up inside another parameter's value. A parameter named
 * twice is malformed too: the hub would read the first `branch`, sip.js the last.
 */
export function parseViaValue(value: string): ParsedVia | undefined {
  const prefix = VIA_PREFIX.exec(value);
  if (!prefix?.[1]) return undefined;
  const rest = value.slice(prefix[0].length);
  const semicolon = rest.indexOf(';');
  const sentBy = parseHostPort(semicolon === -1 ? rest : rest.slice(0, semicolon));
  if (!sentBy) return undefined;
  const params = semicolon === -1 ? [] : parseParams(rest.slice(semicolon));
  if (!params.every((param) => TOKEN.test(param.name) && (param.value === undefined || GEN_VALUE.test(param.value)))) return undefined;
  if (new Set(params.map((param) => param.name.toLowerCase())).size !== params.length) return undefined;
  return { protocol: prefix[1].toUpperCase(), host: sentBy.host, port: sentBy.port, params };
}

/** Re-emits a Via value in its compact canonical spelling (no optional LWS). */
export function formatViaValue(via: ParsedVia): string {
  const port = via.port === undefined ? '' : `:${via.port}`;
  const params = via.params.map((param) => (param.value === undefined ? `;${param.name}` : `;${param.name}=${param.value}`)).join('');
  return `SIP/2.0/${via.protocol} ${formatHost(via.host)}${port}${params}`;
}

export function viaParam(via: ParsedVia, name: string): HeaderParam | undefined {
  return findParam(via.params, name);
}

/** Replaces (or appends, keeping the order of the others) one Via parameter. */
export function withViaParam(via: ParsedVia, name: string, value: string | undefined): ParsedVia {
  const lower = name.toLowerCase();
  const existing = via.params.findIndex((param) => param.name.toLowerCase() === lower);
  const params = [...via.params];
  if (existing === -1) params.push({ name, value });
  else params[existing] = { name: params[existing]!.name, value };
  return { ...via, params };
}
