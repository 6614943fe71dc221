import { BlockList, isIP } from 'node:net';

/**
 * Keeps ICE candidates inside configured networks: tests pin ICE to loopback,
 * and production deployments keep internal interface addresses out of what
 * is relayed between parties.
 */

/** RFC 8839 section 5.1: foundation = 1*32 ice-char, ice-char = ALPHA / DIGIT / "+" / "/". */
const FOUNDATION = /^[A-Za-z0-9+/]{1,32}$/;
const DIGITS = /^[0-9]+$/;
/** RFC 4566 token, used for transport and candidate-type extensions. */
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

interface ParsedCandidate {
  address: string;
  family: 4 | 6;
}

function addNetwork(list: BlockList, network: string): void {
  const [address = '', bits, extra] = network.trim().split('/');
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (family === 0 || extra !== undefined || (bits !== undefined && !DIGITS.test(bits)) || prefix > max) {
    throw new TypeError(`${JSON.stringify(network)} is not an IP address or CIDR block`);
  }
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Reads the connection address of an `a=candidate:` or `candidate:` line per
 * the RFC 8839 section 5.1 grammar. Returns undefined for anything that does
 * not parse or whose address is not a literal IP: an FQDN (including the
 * mDNS `.local` names of draft-ietf-mmusic-mdns-ice-candidates) cannot be
 * placed in a network, so it cannot be shown to be inside one.
 */
function parseCandidate(line: string): ParsedCandidate | undefined {
  let text = line.trim();
  if (text.startsWith('a=')) text = text.slice(2);
  if (!text.startsWith('candidate:')) return undefined;
  const fields = text.slice('candidate:'.length).split(/[ \t]+/);
  const [foundation, component, transport, priority, address, port, typ, type] = fields;
  if (
    foundation === undefined ||
    component === undefined ||
    transport === undefined ||
    priority === undefined ||
    address === undefined ||
    port === undefined ||
    type === undefined
  ) {
    return undefined;
  }
  if (!FOUNDATION.test(foundation)) return undefined;
  if (!DIGITS.test(component) || component.length > 3) return undefined;
  if (!TOKEN.test(transport)) return undefined;
  if (!DIGITS.test(priority) || priority.length > 10) return undefined;
  if (!DIGITS.test(port) || Number(port) > 65535) return undefined;
  if (typ !== 'typ' || !TOKEN.test(type)) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  return { address, family: family === 4 ? 4 : 6 };
}

/**
 * Builds a predicate accepting candidates whose address lies in one of
 * `networks` (IP addresses or CIDR blocks, IPv4 or IPv6; a bare address is a
 * /32 or /128). No networks means no restriction. Throws TypeError on a
 * malformed network so a bad configuration fails at startup, not per call.
 */
export function makeCandidateFilter(networks: string[]): (candidate: string) => boolean {
  if (networks.length === 0) return () => true;
  const allowed = new BlockList();
  for (const network of networks) addNetwork(allowed, network);
  return (candidate) => {
    const parsed = parseCandidate(candidate);
    if (!parsed) return false;
    // BlockList matches IPv4-mapped IPv6 addresses against IPv4 blocks too.
    return allowed.check(parsed.address, parsed.family === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * Removes rejected `a=candidate:` lines from an SDP blob, leaving every other
 * line, and each line's own terminator (CRLF per RFC 8866 section 5, or a
 * bare LF from lenient peers), untouched. A bare CR ends a line too: SDP
 * readers such as sdp-transform take it for one, so a candidate after it
 * must not pass as part of the line before.
 */
export function filterSdpCandidates(sdp: string, accept: (candidate: string) => boolean): string {
  return sdp
    .split(/(?<=\n|\r(?!\n))/)
    .filter((line) => {
      const content = line.replace(/\r?\n$|\r$/, '');
      return !content.startsWith('a=candidate:') || accept(content);
    })
    .join('');
}
