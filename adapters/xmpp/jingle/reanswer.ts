import type { DtlsSetup, MediaDirection, SessionDescription } from './session-description.js';

const RECIPROCAL: Record<MediaDirection, MediaDirection> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

/**
 * The answer an XMPP party would give to a re-offer that only changes direction (hold, resume),
 * made from what it already said: its ICE credentials, fingerprint and codecs stay, its DTLS role
 * stays the one in force (`establishedSetup`: RFC 5763 section 5 keeps the association on a
 * re-offer), and each content's direction reciprocates the offer's (RFC 3264 section 6.1). Codecs
 * are those of the party's description that the re-offer still lists. Pure.
 */
export function reanswerFromPeer(reOffer: SessionDescription, peer: SessionDescription, establishedSetup: DtlsSetup): SessionDescription {
  const contents = reOffer.contents.map((offered) => {
    const known = peer.contents.find((content) => content.mid === offered.mid);
    if (!known || offered.rejected) return { ...offered, rejected: true as const, codecs: offered.codecs.slice(0, 1) };
    const offeredIds = new Set(offered.codecs.map((codec) => codec.id));
    const codecs = known.codecs.filter((codec) => offeredIds.has(codec.id));
    const { rejected: _rejected, ...rest } = known;
    return {
      ...rest,
      direction: RECIPROCAL[offered.direction],
      codecs: codecs.length > 0 ? codecs : known.codecs,
      ...(known.dtls ? { dtls: { ...known.dtls, setup: establishedSetup } } : {}),
      ...(known.ice ? { ice: { ...known.ice, candidates: [] } } : {}),
    };
  });
  return { groups: reOffer.groups, contents };
}

/** The DTLS role of the side that answered `offerSetup` with `answerSetup` (RFC 4145 section 4). */
export function roleAfter(answerSetup: DtlsSetup | undefined): { offerer: DtlsSetup; answerer: DtlsSetup } {
  return answerSetup === 'passive' ? { offerer: 'active', answerer: 'passive' } : { offerer: 'passive', answerer: 'active' };
}
