import { ExpiringMap } from './expiring-map.js';
import { RetransmissionSchedule } from './retransmission-schedule.js';
import type { PeekedRequest, PeekedResponse } from './sip-message-peek.js';
import { serverTransactionKey } from './server-transaction-key.js';
import { DEFAULT_SIP_TIMERS, transactionTimeout, type SipTimerValues } from './sip-timers.js';

/**
 * The RFC 3261 section 17 reliability work over UDP that sip.js leaves out
 * (its transactions carry FIXMEs for Timers A, E and G, and it runs Timers D,
 * I, J and K at zero as if every transport were reliable). The hub calls it
 * for every message it sends or receives on UDP; `resend` callbacks put the
 * exact same bytes on the wire again. What it does:
 * - client side: Timer A (INVITE) and Timer E (non-INVITE, CANCEL included)
 *   request retransmission; never ACK (section 17.1.1.3);
 * - client side: absorbs retransmitted final responses after the transaction
 *   completed (Timer D for INVITE, resending the cached ACK as section
 *   17.1.1.2 asks; Timer K for non-INVITE);
 * - server side: absorbs retransmitted requests, answering with the last
 *   response sent (sections 17.2.1, 17.2.2), so sip.js, whose server
 *   transactions are already gone, never sees a retransmission as a new request;
 * - server side: Timer G, retransmitting a non-2xx final response to INVITE
 *   until the ACK, given up at Timer H;
 * - optionally the 2xx retransmission of section 13.3.1.4 (off by default:
 *   sip.js's SessionDialog already does it, on every transport).
 */

export type Verdict = 'deliver' | 'absorb';

export interface UdpRetransmitterOptions {
  readonly timers?: SipTimerValues;
  /** Retransmit 2xx responses to INVITE until the ACK (RFC 3261 section 13.3.1.4). */
  readonly retransmit2xx?: boolean;
  /** Bound of each table. */
  readonly maxEntries?: number;
}

export interface RetransmitterCounters {
  /** Messages put on the wire again by a timer or in answer to a retransmitted request. */
  retransmissionsSent: number;
  /** Retransmitted requests and responses kept from sip.js. */
  retransmissionsAbsorbed: number;
}

interface ServerTransaction {
  lastResponse: (() => void) | undefined;
  acked: boolean;
  /** Timer G, while a non-2xx final response to INVITE waits for its ACK. */
  timerG: RetransmissionSchedule | undefined;
}

export class UdpRetransmitter {
  readonly counters: RetransmitterCounters = { retransmissionsSent: 0, retransmissionsAbsorbed: 0 };
  readonly #timers: SipTimerValues;
  readonly #retransmit2xx: boolean;
  /** branch|method -> Timer A/E schedule of a request we sent. */
  readonly #requests: ExpiringMap<string, RetransmissionSchedule>;
  /** branch|method of non-INVITE requests that got their final response (Timer K). */
  readonly #completedRequests: ExpiringMap<string, true>;
  /** branch of INVITEs that got a non-2xx final response -> the ACK to resend (Timer D). */
  readonly #rejectedInvites: ExpiringMap<string, { ack: (() => void) | undefined }>;
  /** serverTransactionKey()|method (RFC 3261 section 17.2.3) of requests we received. */
  readonly #serverTransactions: ExpiringMap<string, ServerTransaction>;
  /** serverTransactionKey() of ACKs received, to absorb their retransmissions. */
  readonly #acks: ExpiringMap<string, true>;
  /** Call-ID|CSeq number -> 2xx retransmission waiting for the ACK. */
  readonly #acceptedInvites: ExpiringMap<string, RetransmissionSchedule>;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: UdpRetransmitterOptions = {}) {
    this.#timers = options.timers ?? DEFAULT_SIP_TIMERS;
    this.#retransmit2xx = options.retransmit2xx ?? false;
    const maxEntries = options.maxEntries ?? 20_000;
    const stopSchedule = (_key: string, schedule: RetransmissionSchedule) => schedule.stop();
    this.#requests = new ExpiringMap({ maxEntries, onRemove: stopSchedule });
    this.#completedRequests = new ExpiringMap({ maxEntries });
    this.#rejectedInvites = new ExpiringMap({ maxEntries });
    this.#serverTransactions = new ExpiringMap({ maxEntries, onRemove: (_key, transaction) => transaction.timerG?.stop() });
    this.#acks = new ExpiringMap({ maxEntries });
    this.#acceptedInvites = new ExpiringMap({ maxEntries, onRemove: stopSchedule });
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(this.#timers.t4, 1000));
    this.#sweeper.unref?.();
  }

