import { isText, isToken, UINT32_MAX } from './jingle-attribute-readers.js';
import { SdpParseError } from './sdp-parse-error.js';
import type { Codec, ContentGroup, MediaContent } from './session-description.js';

/**
 * What sdpImport read must be what the Jingle import accepts (jingle-attribute-readers.ts), since
 * the description goes out as Jingle: a value with whitespace, a control character or a number
 * out of range would be refused by the XMPP peer (as by our own import), and a character XML 1.0
 * cannot carry (a NUL in an ice-pwd) would make the XMPP server close the gateway's whole stream
 * as not-well-formed (RFC 6120 section 4.9.3.13), ending every call on it. sdp-transform's
 * grammar reads `\S*` for most values, so nothing before this keeps such characters out.
 * Throws SdpParseError('invalid-sdp') naming the attribute.
 */
export function checkForJingle(content: MediaContent): void {
  const at = (attribute: string) => `a=${attribute} of m-line "${content.mid}"`;
  token(content.mid, 'a=mid');
  if (content.rejected) return;
  // XEP-0167 section 4 wants one or more payload types, as RFC 8866 section 5.14 one or more formats.
  if (content.codecs.length === 0) throw new SdpParseError('invalid-sdp', `m-line "${content.mid}" has no format`);
  for (const codec of content.codecs) checkCodec(codec, at);
  for (const fb of content.feedback) checkFeedback(fb.type, fb.subtype, at('rtcp-fb'));
  for (const ext of content.headerExtensions) {
    int(ext.id, 1, 255, at('extmap'));
    token(ext.uri, at('extmap'));
  }
  for (const source of content.sources) {
    int(source.ssrc, 0, UINT32_MAX, at('ssrc'));
    for (const p of source.parameters) {
      token(p.name, at('ssrc'));
      if (p.value !== undefined) text(p.value, at('ssrc'));
    }
  }
  for (const group of content.sourceGroups) {
    token(group.semantics, at('ssrc-group'));
    for (const ssrc of group.ssrcs) int(ssrc, 0, UINT32_MAX, at('ssrc-group'));
  }
  if (content.msid !== undefined) text(content.msid, at('msid'));
  if (content.ptime !== undefined) int(content.ptime, 0, 100_000, at('ptime'));
  if (content.maxptime !== undefined) int(content.maxptime, 0, 100_000, at('maxptime'));
  if (content.bandwidth) {
    token(content.bandwidth.type, `b= of m-line "${content.mid}"`);
    int(content.bandwidth.value, 0, 9_999_999_999, `b= of m-line "${content.mid}"`);
  }
  if (content.ice) {
    token(content.ice.ufrag, at('ice-ufrag'));
    token(content.ice.pwd, at('ice-pwd'));
    for (const option of content.ice.options) token(option, at('ice-options'));
  }
  if (content.dtls) {
    token(content.dtls.hash, at('fingerprint'));
    token(content.dtls.fingerprint, at('fingerprint'));
  }
}

/** RFC 5888 section 4: a mid names one m-line (and a Jingle content name one content). */
export function checkMidsForJingle(contents: readonly MediaContent[]): void {
  const mids = new Set(contents.map((content) => content.mid));
  if (mids.size !== contents.length) throw new SdpParseError('invalid-sdp', 'two m-lines have one a=mid');
}

export function checkGroupForJingle(group: ContentGroup): void {
  token(group.semantics, 'a=group');
  for (const mid of group.mids) token(mid, 'a=group');
}

function checkCodec(codec: Codec, at: (attribute: string) => string): void {
  token(codec.name, at('rtpmap'));
  int(codec.clockrate, 1, UINT32_MAX, at('rtpmap'));
  if (codec.channels !== undefined) int(codec.channels, 1, 255, at('rtpmap'));
  for (const p of codec.parameters) {
    // Jingle writes a parameter as name and value: neither may hold what would split it again.
    if (p.name !== '' && (!isToken(p.name) || /[=;]/.test(p.name))) throw invalid(at('fmtp'));
    if (p.value.includes(';')) throw invalid(at('fmtp'));
    text(p.value, at('fmtp'));
  }
  for (const fb of codec.feedback) checkFeedback(fb.type, fb.subtype, at('rtcp-fb'));
}

function checkFeedback(type: string, subtype: string | undefined, where: string): void {
  token(type, where);
  if (type === 'trr-int') int(/^\d{1,10}$/.test(subtype ?? '') ? Number(subtype) : NaN, 0, UINT32_MAX, where);
  else if (subtype !== undefined) token(subtype, where);
}

function token(value: string, where: string): void {
  if (!isToken(value)) throw invalid(where);
}

function text(value: string, where: string): void {
  if (!isText(value)) throw invalid(where);
}

function int(value: number, min: number, max: number, where: string): void {
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(where);
}

function invalid(where: string): SdpParseError {
  return new SdpParseError('invalid-sdp', `${where} holds a value Jingle cannot carry`);
}
