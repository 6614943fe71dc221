import type { IncomingMessage } from 'node:http';
import { networksInclude } from '../policy/party-identity.js';

/**
 * The address a request really comes from. Behind a TLS terminator or load
 * balancer every connection comes from the proxy, so when the TCP peer is
 * one of `trustedProxies` the X-Forwarded-For chain is read from the right,
 * skipping trusted hops: the first address no trusted proxy vouches for is
 * the client. Never trusted otherwise: anyone can write that header.
 */
export function clientAddress(request: IncomingMessage, trustedProxies: readonly string[]): string {
  const peer = unmappedAddress(request.socket.remoteAddress ?? '');
  if (!isTrustedProxy(peer, trustedProxies)) return peer;
  const header = request.headers['x-forwarded-for'];
  const chain = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  let client = peer;
  for (let i = chain.length - 1; i >= 0; i--) {
    client = chain[i]!;
    if (!networksInclude(trustedProxies, client)) break;
  }
  return client;
}

/** Whether the request's TCP peer is one of `trustedProxies` (its headers speak for the client). */
export function fromTrustedProxy(request: IncomingMessage, trustedProxies: readonly string[]): boolean {
  return isTrustedProxy(unmappedAddress(request.socket.remoteAddress ?? ''), trustedProxies);
}

/** An IPv4 address as itself, not in the `::ffff:a.b.c.d` form a dual-stack socket reports. */
export function unmappedAddress(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

function isTrustedProxy(peer: string, trustedProxies: readonly string[]): boolean {
  return trustedProxies.length > 0 && networksInclude(trustedProxies, peer);
}
