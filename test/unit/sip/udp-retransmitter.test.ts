import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { peekSipMessage, type PeekedRequest, type PeekedResponse } from '../../../adapters/sip/transport/sip-message-peek.js';
import { UdpRetransmitter } from '../../../adapters/sip/transport/udp-retransmitter.js';

const TIMERS = { t1: 500, t2: 4000, t4: 5000 };

/** `branch` '' writes a Via without branch (an RFC 2543 client). */
function request(method: string, branch: string, options: { cseqMethod?: string; callId?: string; cseq?: number; toTag?: string; sentBy?: string } = {}): PeekedRequest {
  const peeked = peekSipMessage(
    [
      `${method} sip:bob@192.0.2.2 SIP/2.0`,
      `Via: SIP/2.0/UDP ${options.sentBy ?? '192.0.2.1:5060'}${branch ? `;branch=${branch}` : ''}`,
      'From: <sip:alice@192.0.2.1>;tag=a',
      `To: <sip:bob@192.0.2.2>${options.toTag ? `;tag=${options.toTag}` : ''}`,
      `Call-ID: ${options.callId ?? 'call-1'}`,
      `CSeq: ${options.cseq ?? 1} ${options.cseqMethod ?? method}`,
      '',
      '',
    ].join('\r\n'),
  );
  if (peeked?.kind !== 'request') throw new Error('bad request fixture');
  return peeked;
}

function response(status: number, method: string, branch: string, options: { callId?: string; cseq?: number; sentBy?: string } = {}): PeekedResponse {
  const peeked = peekSipMessage(
    [
      `SIP/2.0 ${status} Whatever`,
      `Via: SIP/2.0/UDP ${options.sentBy ?? '192.0.2.1:5060'}${branch ? `;branch=${branch}` : ''}`,
      'From: <sip:alice@192.0.2.1>;tag=a',
      'To: <sip:bob@192.0.2.2>;tag=b',
      `Call-ID: ${options.callId ?? 'call-1'}`,
      `CSeq: ${options.cseq ?? 1} ${method}`,
      '',
      '',
    ].join('\r\n'),
  );
  if (peeked?.kind !== 'response') throw new Error('bad response fixture');
  return peeked;
}

/** Times (ms since the test started) at which `resend` ran. */
function recorder(): { resend: () => void; times: number[] } {
  const start = Date.now();
  const times: number[] = [];
  return { resend: () => times.push(Date.now() - start), times };
}

