import type { ContentGroup, MediaContent, SessionDescription } from './session-description.js';

/**
 * The party answered a BUNDLE offer without `<group/>` with contents that run on separate
 * transports, so no BUNDLE group can describe what it does (RFC 8843 section 7.3.3).
 */
export class UnbundledAnswerError extends Error {
  readonly code = 'unbundled-transports';

  constructor(readonly mids: string[]) {
    super(`the party does not bundle (no XEP-0338 <group/>) and answered contents ${mids.join(', ')} on separate ICE/DTLS transports`);
    this.name = 'UnbundledAnswerError';
  }
}

/**
 * The answer a browser can take from an XMPP party that answered a BUNDLE offer without a
 * `<group/>`, as Dino does: it has no XEP-0338, so its session-accept never carries one (Dino
 * 45723ac xmpp-vala/src/module/xep/0166_jingle/session.vala:328-343 writes only the contents;
 * each content's transport is its own libnice stream with its own ufrag/pwd, one
 * `agent.add_stream` per content in plugins/ice/src/transport_parameters.vala:98-117). The SDK
 * offers with max-bundle, under which Chromium takes the offered group as established and refuses
 * an answer without it ("Answer cannot remove m= section with mid='0' from already-established
 * BUNDLE group").
 *
 * What the party does is described exactly by a BUNDLE group when it accepted one content (a
 * group of one: the content's transport is the group's, RFC 8843 section 7.3.1 lets the answerer
 * keep any subset of the offered group and makes the first mid the tag), or when every accepted
 * content is on the same transport (same ICE credentials and fingerprint: one ICE agent, one
 * DTLS association, which is what BUNDLE means). Then the group is restored, in the offer's order.
 * Anything else (Dino's audio + video, one transport each) cannot be bundled, and a max-bundle
 * browser cannot run separate transports: {@link UnbundledAnswerError}. Pure.
 */
export function restoreAnswerBundle(offer: SessionDescription, answer: SessionDescription): SessionDescription {
  const offered = offer.groups.find((group) => group.semantics === 'BUNDLE');
  if (!offered || answer.groups.some((group) => group.semantics === 'BUNDLE')) return answer;
  const accepted = offered.mids
    .map((mid) => answer.contents.find((content) => content.mid === mid))
    .filter((content): content is MediaContent => content !== undefined && !content.rejected);
  if (accepted.length === 0) return answer;
  const [tagged, ...others] = accepted as [MediaContent, ...MediaContent[]];
  if (others.some((content) => !sameTransport(tagged, content))) throw new UnbundledAnswerError(accepted.map((content) => content.mid));
  const bundle: ContentGroup = { semantics: 'BUNDLE', mids: accepted.map((content) => content.mid) };
  return { ...answer, groups: [bundle, ...answer.groups] };
}

function sameTransport(a: MediaContent, b: MediaContent): boolean {
  return (
    a.ice !== undefined &&
    b.ice !== undefined &&
    a.ice.ufrag === b.ice.ufrag &&
    a.ice.pwd === b.ice.pwd &&
    a.dtls?.fingerprint === b.dtls?.fingerprint &&
    a.dtls?.hash === b.dtls?.hash
  );
}
