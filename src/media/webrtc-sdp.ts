import { parse, write, type MediaDescription as SdpMedia, type SessionDescription as SdpSession } from 'sdp-transform';
import { mediaCodecs, type MediaDirection } from './sdp-audio.js';

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

/**
 * The offer as node-datachannel is given it, so that the anchor answers `a=setup:actpass` with
 * `a=setup:passive`: the party holding the answer then sends the first DTLS flight, when it can
 * use the reply (RFC 8842 section 5.3 lets the answerer choose; see src/media/README.md, "Media
 * starts at once").
 *
 * RFC 5763 section 5 recommends `active`, so that the handshake runs while the answer travels;
 * but the anchor applies an offer only when it answers, and its ICE connects within a millisecond
 * (the offerer answers checks before it has the answer): as the client it sent its ClientHello
 * to a browser that had no answer yet, which node-datachannel lost about once in ten set-ups
 * (replaying a datagram that came before its DTLS transport started) and only re-sent after
 * OpenSSL's 1 s timer. As the server, the anchor's DTLS transport is up before the answer leaves.
 *
 * node-datachannel has no setting for the answerer's role: it answers `passive` to an offer that
 * says `active`. `active` and `passive` offers (a peer insisting on a role) are left as they are.
 */
export function offerForPassiveAnswer(offerSdp: string): string {
  return offerSdp.replace(/^a=setup:actpass(?=\r?$)/gm, 'a=setup:active');
}

/** The DTLS role (`a=setup`) of a description's first audio section, or of the session. */
export function dtlsSetupOf(sdp: string): string | undefined {
  const session = parse(sdp);
  const audio = session.media.find((m) => m.type === 'audio' && m.port !== 0);
  return audio?.setup ?? session.setup;
}

/** An offer narrowed to its first active audio m-line, and what was left out. */
export interface AudioOnlyOffer {
  sdp: string;
  /** The offer as parsed, to rebuild the answer's m-lines in the offer's order. */
  offer: SdpSession;
  /** Index of the kept audio m-line in the offer. */
  audioIndex: number;
}

/**
 * The anchor terminates one audio stream per WebRTC party. node-datachannel answers every
 * m-line it is given and bundles them on one transport even when the offer had no BUNDLE
 * group (Dino offers audio and video with a transport each, JINGLE.md section 0 point 5), so it
 * only sees the first active audio m-line; `answerInOfferOrder` puts the others back, rejected.
 */
export function audioOnlyOffer(offerSdp: string): AudioOnlyOffer {
  const offer = parse(offerSdp);
  const audioIndex = offer.media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  if (audioIndex < 0 || offer.media.length === 1) return { sdp: offerSdp, offer, audioIndex: Math.max(audioIndex, 0) };
  const audio = readableLines(offer.media[audioIndex]!);
  const kept: SdpSession = { ...offer, media: [audio] };
  const mid = audio.mid === undefined ? undefined : String(audio.mid);
  kept.groups = bundleOf(offer) && mid !== undefined ? [{ type: 'BUNDLE', mids: mid }] : [];
  return { sdp: write(kept), offer, audioIndex };
}

/**
 * RFC 3264 section 6: the answer has the offer's m-lines in the offer's order; the ones the
 * anchor does not take are rejected with port 0. A BUNDLE group is answered only when one was
 * offered (RFC 8843 section 7.3), and then with the accepted m-line alone; libdatachannel's
 * `a=group:LS` goes too.
 */
export function answerInOfferOrder(answerSdp: string, narrowed: AudioOnlyOffer): string {
  const { offer, audioIndex } = narrowed;
  if (offer.media.length <= 1) return answerSdp;
  const answer = parse(answerSdp);
  const audio = answer.media[0];
  if (!audio) return answerSdp;
  answer.media = offer.media.map((offered, index) => {
    if (index === audioIndex) return audio;
    const firstPayload = String(offered.payloads ?? '0').split(' ')[0] ?? '0';
    const rejected: SdpMedia = { type: offered.type, port: 0, protocol: offered.protocol, payloads: firstPayload, rtp: [], fmtp: [], direction: 'inactive' };
    if (offered.mid !== undefined) rejected.mid = offered.mid;
    return rejected;
  });
  const mid = audio.mid === undefined ? undefined : String(audio.mid);
  answer.groups = bundleOf(offer) && mid !== undefined ? [{ type: 'BUNDLE', mids: mid }] : [];
  return write(answer);
}

/**
 * The m-line with only the formats parseAudioDescription read, and their lines: sdp-transform
 * writes the lines it could not read back as others (`a=fmtp:  111 x` as payload type 0,
 * `speex/800/0` as one channel, `a=rtcp:999999999999999999999` as port 1), and a format left out
 * for two rtpmaps would come back as a static one, so libdatachannel would otherwise answer codecs
 * the anchor never saw (found by test/fuzz/sdp-audio.test.ts).
 */
function readableLines(media: SdpMedia): SdpMedia {
  const read = mediaCodecs(media).map((codec) => codec.payloadType);
  if (read.length === 0) return media;
  // sdp-transform leaves what is no number as text (an empty payload type is '', not 0).
  const kept = (payload: unknown) => typeof payload === 'number' && read.includes(payload);
  return {
    ...media,
    payloads: read.join(' '),
    rtp: media.rtp.filter((rtp) => kept(rtp.payload)),
    fmtp: media.fmtp.filter((fmtp) => kept(fmtp.payload)),
    ...(media.rtcpFb ? { rtcpFb: media.rtcpFb.filter((fb) => fb.payload === '*' || kept(fb.payload)) } : {}),
    ...(media.rtcp && !Number.isInteger(media.rtcp.port) ? { rtcp: undefined } : {}),
  };
}

function bundleOf(session: SdpSession): boolean {
  return (session.groups ?? []).some((group) => group.type === 'BUNDLE');
}
