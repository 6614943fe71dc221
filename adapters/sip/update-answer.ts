import type { Core } from 'sip.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { MIN_SESSION_EXPIRES_SECONDS, type RefreshAnswer } from './session-timer.js';
import { judgeUpdate } from './update-request.js';

/** How long an UPDATE's offer may wait for the call's answer before the party gets 500. */
const UPDATE_ANSWER_TIMEOUT_MS = 8000;

/** What answering the party's UPDATEs needs from its SIP leg. */
export interface UpdateAnswerHost {
  /** The dialog as the UPDATE finds it (see UpdateContext); `dialogCSeq` is the highest CSeq sip.js's dialog saw. */
  dialogState(): { established: boolean; ownOfferPending: boolean; dialogCSeq: number };
  /** The session timer's answer to the UPDATE as a refresh (RFC 4028 section 10). */
  answerRefresh(request: Core.IncomingRequestMessage, minSeconds: number): RefreshAnswer;
  /** Hands the UPDATE's offer to the call; resolves with the call's answer. */
  offer(sdp: string): Promise<string>;
}

/** The party's UPDATEs in one dialog (RFC 3311), answered by the adapter as sip.js 0.21 lacks them. */
export class UpdateAnswer {
  /** CSeq of the last UPDATE from the party, which sip.js's dialog does not see. */
  #updateCSeq = 0;

  constructor(private readonly host: UpdateAnswerHost) {}

  /**
   * The party's UPDATE: a session refresh without SDP (RFC 4028 section 10),
   * or an offer, which goes to the call like a re-INVITE's (the anchor answers
   * hold, resume and address changes itself). Resolves with the response.
   */
  async answer(request: Core.IncomingRequestMessage): Promise<Core.ResponseOptions> {
    const { established, ownOfferPending, dialogCSeq } = this.host.dialogState();
    const verdict = judgeUpdate(request, { established, ownOfferPending, highestPeerCSeq: Math.max(dialogCSeq, this.#updateCSeq) });
    if (verdict.kind === 'reject') return verdict;
    this.#updateCSeq = request.cseq;
    const refresh = this.host.answerRefresh(request, MIN_SESSION_EXPIRES_SECONDS);
    if (refresh.kind === 'too-small') {
      return { statusCode: 422, reasonPhrase: 'Session Interval Too Small', extraHeaders: [`Min-SE: ${refresh.minSeconds}`] };
    }
    if (verdict.kind === 'refresh') return { statusCode: 200, extraHeaders: refresh.headers };
    const answer = this.host.offer(verdict.sdp);
    const sdp = await Promise.race([answer, sleep(UPDATE_ANSWER_TIMEOUT_MS, undefined, { ref: false })]);
    if (sdp === undefined) return { statusCode: 500, reasonPhrase: 'No Answer From Media', extraHeaders: ['Retry-After: 5'] };
    return {
      statusCode: 200,
      extraHeaders: refresh.headers,
      body: { contentDisposition: 'session', contentType: 'application/sdp', content: sdp },
    };
  }
}