  /** A request we are about to send (or just sent) for the first time. */
  trackOutgoingRequest(request: PeekedRequest, resend: () => void): void {
    const branch = request.topVia?.branch;
    if (!branch) return;
    if (request.method === 'ACK') {
      // The ACK of a non-2xx final response shares the INVITE's branch (RFC 3261 section 17.1.1.3).
      const rejected = this.#rejectedInvites.get(branch);
      if (rejected) rejected.ack = resend;
      return;
    }
    const key = `${branch}|${request.method}`;
    const invite = request.method === 'INVITE';
    const lifetime = transactionTimeout(this.#timers);
    const schedule = new RetransmissionSchedule({
      resend: () => {
        this.counters.retransmissionsSent++;
        resend();
      },
      firstInterval: this.#timers.t1,
      cap: invite ? Infinity : this.#timers.t2,
      giveUpAfter: lifetime,
      onGiveUp: () => this.#requests.delete(key),
    });
    this.#requests.set(key, schedule, lifetime);
  }

  /** Stops retransmitting a request whose server was given up on (the hub tries the next one, RFC 3263 section 4.3). */
  forgetOutgoingRequest(branch: string, method: string): void {
    this.#requests.delete(`${branch}|${method}`);
  }

  /** A response that arrived; 'absorb' means sip.js must not see it. */
  onIncomingResponse(response: PeekedResponse): Verdict {
    const branch = response.topVia?.branch;
    const method = response.cseq?.method;
    if (!branch || !method) return 'deliver';
    const key = `${branch}|${method}`;
    const schedule = this.#requests.get(key);
    if (method === 'INVITE') {
      // Any response stops Timer A (RFC 3261 section 17.1.1.2).
      if (schedule) this.#requests.delete(key);
      if (response.status < 300) return 'deliver';
      const rejected = this.#rejectedInvites.get(branch);
      if (!rejected) {
        this.#rejectedInvites.set(branch, { ack: undefined }, transactionTimeout(this.#timers));
        return 'deliver';
      }
      // A retransmitted non-2xx final response: our ACK was lost. Resend it (Timer D state).
      this.counters.retransmissionsAbsorbed++;
      if (rejected.ack) {
        this.counters.retransmissionsSent++;
        rejected.ack();
      }
      return 'absorb';
    }
    if (response.status < 200) {
      schedule?.holdAt(this.#timers.t2);
      return 'deliver';
    }
    if (schedule) {
      this.#requests.delete(key);
      this.#completedRequests.set(key, true, this.#timers.t4);
      return 'deliver';
    }
    if (this.#completedRequests.has(key)) {
      this.counters.retransmissionsAbsorbed++;
      return 'absorb';
    }
    return 'deliver';
  }

  /** A request that arrived; 'absorb' means it is a retransmission already handled here. */
  onIncomingRequest(request: PeekedRequest): Verdict {
    const transactionKey = serverTransactionKey(request);
    if (!transactionKey) return 'deliver';
    if (request.method === 'ACK') return this.#onIncomingAck(request, transactionKey);
    const key = `${transactionKey}|${request.method}`;
    const transaction = this.#serverTransactions.get(key);
    if (!transaction) {
      const fresh: ServerTransaction = { lastResponse: undefined, acked: false, timerG: undefined };
      this.#serverTransactions.set(key, fresh, transactionTimeout(this.#timers));
      return 'deliver';
    }
    this.counters.retransmissionsAbsorbed++;
    if (transaction.lastResponse) {
      this.counters.retransmissionsSent++;
      transaction.lastResponse();
    }
    return 'absorb';
  }

  /** A response we are about to send (or just sent) to a request received on UDP. */
  trackOutgoingResponse(response: PeekedResponse, resend: () => void): void {
    const transactionKey = serverTransactionKey(response);
    const method = response.cseq?.method;
    if (!transactionKey || !method) return;
    const key = `${transactionKey}|${method}`;
    const lifetime = transactionTimeout(this.#timers);
    const transaction = this.#serverTransactions.get(key) ?? { lastResponse: undefined, acked: false, timerG: undefined };
    transaction.lastResponse = resend;
    this.#serverTransactions.set(key, transaction, lifetime);
    if (method !== 'INVITE' || response.status < 200) return;
    if (response.status >= 300) {
      if (transaction.acked || transaction.timerG) return;
      transaction.timerG = this.#retransmitUntilAck(resend, () => (transaction.timerG = undefined));
      return;
    }
    const dialogKey = response.callId && response.cseq ? `${response.callId}|${response.cseq.sequence}` : undefined;
    if (!this.#retransmit2xx || !dialogKey || this.#acceptedInvites.has(dialogKey)) return;
    const schedule = this.#retransmitUntilAck(resend, () => this.#acceptedInvites.delete(dialogKey));
    this.#acceptedInvites.set(dialogKey, schedule, lifetime);
  }

  close(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const table of [this.#requests, this.#completedRequests, this.#rejectedInvites, this.#serverTransactions, this.#acks, this.#acceptedInvites]) {
      (table as ExpiringMap<string, unknown>).clear();
    }
  }

  #onIncomingAck(request: PeekedRequest, transactionKey: string): Verdict {
    // The client resends its ACK for every final response retransmission it sees (17.1.1.3).
    if (this.#acks.has(transactionKey)) {
      this.counters.retransmissionsAbsorbed++;
      return 'absorb';
    }
    this.#acks.set(transactionKey, true, transactionTimeout(this.#timers));
    const invite = this.#serverTransactions.get(`${transactionKey}|INVITE`);
    if (invite) {
      invite.acked = true;
      invite.timerG?.stop();
      invite.timerG = undefined;
    }
    if (request.callId && request.cseq) this.#acceptedInvites.delete(`${request.callId}|${request.cseq.sequence}`);
    return 'deliver';
  }

  /** T1 doubling to T2, until the ACK or 64*T1 (Timer G/H, and section 13.3.1.4 for 2xx). */
  #retransmitUntilAck(resend: () => void, onGiveUp: () => void): RetransmissionSchedule {
    return new RetransmissionSchedule({
      resend: () => {
        this.counters.retransmissionsSent++;
        resend();
      },
      firstInterval: this.#timers.t1,
      cap: this.#timers.t2,
      giveUpAfter: transactionTimeout(this.#timers),
      onGiveUp,
    });
  }

  #sweep(): void {
    this.#requests.sweep();
    this.#completedRequests.sweep();
    this.#rejectedInvites.sweep();
    this.#serverTransactions.sweep();
    this.#acks.sweep();
    this.#acceptedInvites.sweep();
  }
}
