import { parse, write, type SessionDescription } from 'sdp-transform';
import { CallFailedError } from '../errors/gateway-error.js';
import type { Codec } from './codecs.js';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** The parts of an SDP's first audio m-line the anchor works with. */
export interface AudioDescription {
  /** Connection address (media-level c= over session-level). */
  address: string;
  port: number;
  rtcpPort: number | undefined;
  rtcpMux: boolean;
  direction: MediaDirection;
  protocol: string;
  mid: string | undefined;
  codecs: Codec[];
  /** ICE credentials and a DTLS fingerprint: the party is a WebRTC endpoint. */
  webrtc: boolean;
}

/**
 * Parses the first audio m-line; a description without one is incompatible media. sdp-transform
 * turns what looks like a number into one and leaves the rest as text (`m=audio 99999999999999999999`
 * gives a string, `a=rtpmap:96 /` an empty name and clock rate), so what it read is checked here:
 * a port out of 1-65535 is incompatible media; a payload type out of 0-127 or listed twice, or with
 * two rtpmaps or one without name or clock rate or with bad channels, is a codec left out, as
 * unknown ones are.
 */
export function parseAudioDescription(sdp: string): AudioDescription {
  let session: SessionDescription;
  try {
    session = parse(sdp);
  } catch (error) {
    throw new CallFailedError('incompatible-media', `unparsable SDP: ${(error as Error).message}`);
  }
  const media = session.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (!media) throw new CallFailedError('incompatible-media', 'the SDP has no active audio stream');
  if (!isPort(media.port)) throw new CallFailedError('incompatible-media', `the audio stream's port ${String(media.port).slice(0, 20)} is not a port`);
  const codecs = mediaCodecs(media);
  const address = String(media.connection?.ip || session.connection?.ip || '0.0.0.0');
  const direction = (media.direction ?? session.direction ?? 'sendrecv') as MediaDirection;
  const iceUfrag = media.iceUfrag ?? session.iceUfrag;
  const fingerprint = media.fingerprint ?? session.fingerprint;
  return {
    address,
    port: media.port,
    rtcpPort: isPort(media.rtcp?.port) ? media.rtcp.port : undefined,
    rtcpMux: media.rtcpMux !== undefined,
    direction,
    protocol: String(media.protocol),
    mid: media.mid === undefined ? undefined : String(media.mid),
    codecs,
    webrtc: iceUfrag !== undefined && fingerprint !== undefined,
  };
}

/** The codecs of one m-line that can be read, in its order (see parseAudioDescription). */
export function mediaCodecs(media: SessionDescription['media'][number]): Codec[] {
  const fmtp = new Map((media.fmtp ?? []).map((f) => [f.payload, String(f.config)]));
  const order = String(media.payloads ?? '')
    .split(' ')
    .filter(Boolean)
    .map(Number);
  const codecs: Codec[] = [];
  for (const pt of order) {
    if (!Number.isInteger(pt) || pt < 0 || pt > 127 || codecs.some((codec) => codec.payloadType === pt)) continue;
    // One a=rtpmap per payload type (RFC 8866 section 6.6): two are ambiguous, and the codec is left out.
    const rtpmaps = media.rtp.filter((r) => r.payload === pt);
    const codec = rtpmaps.length === 0 ? staticPayload(pt) : rtpmaps.length === 1 ? rtpmapCodec(rtpmaps[0]!, pt) : undefined;
    if (!codec) continue;
    const parameters = fmtp.get(pt);
    codecs.push(parameters === undefined ? codec : { ...codec, fmtp: parameters });
  }
  return codecs;
}

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

/**
 * An a=rtpmap codec (RFC 8866 section 6.6: name/clock rate[/channels]); undefined when malformed.
 * The clock rate is not optional, and sdp-transform would not write a 0 one back.
 */
function rtpmapCodec(rtp: SessionDescription['media'][number]['rtp'][number], payloadType: number): Codec | undefined {
  const clockRate: unknown = rtp.rate;
  // `opus/48000/` reads as an empty channel count, which sdp-transform writes back as none: one channel.
  const channels = rtp.encoding === undefined || String(rtp.encoding) === '' ? 1 : Number(rtp.encoding);
  const name = String(rtp.codec ?? '');
  if (name === '' || !Number.isInteger(clockRate) || (clockRate as number) < 1 || !Number.isInteger(channels) || channels < 1 || channels > 255) return undefined;
  return { name, clockRate: clockRate as number, channels, payloadType };
}

/** RFC 3551 table 4: static payload types a phone may use without a=rtpmap. */
function staticPayload(pt: number): Codec | undefined {
  switch (pt) {
    case 0:
      return { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
    case 8:
      return { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 };
    case 9:
      // RFC 3551 section 4.5.2: G.722's RTP clock is 8000 although it samples at 16 kHz.
      return { name: 'G722', clockRate: 8000, channels: 1, payloadType: 9 };
    default:
      return undefined;
  }
}

/** The direction the other party must answer with (RFC 3264 section 6.1). */
export function answerDirection(offered: MediaDirection): MediaDirection {
  switch (offered) {
    case 'sendonly':
      return 'recvonly';
    case 'recvonly':
      return 'sendonly';
    default:
      return offered;
  }
}

export interface RtpAvpSdpOptions {
  address: string;
  port: number;
  codecs: Codec[];
  direction: MediaDirection;
  /** o= session id; constant for a leg, with `version` bumped on every change (RFC 3264 section 8). */
  sessionId: number;
  version: number;
  rtcpMux?: boolean;
}

/** A plain RTP/AVP audio description, as SIP phones and PBX trunks expect. */
export function buildRtpAvpSdp(options: RtpAvpSdpOptions): string {
  const family = options.address.includes(':') ? 6 : 4;
  const session: SessionDescription = {
    version: 0,
    origin: {
      username: 'switchboard',
      sessionId: options.sessionId,
      sessionVersion: options.version,
      netType: 'IN',
      ipVer: family,
      address: options.address,
    },
    name: 'switchboard',
    timing: { start: 0, stop: 0 },
    connection: { version: family, ip: options.address },
    media: [
      {
        type: 'audio',
        port: options.port,
        protocol: 'RTP/AVP',
        payloads: options.codecs.map((c) => c.payloadType).join(' '),
        rtp: options.codecs.map((c) => ({
          payload: c.payloadType,
          codec: c.name,
          rate: c.clockRate,
          ...(c.channels > 1 ? { encoding: c.channels } : {}),
        })),
        fmtp: options.codecs.flatMap((c) => (c.fmtp ? [{ payload: c.payloadType, config: c.fmtp }] : [])),
        ptime: 20,
        direction: options.direction,
        ...(options.rtcpMux ? { rtcpMux: 'rtcp-mux' } : {}),
      },
    ],
  };
  return write(session).replace(/\r?\n/g, '\r\n');
}

