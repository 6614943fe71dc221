/**
 * The neutral session description both SDP and Jingle translate to and from (stanza's
 * "Intermediate" idea, STYLE-ANCHORS section 8): SDP and Jingle never convert into each other
 * directly. Types only.
 *
 * Conventions:
 * - One description is what one party (its *author*) says. `direction` values are seen from
 *   that author, as in SDP; Jingle's role-absolute `senders` is derived with the author's role
 *   (XEP-0166 section 7.1, JINGLE.md section 1.3).
 * - Values that SDP copies from the session level (ICE credentials, fingerprint, setup,
 *   extmap-allow-mixed) are always stored per content, as Jingle carries them.
 * - Optional fields are absent, never `undefined`, so descriptions compare with `toStrictEqual`.
 */

/** A Jingle session role; also the author of a description. */
export type JingleRole = 'initiator' | 'responder';

/** SDP direction attribute, from the author's point of view (RFC 3264 section 6.1). */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export type MediaKind = 'audio' | 'video';

/** `a=setup` / XEP-0320 `setup` (RFC 4145 section 4). */
export type DtlsSetup = 'actpass' | 'active' | 'passive' | 'holdconn';

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface SessionDescription {
  /** `a=group:` lines / XEP-0338 `<group/>` elements, in order. */
  groups: ContentGroup[];
  /** m-lines / `<content/>` elements, in order. Only audio and video: data m-lines are dropped. */
  contents: MediaContent[];
}

export interface ContentGroup {
  /** `BUNDLE`, `LS`, ... */
  semantics: string;
  mids: string[];
}

export interface MediaContent {
  /** `a=mid` / `<content name>`. */
  mid: string;
  /** Jingle `creator`; SDP has none, so imports from SDP say `initiator` (as Conversations always writes). */
  creator: JingleRole;
  kind: MediaKind;
  /** From the author's point of view. */
  direction: MediaDirection;
  /** SDP port 0. Jingle has no form for it; Jingle exports omit rejected contents. */
  rejected?: true;
  /** In preference order (the m-line's format list / `<payload-type/>` order). */
  codecs: Codec[];
  /** `a=rtcp-fb:* ...` / `<rtcp-fb/>` directly under `<description/>` (XEP-0293 section 3). */
  feedback: RtcpFeedback[];
  headerExtensions: HeaderExtension[];
  /** `a=extmap-allow-mixed` (RFC 8285 section 6) / `<extmap-allow-mixed/>` (XEP-0294 1.1). */
  extmapAllowMixed: boolean;
  /** `a=ssrc:` lines grouped by SSRC / XEP-0339 `<source/>`. */
  sources: Source[];
  sourceGroups: SourceGroup[];
  /** Media-level `a=msid:` value ("stream track"). No standard Jingle form: Jingle imports take it from the first source's `msid` parameter. */
  msid?: string;
  /** `a=rtcp-mux` / `<rtcp-mux/>` (XEP-0167 1.2). Absent means not muxed, which browsers and libdatachannel refuse. */
  rtcpMux: boolean;
  /** `a=rtcp-rsize` (RFC 5506). No Jingle form: lost in a Jingle round trip, which browsers tolerate. */
  rtcpReducedSize: boolean;
  /** `a=ptime` / `<payload-type ptime>` (XEP-0167 section 4), in milliseconds. */
  ptime?: number;
  maxptime?: number;
  /** `b=AS:n` / `<bandwidth type='AS'>n</bandwidth>` (XEP-0167 section 4). */
  bandwidth?: Bandwidth;
  /** Absent only for SDP without ICE (rejected m-lines, plain RTP). */
  ice?: IceTransport;
  /** Absent only for SDP without DTLS (plain RTP, SDES). */
  dtls?: DtlsParameters;
}

export interface Codec {
  /** Payload type, 0..127. */
  id: number;
  name: string;
  clockrate: number;
  /** Present when the source said so (SDP `/2`, Jingle `channels`); absent means 1. */
  channels?: number;
  /** `a=fmtp` parameters in order. A value-only token (telephone-event `0-16`, red `111/111`) has `name: ''`. */
  parameters: CodecParameter[];
  feedback: RtcpFeedback[];
}

export interface CodecParameter {
  name: string;
  value: string;
}

/** RFC 4585 `a=rtcp-fb`; for `trr-int`, `subtype` holds the interval. */
export interface RtcpFeedback {
  type: string;
  subtype?: string;
}

/** RFC 8285 `a=extmap` / XEP-0294 `<rtp-hdrext/>`. */
export interface HeaderExtension {
  id: number;
  uri: string;
  /** From the author's point of view; `sendrecv` is what an absent direction/`senders` means. */
  direction: MediaDirection;
}

/** RFC 5576 `a=ssrc` / XEP-0339 `<source/>`. */
export interface Source {
  ssrc: number;
  /** `cname`, `msid`, ... in order; values are trimmed (movim/movim#1231). */
  parameters: SourceParameter[];
}

export interface SourceParameter {
  name: string;
  value?: string;
}

/** RFC 5576 `a=ssrc-group` / XEP-0339 `<ssrc-group/>`; FID pairs a media SSRC with its RTX SSRC. */
export interface SourceGroup {
  semantics: string;
  ssrcs: number[];
}

export interface Bandwidth {
  type: string;
  value: number;
}

/** RFC 8839 ICE parameters / XEP-0176 `<transport/>`. */
export interface IceTransport {
  ufrag: string;
  pwd: string;
  /** `a=ice-options` tokens (`trickle`, ...) / Conversations' ice-option children. */
  options: string[];
  candidates: IceCandidate[];
  /** `a=end-of-candidates` (RFC 8840 section 8.2). No XEP-0176 form. */
  endOfCandidates: boolean;
}

/** RFC 8839 section 5.1 candidate / XEP-0176 section 5.3 `<candidate/>`. */
export interface IceCandidate {
  foundation: string;
  /** 1 = RTP, 2 = RTCP (Dino signals 2 even with rtcp-mux). */
  component: number;
  /** Lowercase `udp` or `tcp`. */
  protocol: string;
  priority: number;
  ip: string;
  port: number;
  type: CandidateType;
  /** `raddr` / `rel-addr`. */
  relAddr?: string;
  /** `rport` / `rel-port` (Monal: `rel_port`). */
  relPort?: number;
  /** RFC 6544 `tcptype`: `active`, `passive`, `so`. */
  tcptype?: string;
  generation?: number;
  /** libwebrtc `network-id` / XEP-0176 `network`. */
  network?: number;
  /** XEP-0176 candidate `id`; SDP has none. */
  id?: string;
}

/** RFC 8122 `a=fingerprint` + RFC 4145 `a=setup` / XEP-0320 `<fingerprint hash setup>`. */
export interface DtlsParameters {
  /** Hash function, lowercase: `sha-256`. */
  hash: string;
  /** Uppercase colon-separated hex. */
  fingerprint: string;
  setup: DtlsSetup;
}

/**
 * What a `transport-info` carries for one content (XEP-0176 section 6): trickled candidates,
 * new credentials (ICE restart: credentials and no candidates), and sometimes the fingerprint
 * (Dino reads it there, dino/dino#1072).
 */
export interface TransportUpdate {
  mid: string;
  creator: JingleRole;
  ufrag?: string;
  pwd?: string;
  candidates: IceCandidate[];
  dtls?: DtlsParameters;
}
