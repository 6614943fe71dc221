import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { exportJingleCandidate } from './jingle-candidates.js';
import { directionToSenders } from './jingle-senders.js';
import {
  NS_GROUPING,
  NS_JINGLE_DTLS,
  NS_JINGLE_ICE_OPTION,
  NS_JINGLE_ICE_UDP,
  NS_JINGLE_RTP,
  NS_RTP_FB,
  NS_RTP_HDREXT,
  NS_SSMA,
} from './namespaces.js';
import type {
  Codec,
  DtlsParameters,
  IceCandidate,
  JingleRole,
  MediaContent,
  RtcpFeedback,
  SessionDescription,
  TransportUpdate,
} from './session-description.js';

export interface JingleExportOptions {
  /**
   * The role of the party whose description this is (us): `initiator` when building a
   * session-initiate, `responder` for a session-accept. Directions become `senders` relative to it.
   */
  author: JingleRole;
}

/**
 * ICE options with a Jingle form we are willing to announce. `renomination` is left out on
 * purpose: libjuice does not do it (JINGLE.md section 2.1).
 */
const EXPORTED_ICE_OPTIONS: ReadonlySet<string> = new Set(['trickle']);

/**
 * Session description → the children of `<jingle/>` for session-initiate, session-accept or
 * content-add: one `<content/>` per content that is not rejected, then the BUNDLE group(s).
 * Other groups (libdatachannel's `LS`) are left out because Conversations reads only the first
 * `<group/>` (JINGLE.md section 2.1). For Dino, drop `groups` from the description first.
 */
export function jingleExport(description: SessionDescription, options: JingleExportOptions): Element[] {
  const contents = description.contents.filter((content) => !content.rejected);
  const exported = new Set(contents.map((content) => content.mid));
  const groups = description.groups
    .filter((group) => group.semantics === 'BUNDLE')
    .map((group) => group.mids.filter((mid) => exported.has(mid)))
    .filter((mids) => mids.length > 0)
    .map((mids) => xml('group', { xmlns: NS_GROUPING, semantics: 'BUNDLE' }, ...mids.map((name) => xml('content', { name }))));
  return [...contents.map((content) => jingleContentExport(content, options)), ...groups];
}

/**
 * One `<content/>` (XEP-0166 section 7.1) with its XEP-0167 description and XEP-0176 transport.
 * `senders` is omitted when `both`, as Conversations does; absent means both.
 */
export function jingleContentExport(content: MediaContent, options: JingleExportOptions): Element {
  const senders = directionToSenders(content.direction, options.author);
  const attrs = { creator: content.creator, name: content.mid, ...(senders === 'both' ? {} : { senders }) };
  return xml('content', attrs, descriptionElement(content, options.author), transportElement(content));
}

/**
 * One `<content/>` of a transport-info (XEP-0176 section 6): the transport's credentials, its
 * candidates (trickle: typically one), and the fingerprint when given, which lets Dino start
 * DTLS before our session-accept arrives (dino/dino#1072). Only UDP candidates are sent.
 */
export function transportInfoExport(update: TransportUpdate): Element {
  const attrs = { xmlns: NS_JINGLE_ICE_UDP, ...(update.ufrag === undefined ? {} : { ufrag: update.ufrag }), ...(update.pwd === undefined ? {} : { pwd: update.pwd }) };
  const children = [...(update.dtls ? [fingerprintElement(update.dtls)] : []), ...candidateElements(update.candidates)];
  return xml('content', { creator: update.creator, name: update.mid }, xml('transport', attrs, ...children));
}

