import type { MediaDirection } from './sdp-audio.js';

/**
 * Fixes what node-datachannel leaves out of its descriptions: a stable o=
 * session id across a session's descriptions with a growing version (RFC
 * 3264 section 8), and the answered direction (section 6.1), which it does
 * not reciprocate on re-offers. Works on text to keep every other line as the
 * library wrote it.
 */
export function rewriteAnswerSdp(
  sdp: string,
  o: { sessionId: string | undefined; version: number; direction: MediaDirection },
): { sdp: string; sessionId: string } {
  let sessionId = o.sessionId;
  const lines = sdp.split(/\r?\n/).filter((line) => line.length > 0);
  const out = lines.map((line) => {
    const origin = /^o=(\S+) (\S+) (\S+) (.*)$/.exec(line);
    if (origin) {
      sessionId ??= origin[2]!;
      return `o=${origin[1]} ${sessionId} ${o.version} ${origin[4]}`;
    }
    if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) return `a=${o.direction}`;
    return line;
  });
  return { sdp: `${out.join('\r\n')}\r\n`, sessionId: sessionId ?? '0' };
}
