import type { Element } from '@xmpp/xml';
import {
  missingAttribute,
  optionalEncodingName,
  optionalEnum,
  optionalInt,
  optionalText,
  optionalToken,
  optionalWord,
  requiredEnum,
  requiredInt,
  requiredToken,
  requiredWord,
  textToken,
  UINT32_MAX,
} from './jingle-attribute-readers.js';
import { importJingleCandidate } from './jingle-candidates.js';
import { JingleParseError } from './jingle-parse-error.js';
import { JINGLE_SENDERS, sendersToDirection } from './jingle-senders.js';
import {
  NS_GROUPING,
  NS_JINGLE,
  NS_JINGLE_DTLS,
  NS_JINGLE_ICE_OPTION,
  NS_JINGLE_ICE_UDP,
  NS_JINGLE_RTP,
  NS_RTP_FB,
  NS_RTP_HDREXT,
  NS_SSMA,
} from './namespaces.js';
import { firstSourceMsid } from './first-source-msid.js';
import type {
  Codec,
  CodecParameter,
  ContentGroup,
  DtlsParameters,
  DtlsSetup,
  HeaderExtension,
  IceTransport,
  JingleRole,
  MediaContent,
  RtcpFeedback,
  SessionDescription,
  Source,
  TransportUpdate,
} from './session-description.js';
import { STATIC_PAYLOAD_TYPES } from './static-payload-types.js';

export interface JingleImportOptions {
  /**
   * The role of the party that wrote the element: `initiator` for session-initiate,
   * `responder` for session-accept. `senders` and a missing `setup` are read relative to it.
   */
  author: JingleRole;
}

const ROLES: readonly JingleRole[] = ['initiator', 'responder'];
const SETUPS: readonly DtlsSetup[] = ['actpass', 'active', 'passive', 'holdconn'];

/**
 * `<jingle/>` of a session-initiate, session-accept or content-add → session description.
 * Every content needs an XEP-0167 description and an XEP-0176 transport with ufrag and pwd;
 * SDES `<encryption/>` is ignored (Dino offers it beside DTLS and falls back to DTLS when the
 * answer has none, JINGLE.md section 2.1). Throws {@link JingleParseError}.
 */
export function jingleImport(jingle: Element, options: JingleImportOptions): SessionDescription {
  const contents = jingleContents(jingle).map((content) => jingleContentImport(content, options));
  if (contents.length === 0) throw new JingleParseError('missing-content', '<jingle/> has no <content/>', 'jingle');
  // XEP-0166 section 7.1: the name identifies the content (it becomes a=mid, which SDP requires unique).
  const mids = new Set(contents.map((content) => content.mid));
  if (mids.size !== contents.length) throw new JingleParseError('invalid-attribute', 'two <content/> have one name', 'content', 'name');
  // XEP-0338 section 3. Conversations reads only the first group; Dino ignores them all. As in
  // sdpImport, a group keeps only the contents there are (a BUNDLE naming another makes browsers
  // refuse the SDP), and one whose semantics SDP readers cannot take (not a word: RFC 5888 ones
  // in use are BUNDLE and LS) is left out.
  const groups: ContentGroup[] = jingle
    .getChildren('group', NS_GROUPING)
    .map((group) => ({
      semantics: requiredToken(group, 'semantics'),
      mids: group.getChildren('content').map((content) => requiredToken(content, 'name')).filter((mid) => mids.has(mid)),
    }))
    .filter((group) => group.mids.length > 0 && /^\w+$/.test(group.semantics));
  return { groups, contents };
}

