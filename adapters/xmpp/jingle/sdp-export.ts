import { writeSdpCandidate } from './sdp-candidate.js';
import type { Codec, MediaContent, RtcpFeedback, SessionDescription } from './session-description.js';

export interface SdpExportOptions {
  /** `o=` session id; JSEP (RFC 9429 section 5.2.1) wants digits. Default `0`. */
  sessionId?: string;
  /** `o=` version; increase it for every new description of the same session. Default `0`. */
  sessionVersion?: number;
}

/**
 * Session description → SDP text a browser or libdatachannel accepts as a remote description:
 * `UDP/TLS/RTP/SAVPF` on port 9 with `c=IN IP4 0.0.0.0` (port 0 for rejected contents),
 * per-m-line ICE credentials, fingerprint and setup, mid, direction, and candidates in the
 * SDP body (without RTCP-component candidates when RTCP is muxed). Groups are written in order,
 * so BUNDLE comes first when the model has one.
 */
export function sdpExport(description: SessionDescription, options: SdpExportOptions = {}): string {
  const lines = [
    'v=0',
    `o=- ${options.sessionId ?? '0'} ${options.sessionVersion ?? 0} IN IP4 0.0.0.0`,
    's=-',
    't=0 0',
    ...description.groups.map((group) => `a=group:${group.semantics} ${group.mids.join(' ')}`),
    // Conversations and StanzaJS write the same wildcard; unified-plan browsers ignore it.
    'a=msid-semantic: WMS *',
  ];
  for (const content of description.contents) lines.push(...mediaSection(content));
  return `${lines.join('\r\n')}\r\n`;
}

function mediaSection(content: MediaContent): string[] {
  const port = content.rejected ? 0 : 9;
  // An m-line needs at least one format, even a rejected one (RFC 4566 section 5.14).
  const formats = content.codecs.length > 0 ? content.codecs.map((codec) => codec.id).join(' ') : '0';
  const lines = [`m=${content.kind} ${port} UDP/TLS/RTP/SAVPF ${formats}`, 'c=IN IP4 0.0.0.0'];
  if (content.bandwidth) lines.push(`b=${content.bandwidth.type}:${content.bandwidth.value}`);
  lines.push('a=rtcp:9 IN IP4 0.0.0.0');
  if (content.ice) {
    lines.push(`a=ice-ufrag:${content.ice.ufrag}`, `a=ice-pwd:${content.ice.pwd}`);
    if (content.ice.options.length > 0) lines.push(`a=ice-options:${content.ice.options.join(' ')}`);
  }
  if (content.dtls) {
    lines.push(`a=fingerprint:${content.dtls.hash} ${content.dtls.fingerprint}`, `a=setup:${content.dtls.setup}`);
  }
  lines.push(`a=mid:${content.mid}`);
  for (const ext of content.headerExtensions) {
    lines.push(`a=extmap:${ext.id}${ext.direction === 'sendrecv' ? '' : `/${ext.direction}`} ${ext.uri}`);
  }
  if (content.extmapAllowMixed) lines.push('a=extmap-allow-mixed');
  lines.push(`a=${content.direction}`);
  if (content.msid !== undefined) lines.push(`a=msid:${content.msid}`);
  if (content.rtcpMux) lines.push('a=rtcp-mux');
  if (content.rtcpReducedSize) lines.push('a=rtcp-rsize');
  for (const codec of content.codecs) lines.push(...codecLines(codec));
  lines.push(...feedbackLines('*', content.feedback));
  if (content.ptime !== undefined) lines.push(`a=ptime:${content.ptime}`);
  if (content.maxptime !== undefined) lines.push(`a=maxptime:${content.maxptime}`);
  for (const group of content.sourceGroups) lines.push(`a=ssrc-group:${group.semantics} ${group.ssrcs.join(' ')}`);
  for (const source of content.sources) {
    for (const p of source.parameters) lines.push(`a=ssrc:${source.ssrc} ${p.name}${p.value === undefined ? '' : `:${p.value}`}`);
  }
  // With rtcp-mux there is no RTCP component (RFC 5761 section 5.1.3); Dino still signals one and
  // libjuice would pair it like an RTP candidate (JINGLE.md section 2.3), so it is left out.
  const candidates = (content.ice?.candidates ?? []).filter((candidate) => !content.rtcpMux || candidate.component === 1);
  for (const candidate of candidates) lines.push(`a=${writeSdpCandidate(candidate)}`);
  if (content.ice?.endOfCandidates) lines.push('a=end-of-candidates');
  return lines;
}

function codecLines(codec: Codec): string[] {
  const lines = [`a=rtpmap:${codec.id} ${codec.name}/${codec.clockrate}${codec.channels === undefined ? '' : `/${codec.channels}`}`];
  lines.push(...feedbackLines(String(codec.id), codec.feedback));
  if (codec.parameters.length > 0) {
    const config = codec.parameters.map((p) => (p.name === '' ? p.value : `${p.name}=${p.value}`)).join(';');
    lines.push(`a=fmtp:${codec.id} ${config}`);
  }
  return lines;
}

function feedbackLines(pt: string, feedback: RtcpFeedback[]): string[] {
  return feedback.map((fb) => `a=rtcp-fb:${pt} ${fb.type}${fb.subtype === undefined ? '' : ` ${fb.subtype}`}`);
}
