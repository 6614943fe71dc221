/**
 * RFC 3261 section 17.1.1.1 / table 4 timer base values. T1 is the round-trip
 * estimate, T2 the cap on non-INVITE request and response retransmission
 * intervals, T4 the time a message may stay in the network. Everything else
 * (Timer B, F, H, J = 64*T1...) derives from them.
 */
export interface SipTimerValues {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
}

export const DEFAULT_SIP_TIMERS: SipTimerValues = { t1: 500, t2: 4000, t4: 5000 };

/** 64*T1: Timer B, F, H and (for UDP) J, the life of a transaction. */
export function transactionTimeout(timers: SipTimerValues): number {
  return 64 * timers.t1;
}
