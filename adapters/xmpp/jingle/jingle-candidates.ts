import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { optionalEnum, optionalInt, optionalToken, requiredEnum, requiredInt, requiredToken, UINT32_MAX } from './jingle-attribute-readers.js';
import { parseSdpCandidate, writeSdpCandidate } from './sdp-candidate.js';
import type { CandidateType, IceCandidate } from './session-description.js';

const TYPES: readonly CandidateType[] = ['host', 'srflx', 'prflx', 'relay'];
const TCPTYPES = ['active', 'passive', 'so'] as const;

/**
 * XEP-0176 section 5.3 `<candidate/>` → candidate. Required: component, foundation, ip, port,
 * priority, protocol, type (Dino answers an unknown type with bad-request; we throw
 * JingleParseError). `generation`, `id` and `network` are kept when present; Monal's misspelt
 * `rel_port` (and `rel_addr`) are accepted (JINGLE.md section 2.3).
 */
export function importJingleCandidate(el: Element): IceCandidate {
  const candidate: IceCandidate = {
    foundation: requiredToken(el, 'foundation'),
    component: requiredInt(el, 'component', 1, 256),
    protocol: requiredToken(el, 'protocol').toLowerCase(),
    priority: requiredInt(el, 'priority', 0, UINT32_MAX),
    ip: requiredToken(el, 'ip'),
    port: requiredInt(el, 'port', 0, 65535),
    type: requiredEnum(el, 'type', TYPES),
  };
  const relAddr = optionalToken(el, 'rel-addr') ?? optionalToken(el, 'rel_addr');
  if (relAddr !== undefined) candidate.relAddr = relAddr;
  const relPort = optionalInt(el, 'rel-port', 0, 65535) ?? optionalInt(el, 'rel_port', 0, 65535);
  if (relPort !== undefined) candidate.relPort = relPort;
  const tcptype = optionalEnum(el, 'tcptype', TCPTYPES);
  if (tcptype !== undefined) candidate.tcptype = tcptype;
  const generation = optionalInt(el, 'generation', 0, UINT32_MAX);
  if (generation !== undefined) candidate.generation = generation;
  const network = optionalInt(el, 'network', 0, UINT32_MAX);
  if (network !== undefined) candidate.network = network;
  const id = optionalToken(el, 'id');
  if (id !== undefined) candidate.id = id;
  return candidate;
}

/**
 * Candidate → `<candidate/>` (XEP-0176 section 5.3), in the candidate's transport namespace
 * (inherited from the `<transport/>` it is placed in). Always writes `generation` (Monal's
 * parser requires it), `network` and an `id` (SDP has none: a stable one is derived from the
 * candidate), as the checklist in JINGLE.md section 7 asks.
 */
export function exportJingleCandidate(candidate: IceCandidate): Element {
  const c = candidate;
  const attrs: Record<string, string | number> = {
    component: c.component,
    foundation: c.foundation,
    generation: c.generation ?? 0,
    id: c.id ?? candidateId(c),
    ip: c.ip,
    network: c.network ?? 0,
    port: c.port,
    priority: c.priority,
    protocol: c.protocol,
    type: c.type,
  };
  if (c.relAddr !== undefined) {
    attrs['rel-addr'] = c.relAddr;
    attrs['rel-port'] = c.relPort ?? 0;
  }
  if (c.tcptype !== undefined) attrs['tcptype'] = c.tcptype;
  return xml('candidate', attrs);
}

/** A stable, unique-per-session id for a candidate without one (same candidate, same id). */
export function candidateId(c: IceCandidate): string {
  return `${c.foundation}-${c.component}-${c.protocol}-${c.ip}-${c.port}`;
}

/** A trickled `RTCIceCandidate.candidate` (or `a=candidate:` line) → `<candidate/>`. */
export function sdpCandidateToJingle(line: string): Element {
  return exportJingleCandidate(parseSdpCandidate(line));
}

/**
 * A `<candidate/>` from a `transport-info` → `candidate:...` for `addRemoteCandidate(line, mid)`.
 * Pass the transport's `ufrag` to have libwebrtc-style peers drop stale generations.
 */
export function jingleCandidateToSdp(el: Element, options: { ufrag?: string } = {}): string {
  return writeSdpCandidate(importJingleCandidate(el), options);
}

/**
 * Whether a candidate is worth handing to libdatachannel: UDP (nobody on the XMPP side does
 * TCP candidates, libjuice has ICE-TCP off) and component 1 (with rtcp-mux there is no RTCP
 * component, but Dino still signals one and libjuice does not filter it), JINGLE.md section 2.3.
 */
export function isSupportedCandidate(candidate: IceCandidate): boolean {
  return candidate.protocol === 'udp' && candidate.component === 1;
}
