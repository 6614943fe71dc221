import { describe, expect, it } from 'vitest';
import { callQuality } from '../../../src/client/call-quality.js';

// callQuality() on getStats() reports shaped as Chromium gives them (W3C webrtc-stats).

function report(entries: Record<string, unknown>[]): RTCStatsReport {
  const map = new Map(entries.map((entry) => [String(entry.id), entry]));
  return map as unknown as RTCStatsReport;
}

const CHROMIUM_ECHO_CALL = [
  { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' },
  { id: 'CP1', type: 'candidate-pair', localCandidateId: 'IL1', remoteCandidateId: 'IR1', nominated: true, state: 'succeeded', currentRoundTripTime: 0.004 },
  { id: 'CP2', type: 'candidate-pair', localCandidateId: 'IL2', remoteCandidateId: 'IR1', nominated: false, state: 'failed' },
  { id: 'IL1', type: 'local-candidate', candidateType: 'relay', protocol: 'udp' },
  { id: 'IL2', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
  { id: 'IR1', type: 'remote-candidate', candidateType: 'host', protocol: 'udp' },
  { id: 'COT01_111', type: 'codec', mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 },
  { id: 'COT01_0', type: 'codec', mimeType: 'audio/PCMU', clockRate: 8000, payloadType: 0 },
  { id: 'IT01A', type: 'inbound-rtp', kind: 'audio', codecId: 'COT01_111', packetsReceived: 970, packetsLost: 30, jitter: 0.0125, audioLevel: 0.21 },
  { id: 'OT01A', type: 'outbound-rtp', kind: 'audio', codecId: 'COT01_111', packetsSent: 1001 },
  { id: 'RI01A', type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: 0.0425 },
  { id: 'SA1', type: 'media-source', kind: 'audio', audioLevel: 0.33 },
];

describe('callQuality', () => {
  it('reads codec, RTCP round trip, jitter, loss, levels and the selected pair', () => {
    expect(callQuality(report(CHROMIUM_ECHO_CALL))).toEqual({
      codec: 'opus/48000/2',
      roundTripTimeMs: 42.5,
      jitterMs: 12.5,
      packetsReceived: 970,
      packetsLost: 30,
      lossRatio: 0.03,
      packetsSent: 1001,
      localLevel: 0.33,
      remoteLevel: 0.21,
      candidatePair: { local: 'relay', remote: 'host', protocol: 'udp' },
    });
  });

  it('falls back to the ICE pair round trip, names mono codecs without channels, and says nothing it does not know', () => {
    const withoutRtcp = CHROMIUM_ECHO_CALL.filter((s) => s.type !== 'remote-inbound-rtp').map((s) => (s.id === 'IT01A' ? { ...s, codecId: 'COT01_0' } : s));
    const quality = callQuality(report(withoutRtcp));
    expect(quality.roundTripTimeMs).toBe(4);
    expect(quality.codec).toBe('PCMU/8000');

    const empty = callQuality(report([]));
    expect(empty).toEqual({
      codec: undefined,
      roundTripTimeMs: undefined,
      jitterMs: undefined,
      packetsReceived: 0,
      packetsLost: 0,
      lossRatio: undefined,
      packetsSent: 0,
      localLevel: undefined,
      remoteLevel: undefined,
      candidatePair: undefined,
    });
  });

  it('finds the nominated pair where the transport names none (Firefox), and never reports negative loss', () => {
    const firefox = CHROMIUM_ECHO_CALL.filter((s) => s.type !== 'transport').map((s) => (s.id === 'IT01A' ? { ...s, packetsLost: -2 } : s));
    const quality = callQuality(report(firefox));
    expect(quality.candidatePair).toEqual({ local: 'relay', remote: 'host', protocol: 'udp' });
    expect(quality.packetsLost).toBe(0);
    expect(quality.lossRatio).toBe(0);
  });
});
