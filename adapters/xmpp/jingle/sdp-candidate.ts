import { SdpParseError } from './sdp-parse-error.js';
import type { CandidateType, IceCandidate } from './session-description.js';

const CANDIDATE_TYPES: ReadonlySet<string> = new Set<CandidateType>(['host', 'srflx', 'prflx', 'relay']);
/** RFC 6544 section 4.5; XEP-0176's `tcptype` takes the same three (and our Jingle import no other). */
const TCP_TYPES: ReadonlySet<string> = new Set(['active', 'passive', 'so']);
const TOKEN = /^[\x21-\x7e]+$/;
const DIGITS = /^\d{1,10}$/;

/**
 * Reads one SDP candidate (RFC 8839 section 5.1): `a=candidate:...`, `candidate:...` (the
 * `RTCIceCandidate.candidate` form) or the bare attribute value. Extension attributes we know
 * (`generation`, `network-id`, `tcptype`) are kept; `ufrag` is dropped because Jingle carries
 * it on the transport; others (`network-cost`) are ignored.
 */
export function parseSdpCandidate(line: string): IceCandidate {
  const value = line.trim().replace(/^a=/, '').replace(/^candidate:/, '');
  const tokens = value.split(/\s+/);
  const [foundation, component, protocol, priority, ip, port, typ, type, ...rest] = tokens;
  if (typ !== 'typ' || type === undefined || !CANDIDATE_TYPES.has(type)) {
    throw new SdpParseError('invalid-candidate', `candidate without a known "typ": ${line}`);
  }
  const candidate: IceCandidate = {
    foundation: token(foundation, line),
    component: number(component, 1, 256, line),
    protocol: token(protocol, line).toLowerCase(),
    priority: number(priority, 0, 2 ** 32 - 1, line),
    ip: token(ip, line),
    port: number(port, 0, 65535, line),
    type: type as CandidateType,
  };
  for (let i = 0; i + 1 < rest.length; i += 2) {
    const name = rest[i];
    const item = rest[i + 1];
    if (name === 'raddr') candidate.relAddr = token(item, line);
    else if (name === 'rport') candidate.relPort = number(item, 0, 65535, line);
    else if (name === 'tcptype') candidate.tcptype = tcpType(item, line);
    else if (name === 'generation') candidate.generation = number(item, 0, 2 ** 32 - 1, line);
    else if (name === 'network-id') candidate.network = number(item, 0, 2 ** 32 - 1, line);
  }
  return candidate;
}

/**
 * Writes the `candidate:...` value (no `a=` prefix), in libwebrtc's attribute order. With
 * `ufrag`, appends ` ufrag <ufrag>` as Conversations does for the lines it feeds libwebrtc, so
 * a candidate from an older ICE generation is ignored after a restart (JINGLE.md section 2.3).
 */
export function writeSdpCandidate(candidate: IceCandidate, options: { ufrag?: string } = {}): string {
  const c = candidate;
  let line = `candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.ip} ${c.port} typ ${c.type}`;
  if (c.relAddr !== undefined) line += ` raddr ${c.relAddr} rport ${c.relPort ?? 0}`;
  if (c.tcptype !== undefined) line += ` tcptype ${c.tcptype}`;
  if (c.generation !== undefined) line += ` generation ${c.generation}`;
  if (options.ufrag !== undefined) line += ` ufrag ${options.ufrag}`;
  if (c.network !== undefined) line += ` network-id ${c.network}`;
  return line;
}

function token(value: string | undefined, line: string): string {
  if (value === undefined || !TOKEN.test(value)) throw new SdpParseError('invalid-candidate', `malformed candidate: ${line}`);
  return value;
}

function tcpType(value: string | undefined, line: string): string {
  if (value === undefined || !TCP_TYPES.has(value)) throw new SdpParseError('invalid-candidate', `unknown tcptype: ${line}`);
  return value;
}

function number(value: string | undefined, min: number, max: number, line: string): number {
  const n = value !== undefined && DIGITS.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new SdpParseError('invalid-candidate', `malformed candidate: ${line}`);
  return n;
}
