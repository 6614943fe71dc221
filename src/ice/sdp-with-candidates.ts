import type { IceCandidate } from '../protocol/messages.js';

/**
 * Turns a description made before ICE gathering finished (a trickling browser's offer or answer)
 * into the complete one a party that does not trickle needs: the trickled candidates go into their
 * m-sections as `a=candidate:` lines, then `a=end-of-candidates` (the attribute of RFC 8840), and
 * each m-section that got candidates takes its default destination from them.
 *
 * The default destination matters: before gathering, JSEP puts `c=IN IP4 0.0.0.0` and port 9 in
 * a description (RFC 9429 section 5.2.1). A full ICE agent checks that the m=/c= address is one of
 * the candidates and, when it is not, takes the SDP for altered by a middlebox and gives up ICE
 * (RFC 8839, ice-mismatch); a party without ICE would send media to 0.0.0.0. So the first RTP
 * (component 1) UDP candidate, in the order trickled (browsers emit their best first), becomes
 * the default, as it would in the browser's own localDescription once gathering is done.
 *
 * Pure: no I/O. A candidate whose mid and m-line index name no m-section is left out.
 */
export function sdpWithCandidates(sdp: string, candidates: readonly IceCandidate[]): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const trailingEmpty = lines.at(-1) === '';
  if (trailingEmpty) lines.pop();
  const sections = splitSections(lines);
  for (const candidate of candidates) {
    const section = sectionOf(sections, candidate);
    if (!section) continue;
    const line = `a=${candidate.candidate.replace(/^a=/, '')}`;
    if (!section.lines.includes(line)) section.added.push(line);
  }
  const out: string[] = [...sections[0]!.lines];
  for (const section of sections.slice(1)) {
    if (section.added.length === 0) {
      out.push(...section.lines);
      continue;
    }
    const body = section.lines.filter((line) => line !== 'a=end-of-candidates');
    const defaultCandidate = section.added.map(parseCandidateAddress).find((c) => c !== undefined);
    out.push(...(defaultCandidate ? withDefaultDestination(body, defaultCandidate) : body), ...section.added, 'a=end-of-candidates');
  }
  return out.join(eol) + (trailingEmpty ? eol : '');
}

interface Section {
  lines: string[];
  mid: string | undefined;
  added: string[];
}

/** The session part (index 0), then one entry per m-section in order. */
function splitSections(lines: string[]): Section[] {
  const sections: Section[] = [{ lines: [], mid: undefined, added: [] }];
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push({ lines: [], mid: undefined, added: [] });
    const current = sections.at(-1)!;
    current.lines.push(line);
    if (line.startsWith('a=mid:')) current.mid = line.slice('a=mid:'.length).trim();
  }
  return sections;
}

/** RFC 9429 section 4.1.17 (addIceCandidate): the mid decides when present, else the m-line index. */
function sectionOf(sections: Section[], candidate: IceCandidate): Section | undefined {
  const media = sections.slice(1);
  if (candidate.sdpMid !== undefined && candidate.sdpMid !== null) {
    const byMid = media.find((section) => section.mid === candidate.sdpMid);
    if (byMid) return byMid;
  }
  const index = candidate.sdpMLineIndex;
  return index !== undefined && index !== null ? media[index] : undefined;
}

interface CandidateAddress {
  address: string;
  port: string;
}

/** Address and port of an RTP (component 1) UDP candidate line, else undefined. */
function parseCandidateAddress(line: string): CandidateAddress | undefined {
  const [, component, transport, , address, port] = line.slice('a=candidate:'.length).split(/\s+/);
  if (component !== '1' || transport?.toLowerCase() !== 'udp' || !address || !port) return undefined;
  return { address, port };
}

function withDefaultDestination(lines: string[], candidate: CandidateAddress): string[] {
  const family = candidate.address.includes(':') ? 'IP6' : 'IP4';
  return lines.map((line) => {
    if (line.startsWith('m=')) return line.replace(/^(m=\S+ )\d+/, `$1${candidate.port}`);
    if (line.startsWith('c=')) return `c=IN ${family} ${candidate.address}`;
    return line;
  });
}
