/**
 * XML namespaces and disco features for Jingle calls (shared/JINGLE.md section 1.1). Only the
 * xmpp adapter spells these strings.
 */

/** XEP-0166 Jingle core; `<jingle/>`, `<content/>`, `<reason/>`. */
export const NS_JINGLE = 'urn:xmpp:jingle:1';
/** XEP-0166 section 10: Jingle-specific IQ error conditions (`<unknown-session/>`, `<out-of-order/>`, ...). */
export const NS_JINGLE_ERRORS = 'urn:xmpp:jingle:errors:1';

/** XEP-0167 RTP sessions: `<description/>`, `<payload-type/>`, `<parameter/>`, `<rtcp-mux/>`. */
export const NS_JINGLE_RTP = 'urn:xmpp:jingle:apps:rtp:1';
/** XEP-0167 section 11 disco features; Conversations shows its call buttons only with these. */
export const NS_JINGLE_RTP_AUDIO = 'urn:xmpp:jingle:apps:rtp:audio';
export const NS_JINGLE_RTP_VIDEO = 'urn:xmpp:jingle:apps:rtp:video';
/** XEP-0167 section 7: session-info payloads (`<ringing/>`, `<mute/>`, `<hold/>`, ...). */
export const NS_JINGLE_RTP_INFO = 'urn:xmpp:jingle:apps:rtp:info:1';

/** XEP-0176 ICE-UDP transport. */
export const NS_JINGLE_ICE_UDP = 'urn:xmpp:jingle:transports:ice-udp:1';
/** Conversations' ICE-options draft: `<trickle/>`, `<renomination/>` inside `<transport/>`. */
export const NS_JINGLE_ICE_OPTION = 'http://gultsch.de/xmpp/drafts/jingle/transports/ice-udp/option';
/** XEP-0320 DTLS-SRTP `<fingerprint hash setup/>`; Conversations refuses calls without it. */
export const NS_JINGLE_DTLS = 'urn:xmpp:jingle:apps:dtls:0';
/** Conversations' OMEMO-verified DTLS draft ("dlts" typo is part of the URI). */
export const NS_DTLS_SRTP_VERIFICATION = 'http://gultsch.de/xmpp/drafts/omemo/dlts-srtp-verification';

/** XEP-0293 RTCP feedback: `<rtcp-fb/>`, `<rtcp-fb-trr-int/>`. */
export const NS_RTP_FB = 'urn:xmpp:jingle:apps:rtp:rtcp-fb:0';
/** XEP-0294 RTP header extensions: `<rtp-hdrext/>`, `<extmap-allow-mixed/>`. */
export const NS_RTP_HDREXT = 'urn:xmpp:jingle:apps:rtp:rtp-hdrext:0';
/** XEP-0339 source-specific media attributes: `<source/>`, `<ssrc-group/>`. */
export const NS_SSMA = 'urn:xmpp:jingle:apps:rtp:ssma:0';
/** XEP-0338 grouping: `<group semantics='BUNDLE'/>` under `<jingle/>`. */
export const NS_GROUPING = 'urn:xmpp:jingle:apps:grouping:0';

/** XEP-0353 Jingle Message Initiation: propose/ringing/proceed/reject/retract/finish. */
export const NS_JMI = 'urn:xmpp:jingle-message:0';

/** XEP-0176 "SDP offer/answer" feature: modern Conversations stops trickling towards us. */
export const FEATURE_SDP_OFFER_ANSWER = 'urn:ietf:rfc:3264';
/** Features some clients advertise for XEP-0338 grouping and XEP-0339 SSMA (nobody gates on them). */
export const FEATURE_GROUPING = 'urn:ietf:rfc:5888';
export const FEATURE_SSMA = 'urn:ietf:rfc:5576';

/** XEP-0215 external services (STUN/TURN); lib-jitsi-meet falls back to `:1`. */
export const NS_EXTDISCO = 'urn:xmpp:extdisco:2';
export const NS_EXTDISCO_1 = 'urn:xmpp:extdisco:1';

/** Jingle data channels: XEP-0343 0.3.1 `<sctpmap/>` and Conversations' unpublished FT transport (JINGLE.md section 5). */
export const NS_JINGLE_DTLS_SCTP = 'urn:xmpp:jingle:transports:dtls-sctp:1';
export const NS_JINGLE_WEBRTC_DATACHANNEL = 'urn:xmpp:jingle:transports:webrtc-datachannel:1';

/** XEP-0334 `<store/>` hint and XEP-0184 receipts, both carried by JMI messages (JINGLE.md section 1.2). */
export const NS_HINTS = 'urn:xmpp:hints';
export const NS_RECEIPTS = 'urn:xmpp:receipts';
