import type { IceCandidate } from '../protocol/messages.js';

/** A complete description split into what a trickling party gets first and the candidates it gets later. */
export interface HeldCandidates {
  /** The description without `a=candidate:` and `a=end-of-candidates` lines. */
  sdp: string;
  /** Its candidates, in order, as `candidate` frames carry them (mid and m-line index). */
  candidates: IceCandidate[];
}

/**
 * The inverse of sdpWithCandidates: the gateway's own complete description (made after gathering)
 * as a trickling party's would be before gathering, and the candidates to trickle afterwards.
 * An m-section that loses its candidates takes JSEP's placeholder destination, `c=IN IP4 0.0.0.0`
 * and port 9 (RFC 9429 section 5.2.1, RFC 8840 section 4.3.1), so no party takes the old default
 * address for a usable one; rejected m-sections (port 0) keep their port.
 *
 * Pure: no I/O.
 */
export function sdpWithoutCandidates(sdp: string): HeldCandidates {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const trailingEmpty = lines.at(-1) === '';
  if (trailingEmpty) lines.pop();
  const candidates: IceCandidate[] = [];
  const out: string[] = [];
  let mLineIndex = -1;
  let section: string[] = out;
  const sections: { lines: string[]; mid: string | null; index: number; held: string[] }[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) {
      mLineIndex += 1;
      sections.push({ lines: [], mid: null, index: mLineIndex, held: [] });
      section = sections.at(-1)!.lines;
    }
    const current = sections.at(-1);
    if (current && line.startsWith('a=mid:')) current.mid = line.slice('a=mid:'.length).trim();
    if (current && line.startsWith('a=candidate:')) current.held.push(line.slice(2));
    else if (line !== 'a=end-of-candidates') section.push(line);
  }
  for (const { lines: body, mid, index, held } of sections) {
    for (const candidate of held) candidates.push({ candidate, sdpMid: mid, sdpMLineIndex: index });
    out.push(...(held.length > 0 ? withPlaceholderDestination(body) : body));
  }
  return { sdp: out.join(eol) + (trailingEmpty ? eol : ''), candidates };
}

function withPlaceholderDestination(lines: string[]): string[] {
  return lines.map((line) => {
    if (line.startsWith('m=')) return line.replace(/^(m=\S+ )[1-9]\d*/, '$19');
    if (line.startsWith('c=')) return 'c=IN IP4 0.0.0.0';
    return line;
  });
}
