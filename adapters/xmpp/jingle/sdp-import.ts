import { parse, type MediaDescription, type SessionDescription as ParsedSdp } from 'sdp-transform';
import { firstSourceMsid } from './first-source-msid.js';
import { parseSdpCandidate } from './sdp-candidate.js';
import { checkForJingle, checkGroupForJingle, checkMidsForJingle } from './sdp-import-checks.js';
import { SdpParseError } from './sdp-parse-error.js';
import type {
  Codec,
  CodecParameter,
  DtlsParameters,
  DtlsSetup,
  HeaderExtension,
  IceTransport,
  MediaContent,
  MediaDirection,
  RtcpFeedback,
  SessionDescription,
  Source,
} from './session-description.js';
import { STATIC_PAYLOAD_TYPES } from './static-payload-types.js';

export interface SdpImportOptions {
  /**
   * Decides the setup of a fingerprint without `a=setup`: `actpass` for offers (the default),
   * `active` for answers (JINGLE.md section 7; RFC 5763 section 5).
   */
  type?: 'offer' | 'answer';
}

const DIRECTIONS: ReadonlySet<string> = new Set<MediaDirection>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
const SETUPS: ReadonlySet<string> = new Set<DtlsSetup>(['actpass', 'active', 'passive', 'holdconn']);
const PAYLOAD_TYPE = /^(?:0|[1-9]\d{0,2})$/;

/**
 * SDP text → session description. Session-level ICE credentials, fingerprint, setup,
 * ice-options and extmap-allow-mixed are copied into every content (libdatachannel and Firefox
 * write them at session level; Jingle has them per content). Data m-lines are dropped, and with
 * them their mids from the groups: nothing puts `m=application` into RTP calls (JINGLE.md
 * section 5).
 */
export function sdpImport(sdp: string, options: SdpImportOptions = {}): SessionDescription {
  const session = parse(sdp);
  const sections = sectionLines(sdp);
  const contents: MediaContent[] = [];
  session.media.forEach((media, index) => {
    if (media.type === 'audio' || media.type === 'video') {
      contents.push(importMedia(media, index, session, { session: sections[0] ?? [], media: sections[index + 1] ?? [] }, options));
    }
  });
  const kept = new Set(contents.map((content) => content.mid));
  const groups = (session.groups ?? [])
    .map((group) => ({ semantics: String(group.type), mids: words(group.mids).filter((mid) => kept.has(mid)) }))
    .filter((group) => group.mids.length > 0);
  contents.forEach(checkForJingle);
  checkMidsForJingle(contents);
  groups.forEach(checkGroupForJingle);
  return { groups, contents };
}

function importMedia(media: MediaDescription, index: number, session: ParsedSdp, lines: RawLines, options: SdpImportOptions): MediaContent {
  const direction = media.direction ?? session.direction ?? 'sendrecv';
  const payloads = words(media.payloads);
  // RFC 3551 section 3: an RTP format is a payload type number, 0 to 127 (`0111` or `1e2` would
  // read as another one's number).
  if (!payloads.every((pt) => PAYLOAD_TYPE.test(pt) && Number(pt) <= 127)) {
    throw new SdpParseError('invalid-sdp', `m=${media.type} lists a format that is not a payload type`);
  }
  // RFC 3264 section 5.1: a format is listed once. Each listed one would also collect every
  // a=rtcp-fb line of its number: repeats made that quadratic (60 KB of SDP, millions of objects).
  if (new Set(payloads).size !== payloads.length) throw new SdpParseError('invalid-sdp', `m=${media.type} lists a payload type twice`);
  const content: MediaContent = {
    mid: media.mid !== undefined ? String(media.mid) : String(index),
    creator: 'initiator',
    kind: media.type as 'audio' | 'video',
    direction,
    codecs: media.port === 0 ? rejectedCodecs(media, payloads) : payloads.map((pt) => importCodec(media, Number(pt))),
    feedback: feedbackFor(media, '*'),
    headerExtensions: (media.ext ?? session.ext ?? []).map(importExtension),
    extmapAllowMixed: (media.extmapAllowMixed ?? session.extmapAllowMixed) !== undefined,
    sources: importSources(media),
    sourceGroups: (media.ssrcGroups ?? []).map((group) => ({ semantics: group.semantics, ssrcs: words(group.ssrcs).map(Number) })),
    rtcpMux: media.rtcpMux !== undefined,
    rtcpReducedSize: media.rtcpRsize !== undefined,
  };
  if (media.port === 0) content.rejected = true;
  const msid = mediaMsid(lines) ?? firstSourceMsid(content.sources);
  if (msid !== undefined) content.msid = msid;
  if (media.ptime !== undefined) content.ptime = Number(media.ptime);
  if (media.maxptime !== undefined) content.maxptime = Number(media.maxptime);
  const bandwidth = media.bandwidth?.[0];
  if (bandwidth) content.bandwidth = { type: bandwidth.type, value: Number(bandwidth.limit) };
  const ice = importIce(media, session, lines);
  if (ice) content.ice = ice;
  const dtls = importDtls(media, session, options);
  if (dtls) content.dtls = dtls;
  return content;
}

/** RFC 3264 section 6: a rejected stream's formats mean nothing and often lack an rtpmap; keep the readable ones. */
function rejectedCodecs(media: MediaDescription, payloads: string[]): Codec[] {
  return payloads.flatMap((pt) => {
    try {
      return [importCodec(media, Number(pt))];
    } catch {
      return [];
    }
  });
}