function descriptionElement(content: MediaContent, author: JingleRole): Element {
  const children: Element[] = content.codecs.map((codec) => payloadTypeElement(codec, content));
  children.push(...feedbackElements(content.feedback));
  for (const ext of content.headerExtensions) {
    const senders = directionToSenders(ext.direction, author);
    children.push(xml('rtp-hdrext', { xmlns: NS_RTP_HDREXT, id: ext.id, uri: ext.uri, ...(senders === 'both' ? {} : { senders }) }));
  }
  if (content.extmapAllowMixed) children.push(xml('extmap-allow-mixed', { xmlns: NS_RTP_HDREXT }));
  for (const source of content.sources) {
    const parameters = source.parameters.map((p) => xml('parameter', p.value === undefined ? { name: p.name } : { name: p.name, value: p.value }));
    children.push(xml('source', { xmlns: NS_SSMA, ssrc: source.ssrc }, ...parameters));
  }
  for (const group of content.sourceGroups) {
    const sources = group.ssrcs.map((ssrc) => xml('source', { ssrc }));
    children.push(xml('ssrc-group', { xmlns: NS_SSMA, semantics: group.semantics }, ...sources));
  }
  if (content.bandwidth) children.push(xml('bandwidth', { type: content.bandwidth.type }, String(content.bandwidth.value)));
  if (content.rtcpMux) children.push(xml('rtcp-mux'));
  return xml('description', { xmlns: NS_JINGLE_RTP, media: content.kind }, ...children);
}

/**
 * XEP-0167 section 4 `<payload-type/>`. Value-only fmtp tokens (telephone-event `0-16`, red
 * `111/111`) are not sent: there is no agreed form, Monal's parser requires a name and
 * Conversations throws on a nameless one mixed with others (JINGLE.md section 2.1).
 */
function payloadTypeElement(codec: Codec, content: MediaContent): Element {
  const attrs: Record<string, string | number> = { id: codec.id, name: codec.name, clockrate: codec.clockrate };
  if (codec.channels !== undefined) attrs['channels'] = codec.channels;
  if (content.ptime !== undefined) attrs['ptime'] = content.ptime;
  if (content.maxptime !== undefined) attrs['maxptime'] = content.maxptime;
  const parameters = codec.parameters.filter((p) => p.name !== '').map((p) => xml('parameter', { name: p.name, value: p.value }));
  return xml('payload-type', attrs, ...parameters, ...feedbackElements(codec.feedback));
}

/** XEP-0293 section 3; `trr-int` has its own element. */
function feedbackElements(feedback: RtcpFeedback[]): Element[] {
  return feedback.map((fb) =>
    fb.type === 'trr-int'
      ? xml('rtcp-fb-trr-int', { xmlns: NS_RTP_FB, value: fb.subtype ?? '0' })
      : xml('rtcp-fb', { xmlns: NS_RTP_FB, type: fb.type, ...(fb.subtype === undefined ? {} : { subtype: fb.subtype }) }),
  );
}

/** XEP-0176 `<transport ufrag pwd>` with ICE options, XEP-0320 fingerprint and candidates. */
function transportElement(content: MediaContent): Element {
  const ice = content.ice;
  const attrs = { xmlns: NS_JINGLE_ICE_UDP, ...(ice ? { ufrag: ice.ufrag, pwd: ice.pwd } : {}) };
  const options = (ice?.options ?? []).filter((option) => EXPORTED_ICE_OPTIONS.has(option)).map((option) => xml(option, { xmlns: NS_JINGLE_ICE_OPTION }));
  return xml('transport', attrs, ...options, ...(content.dtls ? [fingerprintElement(content.dtls)] : []), ...candidateElements(ice?.candidates ?? []));
}

/**
 * XEP-0176 section 5.3 defines only `protocol='udp'`: Conversations drops other candidates and
 * Dino would treat a TCP candidate as UDP (JINGLE.md section 2.3), so they are not sent.
 */
function candidateElements(candidates: IceCandidate[]): Element[] {
  return candidates.filter((candidate) => candidate.protocol === 'udp').map(exportJingleCandidate);
}

/** XEP-0320 section 3; Conversations refuses a content without hash and setup (security-error). */
function fingerprintElement(dtls: DtlsParameters): Element {
  return xml('fingerprint', { xmlns: NS_JINGLE_DTLS, hash: dtls.hash, setup: dtls.setup }, dtls.fingerprint);
}
