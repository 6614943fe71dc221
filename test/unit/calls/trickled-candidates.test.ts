import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../../src/calls/address.js';
import { BaseLeg, type IncomingCall } from '../../../src/calls/leg.js';
import { MAX_TRICKLED_CANDIDATES, TrickledCandidates } from '../../../src/calls/trickled-candidates.js';
import type { IceCandidate } from '../../../src/protocol/messages.js';

class TricklingLeg extends BaseLeg {
  readonly id = 'leg';
  readonly address = parseAddress('web:alice');
  readonly capabilities = { webrtc: true, trickle: true };
  trickle(candidate: IceCandidate | null): void {
    this.emitEvent('candidate', candidate);
  }
  async deliverCall(_call: IncomingCall): Promise<void> {}
  notifyRinging(): void {}
  notifyAnswered(): void {}
  sendCandidate(): void {}
  sendOffer(): void {}
  sendAnswer(): void {}
  sendDtmf(): void {}
  protected onEnd(): void {}
}

describe('TrickledCandidates', () => {
  it('keeps the filtered candidates up to end-of-candidates, and no more than its cap from a flood', async () => {
    const leg = new TricklingLeg();
    const kept = new TrickledCandidates(leg, (line) => line.includes('127.0.0.1'));
    leg.trickle({ candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host' });
    for (let i = 0; i < 1000; i++) leg.trickle({ candidate: `candidate:${i} 1 udp 1 127.0.0.1 ${5000 + i} typ host` });
    leg.trickle(null);
    const all = await kept.all({ limitMs: 1000, quietMs: 250, relayExpected: false });
    expect(all).toHaveLength(MAX_TRICKLED_CANDIDATES);
    expect(all.every((candidate) => candidate.candidate.includes('127.0.0.1'))).toBe(true);
  });
});