/** One `<content/>` with description and transport (XEP-0166 section 7.1). */
export function jingleContentImport(content: Element, options: JingleImportOptions): MediaContent {
  const { author } = options;
  const mid = requiredToken(content, 'name');
  const creator = requiredEnum(content, 'creator', ROLES);
  const senders = optionalEnum(content, 'senders', JINGLE_SENDERS) ?? 'both';
  const description = content.getChild('description');
  if (!description) throw new JingleParseError('missing-description', `content "${mid}" has no <description/>`, 'content');
  const kind: unknown = description.attrs['media'];
  if (!description.is('description', NS_JINGLE_RTP) || (kind !== 'audio' && kind !== 'video')) {
    throw new JingleParseError('unsupported-application', `content "${mid}" is not RTP audio or video`, 'description');
  }
  const transport = requireTransport(content, mid);
  const payloadTypes = description.getChildren('payload-type', NS_JINGLE_RTP);
  const codecs = payloadTypes.map(importCodec);
  // XEP-0167 section 4: a description has one or more payload types (an SDP m-line, one or more formats).
  if (codecs.length === 0) throw new JingleParseError('unsupported-application', `content "${mid}" offers no <payload-type/>`, 'description');
  // XEP-0167 section 4: `id` identifies the payload type; SDP lists it once (RFC 3264 section 5.1).
  if (new Set(codecs.map((codec) => codec.id)).size !== codecs.length) {
    throw new JingleParseError('invalid-attribute', `content "${mid}" has two <payload-type/> with one id`, 'payload-type', 'id');
  }
  const result: MediaContent = {
    mid,
    creator,
    kind,
    direction: sendersToDirection(senders, author),
    codecs,
    feedback: importFeedback(description),
    headerExtensions: description.getChildren('rtp-hdrext', NS_RTP_HDREXT).map((ext) => importExtension(ext, author)),
    extmapAllowMixed: description.getChild('extmap-allow-mixed', NS_RTP_HDREXT) !== undefined,
    sources: description.getChildren('source', NS_SSMA).map(importSource),
    sourceGroups: description.getChildren('ssrc-group', NS_SSMA).map((group) => ({
      semantics: requiredWord(group, 'semantics'),
      ssrcs: group.getChildren('source', NS_SSMA).map((source) => requiredInt(source, 'ssrc', 0, UINT32_MAX)),
    })),
    rtcpMux: description.getChild('rtcp-mux', NS_JINGLE_RTP) !== undefined,
    rtcpReducedSize: false,
  };
  const msid = firstSourceMsid(result.sources);
  if (msid !== undefined) result.msid = msid;
  // XEP-0167 puts ptime/maxptime on each payload-type; Movim puts them on <description/>.
  const ptime = firstInt([...payloadTypes, description], 'ptime');
  if (ptime !== undefined) result.ptime = ptime;
  const maxptime = firstInt([...payloadTypes, description], 'maxptime');
  if (maxptime !== undefined) result.maxptime = maxptime;
  const bandwidth = description.getChild('bandwidth', NS_JINGLE_RTP);
  if (bandwidth) result.bandwidth = { type: requiredToken(bandwidth, 'type'), value: bandwidthValue(bandwidth) };
  result.ice = importIce(transport);
  const dtls = importDtls(transport, author);
  if (dtls) result.dtls = dtls;
  return result;
}

/**
 * `<jingle action='transport-info'/>` → one update per content (XEP-0176 section 6). ufrag and
 * pwd may be absent; new ones without candidates mean an ICE restart. `author` is the sender's
 * role, for a fingerprint without `setup`.
 */
export function transportInfoImport(jingle: Element, options: JingleImportOptions): TransportUpdate[] {
  return jingleContents(jingle).map((content) => {
    const mid = requiredToken(content, 'name');
    const transport = requireTransport(content, mid);
    const update: TransportUpdate = {
      mid,
      creator: requiredEnum(content, 'creator', ROLES),
      candidates: transport.getChildren('candidate', NS_JINGLE_ICE_UDP).map(importJingleCandidate),
    };
    const ufrag = optionalToken(transport, 'ufrag');
    if (ufrag !== undefined) update.ufrag = ufrag;
    const pwd = optionalToken(transport, 'pwd');
    if (pwd !== undefined) update.pwd = pwd;
    const dtls = importDtls(transport, options.author);
    if (dtls) update.dtls = dtls;
    return update;
  });
}

function jingleContents(jingle: Element): Element[] {
  if (!jingle.is('jingle', NS_JINGLE)) throw new JingleParseError('not-jingle', `expected <jingle xmlns='${NS_JINGLE}'/>`, jingle.name);
  return jingle.getChildren('content', NS_JINGLE);
}

function requireTransport(content: Element, mid: string): Element {
  const transport = content.getChild('transport');
  if (!transport) throw new JingleParseError('missing-transport', `content "${mid}" has no <transport/>`, 'content');
  if (!transport.is('transport', NS_JINGLE_ICE_UDP)) {
    throw new JingleParseError('unsupported-transport', `content "${mid}" does not use ICE-UDP`, 'transport');
  }
  return transport;
}

/** XEP-0167 section 4 `<payload-type/>`; name and clockrate may be left out only for static types. */
function importCodec(el: Element): Codec {
  const id = requiredInt(el, 'id', 0, 127);
  const known = STATIC_PAYLOAD_TYPES.get(id);
  const name = optionalEncodingName(el, 'name') ?? known?.name;
  if (name === undefined) throw missingAttribute(el, 'name');
  const clockrate = optionalInt(el, 'clockrate', 1, UINT32_MAX) ?? known?.clockrate;
  if (clockrate === undefined) throw missingAttribute(el, 'clockrate');
  const channels = optionalInt(el, 'channels', 1, 255);
  return {
    id,
    name,
    clockrate,
    ...(channels === undefined ? {} : { channels }),
    parameters: el.getChildren('parameter', NS_JINGLE_RTP).flatMap(importParameter),
    feedback: importFeedback(el),
  };
}