describe('UdpRetransmitter', () => {
  let retransmitter: UdpRetransmitter;

  beforeEach(() => {
    vi.useFakeTimers();
    retransmitter = new UdpRetransmitter({ timers: TIMERS });
  });

  afterEach(() => {
    retransmitter.close();
    vi.useRealTimers();
  });

  it('retransmits an INVITE at T1, 2T1, 4T1... (Timer A) until a 100 arrives', () => {
    const invite = recorder();
    retransmitter.trackOutgoingRequest(request('INVITE', 'z9hG4bKinv'), invite.resend);
    vi.advanceTimersByTime(7_500);
    // Intervals 0.5, 1, 2, 4 s after the first send at 0.
    expect(invite.times).toEqual([500, 1500, 3500, 7500]);
    expect(retransmitter.onIncomingResponse(response(100, 'INVITE', 'z9hG4bKinv'))).toBe('deliver');
    vi.advanceTimersByTime(60_000);
    expect(invite.times).toHaveLength(4);
    expect(retransmitter.counters.retransmissionsSent).toBe(4);
  });

  it('gives an unanswered INVITE up at 64*T1 (Timer B)', () => {
    const invite = recorder();
    retransmitter.trackOutgoingRequest(request('INVITE', 'z9hG4bKlost'), invite.resend);
    vi.advanceTimersByTime(120_000);
    expect(invite.times).toEqual([500, 1500, 3500, 7500, 15_500, 31_500]);
  });

  it('retransmits a non-INVITE request doubling up to T2 (Timer E), then every T2 once proceeding', () => {
    const message = recorder();
    retransmitter.trackOutgoingRequest(request('MESSAGE', 'z9hG4bKmsg'), message.resend);
    vi.advanceTimersByTime(11_500);
    expect(message.times).toEqual([500, 1500, 3500, 7500, 11_500]);
    expect(retransmitter.onIncomingResponse(response(100, 'MESSAGE', 'z9hG4bKmsg'))).toBe('deliver');
    vi.advanceTimersByTime(8_000);
    expect(message.times).toEqual([500, 1500, 3500, 7500, 11_500, 15_500, 19_500]);
    expect(retransmitter.onIncomingResponse(response(200, 'MESSAGE', 'z9hG4bKmsg'))).toBe('deliver');
    vi.advanceTimersByTime(30_000);
    expect(message.times).toHaveLength(7);
    // After T4 (Timer K) the completed transaction is forgotten: a late copy goes through.
    expect(retransmitter.onIncomingResponse(response(200, 'MESSAGE', 'z9hG4bKmsg'))).toBe('deliver');
  });

  it('absorbs a retransmitted final response to a completed non-INVITE within T4', () => {
    retransmitter.trackOutgoingRequest(request('OPTIONS', 'z9hG4bKopt'), () => {});
    expect(retransmitter.onIncomingResponse(response(200, 'OPTIONS', 'z9hG4bKopt'))).toBe('deliver');
    expect(retransmitter.onIncomingResponse(response(200, 'OPTIONS', 'z9hG4bKopt'))).toBe('absorb');
  });

  it('treats CANCEL as a non-INVITE of its own and never retransmits ACK', () => {
    const invite = recorder();
    const cancel = recorder();
    const ack = recorder();
    retransmitter.trackOutgoingRequest(request('INVITE', 'z9hG4bKc'), invite.resend);
    retransmitter.onIncomingResponse(response(180, 'INVITE', 'z9hG4bKc'));
    retransmitter.trackOutgoingRequest(request('CANCEL', 'z9hG4bKc'), cancel.resend);
    retransmitter.trackOutgoingRequest(request('ACK', 'z9hG4bKother', { toTag: 'b' }), ack.resend);
    vi.advanceTimersByTime(1_600);
    expect(invite.times).toEqual([]);
    expect(cancel.times).toEqual([500, 1500]);
    expect(retransmitter.onIncomingResponse(response(200, 'CANCEL', 'z9hG4bKc'))).toBe('deliver');
    vi.advanceTimersByTime(40_000);
    expect(cancel.times).toHaveLength(2);
    expect(ack.times).toEqual([]);
  });

  it('resends the cached ACK when a non-2xx final response to INVITE comes again (Timer D)', () => {
    const ack = recorder();
    retransmitter.trackOutgoingRequest(request('INVITE', 'z9hG4bKbusy'), () => {});
    expect(retransmitter.onIncomingResponse(response(486, 'INVITE', 'z9hG4bKbusy'))).toBe('deliver');
    retransmitter.trackOutgoingRequest(request('ACK', 'z9hG4bKbusy', { cseqMethod: 'ACK' }), ack.resend);
    expect(retransmitter.onIncomingResponse(response(486, 'INVITE', 'z9hG4bKbusy'))).toBe('absorb');
    expect(ack.times).toEqual([0]);
  });

  it('retransmits a 2xx to INVITE until the ACK with the same Call-ID and CSeq (section 13.3.1.4), when enabled', () => {
    retransmitter.close();
    retransmitter = new UdpRetransmitter({ timers: TIMERS, retransmit2xx: true });
    const ok = recorder();
    expect(retransmitter.onIncomingRequest(request('INVITE', 'z9hG4bKuas', { cseq: 5, callId: 'dlg' }))).toBe('deliver');
    retransmitter.trackOutgoingResponse(response(200, 'INVITE', 'z9hG4bKuas', { cseq: 5, callId: 'dlg' }), ok.resend);
    vi.advanceTimersByTime(11_500);
    expect(ok.times).toEqual([500, 1500, 3500, 7500, 11_500]);
    // The ACK of a 2xx has its own branch; it matches by Call-ID and CSeq number.
    expect(retransmitter.onIncomingRequest(request('ACK', 'z9hG4bKack', { cseq: 5, callId: 'dlg', toTag: 'b' }))).toBe('deliver');
    vi.advanceTimersByTime(30_000);
    expect(ok.times).toHaveLength(5);
  });

  it('gives 2xx retransmission up at 64*T1', () => {
    retransmitter.close();
    retransmitter = new UdpRetransmitter({ timers: TIMERS, retransmit2xx: true });
    const ok = recorder();
    retransmitter.onIncomingRequest(request('INVITE', 'z9hG4bKnoack'));
    retransmitter.trackOutgoingResponse(response(200, 'INVITE', 'z9hG4bKnoack'), ok.resend);
    vi.advanceTimersByTime(100_000);
    expect(ok.times).toEqual([500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
  });

  it('leaves 2xx retransmission to sip.js by default', () => {
    const ok = recorder();
    retransmitter.onIncomingRequest(request('INVITE', 'z9hG4bKdefault'));
    retransmitter.trackOutgoingResponse(response(200, 'INVITE', 'z9hG4bKdefault'), ok.resend);
    vi.advanceTimersByTime(10_000);
    expect(ok.times).toEqual([]);
  });

  it('absorbs a duplicate INVITE after the 2xx and resends the cached 2xx', () => {
    const ok = recorder();
    expect(retransmitter.onIncomingRequest(request('INVITE', 'z9hG4bKdup'))).toBe('deliver');
    retransmitter.trackOutgoingResponse(response(200, 'INVITE', 'z9hG4bKdup'), ok.resend);
    vi.advanceTimersByTime(20_000);
    expect(retransmitter.onIncomingRequest(request('INVITE', 'z9hG4bKdup'))).toBe('absorb');
    expect(ok.times).toEqual([20_000]);
    expect(retransmitter.counters.retransmissionsAbsorbed).toBe(1);
    // A new branch is a new request; after 64*T1 the old branch is forgotten.
    expect(retransmitter.onIncomingRequest(request('INVITE', 'z9hG4bKnew'))).toBe('deliver');
    vi.advanceTimersByTime(33_000);
    expect(retransmitter.onIncomingRequest(request('INVITE', 'z9hG4bKdup'))).toBe('deliver');
  });

  it('absorbs a retransmitted non-INVITE request and answers it with the last response', () => {
    const ok = recorder();
    expect(retransmitter.onIncomingRequest(request('MESSAGE', 'z9hG4bKm1'))).toBe('deliver');
    // Still being processed: absorbed without an answer.
    expect(retransmitter.onIncomingRequest(request('MESSAGE', 'z9hG4bKm1'))).toBe('absorb');
    expect(ok.times).toEqual([]);
    retransmitter.trackOutgoingResponse(response(200, 'MESSAGE', 'z9hG4bKm1'), ok.resend);
    expect(retransmitter.onIncomingRequest(request('MESSAGE', 'z9hG4bKm1'))).toBe('absorb');
    expect(ok.times).toEqual([0]);
    // CANCEL shares the INVITE's branch but is its own transaction (RFC 3261 section 17.2.3).
    expect(retransmitter.onIncomingRequest(request('CANCEL', 'z9hG4bKm1'))).toBe('deliver');
  });

  it('a request that reuses a branch from another sent-by is no retransmission (RFC 3261 section 17.2.3)', () => {
    const ok = recorder();
    expect(retransmitter.onIncomingRequest(request('MESSAGE', 'z9hG4bKshared'))).toBe('deliver');
    retransmitter.trackOutgoingResponse(response(200, 'MESSAGE', 'z9hG4bKshared'), ok.resend);
    expect(retransmitter.onIncomingRequest(request('MESSAGE', 'z9hG4bKshared', { sentBy: '192.0.2.99:5060' }))).toBe('deliver');
    expect(ok.times).toEqual([]);
  });

  it('matches requests without a magic cookie by Call-ID, From tag, CSeq and sent-by: retransmissions absorbed, Timer G stopped by their ACK', () => {
    const ok = recorder();
    expect(retransmitter.onIncomingRequest(request('MESSAGE', '', { callId: 'legacy-1' }))).toBe('deliver');
    retransmitter.trackOutgoingResponse(response(200, 'MESSAGE', '', { callId: 'legacy-1' }), ok.resend);
    expect(retransmitter.onIncomingRequest(request('MESSAGE', '', { callId: 'legacy-2' }))).toBe('deliver');
    expect(retransmitter.onIncomingRequest(request('MESSAGE', '', { callId: 'legacy-1' }))).toBe('absorb');
    expect(ok.times).toEqual([0]);
    const busy = recorder();
    retransmitter.onIncomingRequest(request('INVITE', '', { callId: 'legacy-3' }));
    retransmitter.trackOutgoingResponse(response(486, 'INVITE', '', { callId: 'legacy-3' }), busy.resend);
    vi.advanceTimersByTime(1_500);
    expect(retransmitter.onIncomingRequest(request('ACK', '', { callId: 'legacy-3', toTag: 'b' }))).toBe('deliver');
    vi.advanceTimersByTime(30_000);
    expect(busy.times).toEqual([500, 1500]);
  });

  it('retransmits a non-2xx final response to INVITE until the ACK (Timer G), then absorbs ACK copies', () => {
    const busy = recorder();
    retransmitter.onIncomingRequest(request('INVITE', 'z9hG4bKg'));
    retransmitter.trackOutgoingResponse(response(486, 'INVITE', 'z9hG4bKg'), busy.resend);
    vi.advanceTimersByTime(11_500);
    expect(busy.times).toEqual([500, 1500, 3500, 7500, 11_500]);
    expect(retransmitter.onIncomingRequest(request('ACK', 'z9hG4bKg'))).toBe('deliver');
    vi.advanceTimersByTime(30_000);
    expect(busy.times).toHaveLength(5);
    expect(retransmitter.onIncomingRequest(request('ACK', 'z9hG4bKg'))).toBe('absorb');
  });

  it('stops every timer on close', () => {
    const invite = recorder();
    retransmitter.trackOutgoingRequest(request('INVITE', 'z9hG4bKclose'), invite.resend);
    retransmitter.close();
    vi.advanceTimersByTime(60_000);
    expect(invite.times).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
