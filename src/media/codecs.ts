/**
 * Audio codecs the anchor can carry. It does not transcode: both legs must
 * share one codec, and the anchor only renumbers payload types between them.
 */
export interface Codec {
  /** As in a=rtpmap: `opus`, `G722`, `PCMU`, `PCMA`, `telephone-event`. */
  name: string;
  clockRate: number;
  channels: number;
  payloadType: number;
  /** a=fmtp parameters, passed through unchanged. */
  fmtp?: string;
}

/** Preference order when choosing among codecs both sides offer (issue #3). */
export const AUDIO_PREFERENCE = ['opus', 'G722', 'PCMU', 'PCMA'] as const;

export const TELEPHONE_EVENT = 'telephone-event';

/** Payload types the gateway uses in its own offers (static ones per RFC 3551 table 4). */
const GATEWAY_PAYLOAD_TYPES: Record<string, number> = { PCMU: 0, PCMA: 8, G722: 9, opus: 111 };
const GATEWAY_DTMF_PAYLOAD_TYPES: Record<number, number> = { 8000: 101, 48000: 110 };

/** Names compare case-insensitively (RFC 4855 section 3: media subtype names). */
export function sameCodec(a: Pick<Codec, 'name' | 'clockRate'>, b: Pick<Codec, 'name' | 'clockRate'>): boolean {
  return a.name.toLowerCase() === b.name.toLowerCase() && a.clockRate === b.clockRate;
}

export function isTelephoneEvent(codec: Pick<Codec, 'name'>): boolean {
  return codec.name.toLowerCase() === TELEPHONE_EVENT;
}

function preferenceRank(codec: Codec): number {
  const rank = AUDIO_PREFERENCE.findIndex((name) => name.toLowerCase() === codec.name.toLowerCase());
  return rank < 0 ? Number.POSITIVE_INFINITY : rank;
}

/** The audio codecs the anchor supports, from an offer, best first. */
export function supportedAudioCodecs(offered: Codec[]): Codec[] {
  return offered
    .filter((codec) => Number.isFinite(preferenceRank(codec)))
    .filter((codec) => codec.name.toLowerCase() !== 'opus' || codec.clockRate === 48000)
    .sort((a, b) => preferenceRank(a) - preferenceRank(b));
}

/** telephone-event entries of a codec list at a clock rate (RFC 4733 events use the audio clock). */
export function telephoneEventAt(codecs: Codec[], clockRate: number): Codec | undefined {
  return codecs.find((codec) => isTelephoneEvent(codec) && codec.clockRate === clockRate);
}

/**
 * What one leg is offered: the codecs of the other leg's offer the anchor
 * supports, renumbered to the gateway's own payload types, plus
 * telephone-event at each clock rate that remains.
 */
export function gatewayOffer(offered: Codec[]): Codec[] {
  const audio = supportedAudioCodecs(offered).map((codec) => ({
    ...codec,
    payloadType: GATEWAY_PAYLOAD_TYPES[codec.name] ?? codec.payloadType,
  }));
  const clockRates = new Set(audio.map((codec) => codec.clockRate));
  const events: Codec[] = [];
  for (const rate of clockRates) {
    const event = telephoneEventAt(offered, rate);
    if (event) events.push({ ...event, payloadType: GATEWAY_DTMF_PAYLOAD_TYPES[rate] ?? event.payloadType });
  }
  return [...audio, ...events];
}

/** The codec pair both legs use after negotiation, each with its own leg's payload numbers. */
export interface NegotiatedAudio {
  audio: Codec;
  dtmf?: Codec;
}

/**
 * Picks the answer's codec from `answered` (the other side's answer) and
 * finds the same codec in `offered` (this side's offer), so each side keeps
 * its own payload type numbers. Undefined when there is no common codec.
 */
export function matchCodecs(answered: Codec[], offered: Codec[]): { answered: NegotiatedAudio; offered: NegotiatedAudio } | undefined {
  for (const candidate of supportedAudioCodecs(answered)) {
    const mine = offered.find((codec) => sameCodec(codec, candidate));
    if (!mine) continue;
    const answeredDtmf = telephoneEventAt(answered, candidate.clockRate);
    const offeredDtmf = telephoneEventAt(offered, candidate.clockRate);
    // telephone-event is kept only when both sides have it (RFC 4733 section 7.1.1).
    if (answeredDtmf && offeredDtmf) {
      return { answered: { audio: candidate, dtmf: answeredDtmf }, offered: { audio: mine, dtmf: offeredDtmf } };
    }
    return { answered: { audio: candidate }, offered: { audio: mine } };
  }
  return undefined;
}

/** `opus/48000/2` style rtpmap text. */
export function rtpmapText(codec: Codec): string {
  return codec.channels > 1 ? `${codec.name}/${codec.clockRate}/${codec.channels}` : `${codec.name}/${codec.clockRate}`;
}