function importCodec(media: MediaDescription, pt: number): Codec {
  const rtpmap = media.rtp.find((rtp) => rtp.payload === pt);
  const known = rtpmap ? { name: String(rtpmap.codec), clockrate: Number(rtpmap.rate) } : STATIC_PAYLOAD_TYPES.get(pt);
  if (!Number.isInteger(pt) || !known || !Number.isFinite(known.clockrate)) {
    throw new SdpParseError('missing-rtpmap', `payload type ${pt} of m=${media.type} has no usable a=rtpmap`);
  }
  const fmtp = media.fmtp.find((f) => f.payload === pt);
  return {
    id: pt,
    name: known.name,
    clockrate: known.clockrate,
    ...(rtpmap?.encoding === undefined ? {} : { channels: Number(rtpmap.encoding) }),
    parameters: fmtp ? parseFmtp(String(fmtp.config)) : [],
    feedback: feedbackFor(media, pt),
  };
}

/** `a=fmtp` value → parameters in order; a token without `=` becomes a nameless parameter. */
export function parseFmtp(config: string): CodecParameter[] {
  return config
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0 ? { name: '', value: part } : { name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() };
    });
}

function feedbackFor(media: MediaDescription, pt: number | '*'): RtcpFeedback[] {
  const feedback: RtcpFeedback[] = (media.rtcpFb ?? [])
    .filter((fb) => String(fb.payload) === String(pt))
    .map((fb) => (fb.subtype !== undefined ? { type: String(fb.type), subtype: String(fb.subtype) } : { type: String(fb.type) }));
  for (const trr of media.rtcpFbTrrInt ?? []) {
    if (String(trr.payload) === String(pt)) feedback.push({ type: 'trr-int', subtype: String(trr.value) });
  }
  return feedback;
}

function importExtension(ext: NonNullable<MediaDescription['ext']>[number]): HeaderExtension {
  const direction = ext.direction !== undefined && DIRECTIONS.has(ext.direction) ? (ext.direction as MediaDirection) : 'sendrecv';
  return { id: Number(ext.value), uri: String(ext.uri), direction };
}

/** Groups `a=ssrc:` lines by SSRC, in order of first appearance; values trimmed (movim/movim#1231). */
function importSources(media: MediaDescription): Source[] {
  const sources = new Map<number, Source>();
  for (const line of media.ssrcs ?? []) {
    const ssrc = Number(line.id);
    let source = sources.get(ssrc);
    if (!source) sources.set(ssrc, (source = { ssrc, parameters: [] }));
    source.parameters.push(line.value !== undefined ? { name: String(line.attribute), value: String(line.value).trim() } : { name: String(line.attribute) });
  }
  return [...sources.values()];
}

/**
 * The media-level `a=msid:` value as written: sdp-transform's grammar takes only word ids, so it
 * would cut Firefox's `{uuid}` ids and any other character short.
 */
function mediaMsid(lines: RawLines): string | undefined {
  return lines.media.find((line) => line.startsWith('a=msid:'))?.slice('a=msid:'.length).trim();
}

function importIce(media: MediaDescription, session: ParsedSdp, lines: RawLines): IceTransport | undefined {
  const ufrag = media.iceUfrag ?? session.iceUfrag;
  const pwd = media.icePwd ?? session.icePwd;
  if (ufrag === undefined || pwd === undefined) return undefined;
  return {
    ufrag: String(ufrag),
    pwd: String(pwd),
    options: iceOptions(lines.media) ?? iceOptions(lines.session) ?? [],
    candidates: lines.media.filter((line) => line.startsWith('a=candidate:')).map((line) => parseSdpCandidate(line)),
    endOfCandidates: media.endOfCandidates !== undefined,
  };
}

function importDtls(media: MediaDescription, session: ParsedSdp, options: SdpImportOptions): DtlsParameters | undefined {
  const fingerprint = media.fingerprint ?? session.fingerprint;
  if (!fingerprint) return undefined;
  const setup = media.setup ?? session.setup ?? (options.type === 'answer' ? 'active' : 'actpass');
  if (!SETUPS.has(setup)) throw new SdpParseError('invalid-sdp', `unknown a=setup:${setup}`);
  return { hash: String(fingerprint.type).toLowerCase(), fingerprint: String(fingerprint.hash).toUpperCase(), setup: setup as DtlsSetup };
}

/**
 * Raw lines of the session part and of each m-line. Candidates and ice-options are read from
 * them because sdp-transform's grammar keeps only the first ice-option and drops what follows a
 * candidate's `ufrag` (such as `network-id`).
 */
interface RawLines {
  session: string[];
  media: string[];
}

function sectionLines(sdp: string): string[][] {
  const sections: string[][] = [[]];
  for (const line of sdp.split(/\r\n|\r|\n/)) {
    if (line.startsWith('m=')) sections.push([]);
    sections[sections.length - 1]?.push(line);
  }
  return sections;
}

/** RFC 8839 section 5.6: space-separated; libdatachannel writes `ice2,trickle`. */
function iceOptions(lines: string[]): string[] | undefined {
  const line = lines.find((l) => l.startsWith('a=ice-options:'));
  return line === undefined ? undefined : words(line.slice('a=ice-options:'.length), /[\s,]+/);
}

/** sdp-transform turns numeric-looking values into numbers; this splits any of them back into words. */
function words(value: string | number | undefined, separator = /\s+/): string[] {
  return value === undefined ? [] : String(value).split(separator).filter((word) => word !== '');
}
