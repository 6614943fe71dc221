import { createHash } from 'node:crypto';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import {
  FEATURE_SDP_OFFER_ANSWER,
  NS_JINGLE,
  NS_JINGLE_DTLS,
  NS_JINGLE_ICE_UDP,
  NS_JINGLE_RTP,
  NS_JINGLE_RTP_AUDIO,
  NS_JINGLE_RTP_VIDEO,
  NS_JMI,
  NS_RTP_FB,
  NS_RTP_HDREXT,
  NS_SSMA,
  NS_GROUPING,
} from './jingle/namespaces.js';

/** XEP-0030 service discovery. */
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
/** XEP-0115 entity capabilities. */
export const NS_CAPS = 'http://jabber.org/protocol/caps';
/** Our caps node (XEP-0115 section 4: a URI identifying the software). */
export const CAPS_NODE = 'https://github.com/switchboard/switchboard';

export interface Identity {
  category: string;
  type: string;
  name: string;
}

/** Like cheogram-sip, a callable entity is a `client/phone` (JINGLE.md section 1.1). */
export const IDENTITY: Identity = { category: 'client', type: 'phone', name: 'Switchboard' };

/**
 * What we advertise (JINGLE.md section 1.1): Conversations needs jingle:1 + rtp:1 + ice-udp:1 +
 * dtls:0 + rtp:audio for its call button, Movim and Dino also JMI; `urn:ietf:rfc:3264` makes
 * modern Conversations put its candidates into initiate/accept (XEP-0176 section 4). The web
 * side of a relayed call is a browser, so video, grouping, rtcp-fb, hdrext and ssma pass through.
 */
export const FEATURES: readonly string[] = [
  NS_DISCO_INFO,
  NS_CAPS,
  NS_JINGLE,
  NS_JINGLE_RTP,
  NS_JINGLE_RTP_AUDIO,
  NS_JINGLE_RTP_VIDEO,
  NS_JINGLE_ICE_UDP,
  NS_JINGLE_DTLS,
  NS_JMI,
  FEATURE_SDP_OFFER_ANSWER,
  NS_GROUPING,
  NS_RTP_FB,
  NS_RTP_HDREXT,
  NS_SSMA,
];

/**
 * XEP-0115 section 5.1 verification string: `category/type/lang/name<` per identity, then
 * `feature<` per feature, each sorted by octets; SHA-1, base64. Checked against the section 5.2
 * example in test/integration/xmpp-jingle-call.test.ts.
 */
export function capsVer(identities: readonly Identity[] = [IDENTITY], features: readonly string[] = FEATURES): string {
  const ids = identities.map((i) => `${i.category}/${i.type}//${i.name}<`).sort(octetCompare);
  const feats = [...new Set(features)].sort(octetCompare).map((f) => `${f}<`);
  return createHash('sha1').update([...ids, ...feats].join(''), 'utf8').digest('base64');
}

function octetCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** `<query xmlns=disco#info>` answering a disco#info get (XEP-0030 section 3.1), echoing `node` when asked. */
export function discoInfoResult(node?: string): Element {
  return xml(
    'query',
    { xmlns: NS_DISCO_INFO, ...(node ? { node } : {}) },
    xml('identity', { category: IDENTITY.category, type: IDENTITY.type, name: IDENTITY.name }),
    ...[...new Set(FEATURES)].map((v) => xml('feature', { var: v })),
  );
}

/** `<c/>` for presence (XEP-0115 section 4). */
export function capsElement(): Element {
  return xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver: capsVer() });
}