/**
 * `<parameter name value/>` → fmtp parameter. Monal (2024) writes webrtc-sdp's field names with
 * underscores, `profile_level_id` as a decimal and `dtmp_tones` for the telephone-event range:
 * normalised here (JINGLE.md section 2.1). Nameless parameters (lib-jitsi-meet's `name=''`, the
 * Converse.js PR's missing name) become value-only tokens.
 */
function importParameter(el: Element): CodecParameter[] {
  let name = optionalToken(el, 'name') ?? '';
  let value = optionalText(el, 'value') ?? '';
  if (/[=;]/.test(name) || value.includes(';')) {
    throw new JingleParseError('invalid-attribute', `<parameter name="${name}"/> cannot be written as fmtp`, 'parameter', 'name');
  }
  if (name === 'dtmp_tones' || name === 'dtmf_tones') name = '';
  if (name === 'profile_level_id' && /^\d+$/.test(value)) value = Number(value).toString(16).padStart(6, '0');
  name = name.replaceAll('_', '-');
  return name === '' && value === '' ? [] : [{ name, value }];
}

/** XEP-0293 section 3: `<rtcp-fb type subtype/>` and `<rtcp-fb-trr-int value/>`. */
function importFeedback(parent: Element): RtcpFeedback[] {
  const feedback: RtcpFeedback[] = parent.getChildren('rtcp-fb', NS_RTP_FB).map((fb) => {
    const type = requiredWord(fb, 'type');
    // trr-int's subtype is its interval (RFC 4585 section 4.2), which SDP readers take as digits only.
    const subtype = type === 'trr-int' ? String(requiredInt(fb, 'subtype', 0, UINT32_MAX)) : optionalWord(fb, 'subtype');
    return subtype === undefined ? { type } : { type, subtype };
  });
  for (const trr of parent.getChildren('rtcp-fb-trr-int', NS_RTP_FB)) {
    feedback.push({ type: 'trr-int', subtype: String(requiredInt(trr, 'value', 0, UINT32_MAX)) });
  }
  return feedback;
}

/** XEP-0294 section 3; `senders` is role-relative like the content's. Ids are 1-255 (RFC 8285 section 4.3). */
function importExtension(el: Element, author: JingleRole): HeaderExtension {
  return {
    id: requiredInt(el, 'id', 1, 255),
    uri: requiredToken(el, 'uri'),
    direction: sendersToDirection(optionalEnum(el, 'senders', JINGLE_SENDERS) ?? 'both', author),
  };
}

/** XEP-0339 section 3.1 `<source ssrc><parameter name value/></source>`. */
function importSource(el: Element): Source {
  return {
    ssrc: requiredInt(el, 'ssrc', 0, UINT32_MAX),
    parameters: el.getChildren('parameter', NS_SSMA).map((p) => {
      const name = requiredWord(p, 'name');
      const value = optionalText(p, 'value');
      return value === undefined ? { name } : { name, value };
    }),
  };
}

function importIce(transport: Element): IceTransport {
  return {
    ufrag: requiredToken(transport, 'ufrag'),
    pwd: requiredToken(transport, 'pwd'),
    options: transport.getChildElements().filter((child) => child.getNS() === NS_JINGLE_ICE_OPTION).map((child) => child.getName()),
    candidates: transport.getChildren('candidate', NS_JINGLE_ICE_UDP).map(importJingleCandidate),
    endOfCandidates: false,
  };
}

/**
 * XEP-0320 section 3 `<fingerprint hash setup>`. A missing `setup` gets the checklist default:
 * `actpass` from the initiator, `active` from the responder (JINGLE.md section 7).
 */
function importDtls(transport: Element, author: JingleRole): DtlsParameters | undefined {
  const fingerprint = transport.getChild('fingerprint', NS_JINGLE_DTLS);
  if (!fingerprint) return undefined;
  return {
    hash: requiredToken(fingerprint, 'hash').toLowerCase(),
    fingerprint: textToken(fingerprint).toUpperCase(),
    setup: optionalEnum(fingerprint, 'setup', SETUPS) ?? (author === 'initiator' ? 'actpass' : 'active'),
  };
}

function firstInt(elements: Element[], name: string): number | undefined {
  for (const el of elements) {
    const value = optionalInt(el, name, 0, 100_000);
    if (value !== undefined) return value;
  }
  return undefined;
}

function bandwidthValue(el: Element): number {
  const text = textToken(el);
  if (!/^\d{1,10}$/.test(text)) throw new JingleParseError('invalid-attribute', '<bandwidth/> is not a number', 'bandwidth');
  return Number(text);
}
