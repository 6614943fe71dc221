import { describe, expect, it } from 'vitest';
import { judgeUpdate } from '../../../adapters/sip/update-request.js';

function update(cseq: number, sdp?: string) {
  return { cseq, body: sdp ?? '', getHeader: (name: string) => (name === 'content-type' && sdp ? 'application/sdp' : undefined) };
}

const ready = { established: true, ownOfferPending: false, highestPeerCSeq: 1 };

describe('UPDATE in a dialog (RFC 3311 section 5.2)', () => {
  it('without SDP is a session refresh, at any time', () => {
    expect(judgeUpdate(update(2), ready)).toEqual({ kind: 'refresh' });
    expect(judgeUpdate(update(2), { ...ready, established: false, ownOfferPending: true })).toEqual({ kind: 'refresh' });
  });

  it('with SDP is an offer once the dialog is stable', () => {
    expect(judgeUpdate(update(2, 'v=0\r\n'), ready)).toEqual({ kind: 'offer', sdp: 'v=0\r\n' });
  });

  it('with SDP gets 491 while our offer is out, 500 + Retry-After while theirs is unanswered', () => {
    expect(judgeUpdate(update(2, 'v=0\r\n'), { ...ready, ownOfferPending: true })).toMatchObject({ kind: 'reject', statusCode: 491 });
    const early = judgeUpdate(update(2, 'v=0\r\n'), { ...ready, established: false });
    expect(early).toMatchObject({ kind: 'reject', statusCode: 500 });
    expect(early.kind === 'reject' && early.extraHeaders[0]).toMatch(/^Retry-After: ([1-9]|10)$/);
  });

  it('with an old CSeq gets 500 (RFC 3261 section 12.2.2)', () => {
    expect(judgeUpdate(update(1), ready)).toMatchObject({ kind: 'reject', statusCode: 500 });
  });
});
