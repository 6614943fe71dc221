/**
 * What a call sounds like, from its RTCPeerConnection's statistics (W3C
 * webrtc-stats): the codec, round-trip time, jitter and loss of the audio
 * received, the microphone's and the other side's levels, and the ICE path.
 * A pure function of one `getStats()` report, so it can be tested on recorded
 * reports and used on any peer connection.
 */

export interface CallQuality {
  /** Codec of the received audio, e.g. `opus/48000/2`, `PCMU/8000`. */
  codec: string | undefined;
  /** Round-trip time: from RTCP (remote-inbound-rtp) where the other side reports it, else the ICE pair's. */
  roundTripTimeMs: number | undefined;
  /** Interarrival jitter of the received audio (RFC 3550 A.8). */
  jitterMs: number | undefined;
  packetsReceived: number;
  packetsLost: number;
  /** packetsLost / (packetsReceived + packetsLost) over the whole call; undefined before any packet. */
  lossRatio: number | undefined;
  packetsSent: number;
  /** The microphone's level, 0..1 (media-source audioLevel). */
  localLevel: number | undefined;
  /** The received audio's level, 0..1 (inbound-rtp audioLevel). */
  remoteLevel: number | undefined;
  /** The selected ICE candidate pair: `host`, `srflx`, `prflx` or `relay` (TURN) on each end, and `udp`/`tcp`. */
  candidatePair: { local: string; remote: string; protocol: string } | undefined;
}

type Stats = Record<string, unknown>;

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** Reads a `getStats()` report of an audio call. */
export function callQuality(report: RTCStatsReport): CallQuality {
  const byId = new Map<string, Stats>();
  report.forEach((stats: Stats) => byId.set(String(stats.id), stats));
  const all = [...byId.values()];
  const audio = (type: string) => all.find((s) => s.type === type && (s.kind ?? s.mediaType) === 'audio');
  const inbound = audio('inbound-rtp');
  const outbound = audio('outbound-rtp');
  const remoteInbound = audio('remote-inbound-rtp');
  const source = audio('media-source');

  const codecStats = inbound && byId.get(String(inbound.codecId));
  const codec = codecStats ? codecName(codecStats) : undefined;

  const pair = selectedPair(all, byId);
  const rtt = num(remoteInbound?.roundTripTime) ?? num(pair?.currentRoundTripTime);
  const received = num(inbound?.packetsReceived) ?? 0;
  const lost = Math.max(0, num(inbound?.packetsLost) ?? 0);
  const jitter = num(inbound?.jitter);
  const local = pair && byId.get(String(pair.localCandidateId));
  const remote = pair && byId.get(String(pair.remoteCandidateId));
  return {
    codec,
    roundTripTimeMs: rtt === undefined ? undefined : rtt * 1000,
    jitterMs: jitter === undefined ? undefined : jitter * 1000,
    packetsReceived: received,
    packetsLost: lost,
    lossRatio: received + lost > 0 ? lost / (received + lost) : undefined,
    packetsSent: num(outbound?.packetsSent) ?? 0,
    localLevel: num(source?.audioLevel),
    remoteLevel: num(inbound?.audioLevel),
    candidatePair:
      local && remote
        ? { local: str(local.candidateType) ?? 'unknown', remote: str(remote.candidateType) ?? 'unknown', protocol: str(local.protocol) ?? 'udp' }
        : undefined,
  };
}

/** `opus/48000/2` from a codec report's mimeType (`audio/opus`), clock rate and channels. */
function codecName(codec: Stats): string | undefined {
  const name = str(codec.mimeType)?.replace(/^audio\//i, '');
  if (!name) return undefined;
  const clockRate = num(codec.clockRate);
  const channels = num(codec.channels);
  return [name, clockRate, channels && channels > 1 ? channels : undefined].filter((part) => part !== undefined).join('/');
}

/** The transport's selected pair, else the nominated succeeded one (browsers differ). */
function selectedPair(all: Stats[], byId: Map<string, Stats>): Stats | undefined {
  for (const transport of all) {
    if (transport.type === 'transport' && transport.selectedCandidatePairId) {
      const pair = byId.get(String(transport.selectedCandidatePairId));
      if (pair) return pair;
    }
  }
  return all.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');
}
